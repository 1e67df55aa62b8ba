// netlab node: a running lab's nodes stopped, started, restarted and killed in place.
#include <chrono>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "base/error.hpp"
#include "nsmgr/node_control.hpp"
#include "nsmgr/node_keeper.hpp"
#include "tools/cli.hpp"
#include "tools/output.hpp"

namespace netlab::tools {
namespace {

struct NodeOptions {
  std::string lab;
  std::vector<std::string> nodes;
};

// "r1 stopped", "r1 started (pid 4242)", "r2 already running (pid 4243)".
std::string describe(const nsmgr::NodeActionResult& result, bool starts) {
  if (result.exited) return result.node + " had exited (its init died by itself)";
  if (!starts) return result.node + (result.changed ? " stopped" : " already stopped");
  return fmt::format("{} {} (pid {})", result.node, result.changed ? "started" : "already running",
                     result.pid);
}

void defineAction(CLI::App& command, Action& action, nsmgr::NodeAction nodeAction) {
  auto options = std::make_shared<NodeOptions>();
  command.add_option("node", options->nodes, "Node names, or globs such as 'r*'")->required();
  addLabArgument(command, options->lab, "--lab");
  action = [options, nodeAction, name = command.get_name()] {
    const std::string verb = "node " + name;
    requireLabAccess(verb.c_str());
    const std::string lab = chooseLab(options->lab);
    const auto began = std::chrono::steady_clock::now();
    auto results = withContext(verb, [&] { return changeNodes(lab, options->nodes, nodeAction); });
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    const bool starts =
        nodeAction == nsmgr::NodeAction::Start || nodeAction == nsmgr::NodeAction::Restart;
    for (const auto& result : results) std::cout << describe(result, starts) << '\n';
    std::cout << fmt::format("{} in {:.3f} s\n", verb, seconds);
    return kExitOk;
  };
}

}  // namespace

Action defineNode(CLI::App& command) {
  command.footer(
      "A stopped node keeps its place: its interfaces (names, MACs, ifindexes) and links stay,\n"
      "down, so its peers see carrier go; `start` boots it as `up` did. A node whose init\n"
      "died by itself (`exited` in `netlab status`) starts with its links made again.\n"
      "See docs/nodes.md.\n"
      "Examples:\n"
      "  netlab node stop r1\n"
      "  netlab node start r1\n"
      "  netlab node restart --lab ospf 'r*'\n"
      "  netlab node kill r2");
  Subcommands subcommands(command);
  auto add = [&](const char* name, const char* summary, nsmgr::NodeAction nodeAction) {
    subcommands.add(name, summary, [nodeAction](CLI::App& sub, Action& action) {
      defineAction(sub, action, nodeAction);
    });
  };
  add("stop", "Stop nodes (SIGTERM, 3 s, SIGKILL), keeping their links", nsmgr::NodeAction::Stop);
  add("start", "Boot stopped (or exited) nodes again as `up` did", nsmgr::NodeAction::Start);
  add("restart", "Stop, then start nodes", nsmgr::NodeAction::Restart);
  add("kill", "Kill nodes at once (SIGKILL, no grace), keeping their links",
      nsmgr::NodeAction::Kill);
  return subcommands.action();
}

Action defineKeep(CLI::App& command) {
  command.group("");  // hidden: netlab starts it itself, with the fds it expects
  auto lab = std::make_shared<std::string>();
  command.add_option("lab-directory", *lab, "The lab's state directory")->required();
  return [lab] { return nsmgr::runNodeKeeper(*lab); };
}

}  // namespace netlab::tools
