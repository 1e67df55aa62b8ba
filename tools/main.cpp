// netlab: virtual network labs out of Linux namespaces.
#include <unistd.h>

#include <iostream>
#include <map>
#include <string_view>

#include "base/error.hpp"
#include "base/helper_program.hpp"
#include "base/version.hpp"
#include "nsmgr/node_keeper.hpp"
#include "tools/cli.hpp"

namespace {

using netlab::tools::Verb;

constexpr Verb kVerbs[] = {
    {"validate", "Check a topology and report every problem with its location",
     netlab::tools::defineValidate},
    {"plan", "Show the fully resolved lab a topology describes", netlab::tools::definePlan},
    {"graph", "Draw a topology (Graphviz dot or Mermaid)", netlab::tools::defineGraph},
    {"up", "Build and start a lab", netlab::tools::defineUp, nullptr, true},
    {"exec", "Run a command inside one or more nodes", netlab::tools::defineExec,
     "hint: put `--` between the node and a command that has options, e.g.\n"
     "  netlab exec r1 -- ip -br address\n"},
    {"status", "Show a running lab's nodes and interfaces, read live from the kernel",
     netlab::tools::defineStatus},
    {"ls", "List running labs", netlab::tools::defineList},
    {"top", "Show each node's CPU share and memory, live, busiest first", netlab::tools::defineTop},
    {"test", "Run the topology's tests against a running lab", netlab::tools::defineTest},
    {"pingall", "Ping every node's addresses from every other node", netlab::tools::definePingall},
    {"link", "Show, impair, fail and restore a running lab's links", netlab::tools::defineLink},
    {"node", "Stop, start, restart or kill a running lab's nodes in place, links kept",
     netlab::tools::defineNode, nullptr, true},
    {"apply", "Change a running lab into an edited topology, only where they differ",
     netlab::tools::defineApply, nullptr, true},
    {"capture", "Capture packets on a running lab's interfaces (pcapng for Wireshark)",
     netlab::tools::defineCapture},
    {"web", "Serve a live view of the running labs in the browser (and its JSON API)",
     netlab::tools::defineWeb},
    {"down", "Stop a lab and remove everything it made", netlab::tools::defineDown},
    {"image", "Import, list and remove root filesystem images (OCI or docker save archives)",
     netlab::tools::defineImage},
    {"doctor", "Check what this machine lets netlab do, and what is missing",
     netlab::tools::defineDoctor},
    // Hidden from --help: for the shells' completion, the build's manual pages and the keeper
    // of the nodes' exit statuses.
    {"__complete", "Completion candidates for a command line", netlab::tools::defineComplete},
    {"__man", "A manual page in roff", netlab::tools::defineManual},
    {"__keep", "Record how the inits a command started end", netlab::tools::defineKeep},
};

// Whether every verb must be defined, options and all: for netlab's own help, a mistyped verb, and
// the hidden verbs that read the whole table. Otherwise only the verb given is: defining all of
// them (twenty subcommands, some 150 options with their validators and help) is about a sixth of
// a `netlab exec`.
bool needsWholeTable(int argc, char** argv) {
  if (argc < 2 || std::string_view(argv[1]).starts_with("__")) return true;
  for (const Verb& verb : kVerbs) {
    if (verb.name == std::string_view(argv[1])) return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"netlab " NETLAB_VERSION
               " - virtual network labs out of Linux namespaces: every node its own host"};
  app.set_version_flag("--version", "netlab " NETLAB_VERSION);
  app.require_subcommand(1);
  const bool wholeTable = needsWholeTable(argc, argv);
  if (wholeTable) app.footer(netlab::tools::helpFooter(netlab::documentationDirectory()));
  std::map<CLI::App*, netlab::tools::Action> actions;
  std::map<CLI::App*, bool> startsInits;
  std::map<CLI::App*, const char*> hints;
  for (const Verb& verb : kVerbs) {
    if (!wholeTable && verb.name != std::string_view(argv[1])) continue;
    CLI::App* command = app.add_subcommand(verb.name, verb.summary);
    actions[command] = verb.define(*command);
    startsInits[command] = verb.startsInits;
    if (verb.usageHint) {
      hints[command] = verb.usageHint;
      command->footer(verb.usageHint);  // in the verb's --help and manual page too
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    int code = app.exit(error);
    if (code == 0) return 0;
    for (CLI::App* command : app.get_subcommands()) {
      if (hints.count(command)) std::cerr << hints[command];
    }
    return netlab::tools::kExitInvalid;
  }
  CLI::App* command = app.get_subcommands().front();
  try {
    if (startsInits[command]) {
      return netlab::nsmgr::runKeepingInits(
          [&] { return netlab::tools::runReportingFailure(actions.at(command)); });
    }
  } catch (const netlab::Error& error) {
    std::cerr << "netlab: " << error.what() << '\n';
    return netlab::tools::kExitFailure;
  }
  return netlab::tools::runReportingFailure(actions.at(command));
}
