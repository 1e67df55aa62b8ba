// Verbs that build, inspect and remove running labs: up, status, ls, down.
#include <unistd.h>

#include <chrono>
#include <functional>
#include <iostream>

#include <fmt/format.h>

#include "base/error.hpp"
#include "base/phase_timings.hpp"
#include "nsmgr/lab.hpp"
#include "nsmgr/limits.hpp"
#include "nsmgr/process.hpp"
#include "nsmgr/rootless.hpp"
#include "nsmgr/signals.hpp"
#include "report/report_json.hpp"
#include "tools/cli.hpp"
#include "tools/output.hpp"
#include "topo/units.hpp"

namespace netlab::tools {
namespace {

// Labs larger than this get a summary line instead of a table of every node.
constexpr size_t kMaxNodesInSummary = 40;
constexpr size_t kProgressFromNodes = 50;

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string addressesOf(const topo::Interface& interface) {
  std::vector<std::string> addresses;
  for (const auto& address : interface.addresses) addresses.push_back(toString(address));
  return join(addresses, " ");
}

std::string summaryTable(const nsmgr::LabState& state) {
  Table table({"NODE", "KIND", "PID", "INTERFACE", "ADDRESSES", "PEER"});
  for (size_t i = 0; i < state.plan.nodes.size(); ++i) {
    const topo::Node& node = state.plan.nodes[i];
    std::string pid = std::to_string(state.nodes[i].pid);
    std::vector<std::string> loopbacks;
    for (const auto& address : node.loopbackAddresses) loopbacks.push_back(toString(address));
    table.add(
        {node.name, std::string(topo::toString(node.kind)), pid, "lo", join(loopbacks, " "), ""});
    for (const auto& interface : node.interfaces) {
      table.add({"", "", "", interface.name, addressesOf(interface),
                 interface.peerNode + ":" + interface.peerInterface});
    }
  }
  return table.render();
}

// Progress on a terminal, for labs big enough to take a while.
nsmgr::ProgressFn progressPrinter(size_t nodes) {
  if (nodes < kProgressFromNodes || !isTerminal(STDERR_FILENO)) return {};
  return [](const std::string& stage, size_t done, size_t total) {
    if (done % 50 != 0 && done != total) return;
    std::cerr << fmt::format("\r{}: {}/{}   ", stage, done, total) << (done == total ? "\n" : "")
              << std::flush;
  };
}

// Each phase's wall time, then their total.
std::string timingsTable(const PhaseTimings& timings) {
  Table table({"phase", "seconds"});
  double total = 0;
  for (const auto& [phase, seconds] : timings.phases()) {
    table.add({phase, fmt::format("{:.3f}", seconds)});
    total += seconds;
  }
  table.add({"total", fmt::format("{:.3f}", total)});
  return table.render();
}

}  // namespace

// Where the nodes' task limit lives, or why there is none.
void reportPidsLimit(const nsmgr::LabState& state, uint32_t asked) {
  if (asked == 0) return;
  if (state.pidsLimitedBy.empty() && nsmgr::rootless()) {
    std::cerr << "netlab: without root, nodes have cgroups of their own only below a cgroup v2 "
                 "cgroup delegated to you that holds no other process (docs/rootless.md): nodes "
                 "have no task limit\n";
    return;
  }
  if (state.pidsLimitedBy.empty()) {
    std::cerr << "netlab: no pids controller here (none enabled in cgroup v2 for netlab's cgroup, "
                 "no cgroup v1 pids hierarchy): nodes have no task limit\n";
    return;
  }
  if (!state.plan.nodes.empty()) {
    std::cout << fmt::format("each node may have {} tasks ({} pids controller)\n", state.pidsLimit,
                             state.pidsLimitedBy);
  }
}

Action defineUp(CLI::App& command) {
  struct Options {
    std::string topology, lab;
    bool quiet = false, timings = false;
    uint32_t pidsLimit = nsmgr::kDefaultNodePidsLimit;
  };
  auto options = std::make_shared<Options>();
  command.add_option("topology", options->topology, "Topology file (JSON)")
      ->required()
      ->check(CLI::ExistingFile);
  command.add_option("--lab", options->lab, "Lab name (default: the topology's name)");
  command.add_flag("-q,--quiet", options->quiet, "Print only the summary line");
  command
      .add_option("--pids-limit", options->pidsLimit,
                  "Tasks (processes and threads) each node may have, through its cgroup; 0 for "
                  "no limit")
      ->capture_default_str()
      ->check(CLI::Range(0u, 4194304u));
  command.add_flag("--timings", options->timings,
                   "Print how long each phase took (reading the topology, starting nodes, "
                   "creating links, configuring, waiting for carriers, ...)");
  return [options] {
    PhaseTimings timings;
    requireLabAccess("up");
    auto plan = loadPlan(options->topology, options->lab);
    if (!plan) return kExitInvalid;
    timings.phaseDone("read topology");
    auto refuse = [](const std::vector<std::string>& refusals) {
      for (const auto& refusal : refusals) std::cerr << "netlab: " << refusal << '\n';
      return !refusals.empty();
    };
    if (refuse(nsmgr::rootlessRefusals(*plan))) return kExitInvalid;
    if (size_t shared = nsmgr::shareHostRootWithoutPrivilege(*plan)) {
      std::cerr << fmt::format(
          "netlab: note: without root, {} of the lab's nodes share the host's root filesystem "
          "instead of an overlay of their own (the kernel overlays no filesystem with mounts on "
          "it for an ordinary user); an \"image\" gives a node a root of its own\n",
          shared);
    }
    // Before any thread: a process with more than one cannot make a user namespace its own.
    // Nothing of the lab exists yet, only netlab's own namespace, which goes with it.
    const nsmgr::LabMapping mapping = nsmgr::enterNewLabUserNamespace();
    if (refuse(nsmgr::singleIdRefusals(*plan, mapping))) return kExitInvalid;
    if (!mapping.singleIdReason.empty()) {
      std::cerr << "netlab: note: the lab maps your own id alone (" << mapping.singleIdReason
                << "): no process in its nodes can switch to another user\n";
    }
    for (const auto& warning :
         nsmgr::neighbourTableWarnings(nsmgr::readNeighbourTables(), nsmgr::neighboursOf(*plan))) {
      std::cerr << "netlab: warning: " << warning << '\n';
    }
    timings.phaseDone("map ids, check limits");
    // Held until netlab exits: bringUp turns one into a rollback while it still can; a later
    // one must not kill netlab with the lab complete, before its report or after it.
    nsmgr::holdInterruptionsUntilExit();
    auto start = std::chrono::steady_clock::now();
    nsmgr::LabState state = withContext("bringing up lab `" + plan->name + "`", [&] {
      return nsmgr::bringUp(*plan,
                            {progressPrinter(plan->nodes.size()), options->pidsLimit, &timings});
    });
    double seconds = secondsSince(start);
    size_t interfaces = 0, addresses = 0;
    for (const auto& node : plan->nodes) {
      interfaces += node.interfaces.size();
      addresses += node.loopbackAddresses.size();
      for (const auto& interface : node.interfaces) addresses += interface.addresses.size();
    }
    if (!options->quiet && plan->nodes.size() <= kMaxNodesInSummary)
      std::cout << summaryTable(state);
    std::cout << fmt::format("lab `{}` is up: {} nodes, {} interfaces, {} addresses in {:.3f} s\n",
                             plan->name, plan->nodes.size(), interfaces, addresses, seconds);
    if (!options->quiet) reportPidsLimit(state, options->pidsLimit);
    if (options->timings) std::cout << timingsTable(timings);
    return kExitOk;
  };
}

// Nodes that outlived SIGKILL or could not be identified keep the lab (and their records): said
// on stderr, with the way on.
void reportKeptNodes(const std::string& lab, const nsmgr::DownResult& result) {
  std::cerr << fmt::format("netlab: lab `{}` is not down: {} nodes stopped, but\n", lab,
                           result.nodesStopped);
  for (const auto& node : result.survivors) {
    std::cerr << fmt::format(
        "  node {} (pid {}) is still alive after SIGKILL (in uninterruptible sleep or a "
        "frozen cgroup?)\n",
        node.name, node.pid);
  }
  for (const auto& node : result.unidentified) {
    std::cerr << fmt::format("  node {} cannot be identified, so it was not signalled: {}\n",
                             node.name, node.reason);
  }
  std::cerr << fmt::format("their records are kept: run `netlab down {}` again once they can die",
                           lab);
  if (!result.unidentified.empty()) {
    std::cerr << fmt::format(
        ", or `netlab down --force {}` to remove the lab's state once you "
        "have made sure they are gone",
        lab);
  }
  std::cerr << "\n";
}

namespace {

int takeDownLab(const std::string& lab, const nsmgr::DownOptions& options) {
  auto start = std::chrono::steady_clock::now();
  nsmgr::DownResult result =
      withContext("taking down lab `" + lab + "`", [&] { return nsmgr::tearDown(lab, options); });
  if (!result.existed) {
    std::cout << fmt::format("lab `{}` is not running: nothing to do\n", lab);
  } else if (!result.survivors.empty() || (!result.unidentified.empty() && !options.force)) {
    reportKeptNodes(lab, result);
    return kExitFailure;
  } else {
    std::cout << fmt::format("lab `{}` is down: {} nodes stopped, state removed in {:.3f} s\n", lab,
                             result.nodesStopped, secondsSince(start));
    if (options.timings) std::cout << timingsTable(*options.timings);
  }
  return kExitOk;
}

// Runs work in a child process (netlab has one thread here, so the child is a whole copy) and
// returns its exit status; an error in it is printed there, as main would.
int inOwnProcess(const std::function<int()>& work) {
  std::cout.flush();
  std::cerr.flush();
  const pid_t pid = ::fork();
  if (pid < 0) throw SystemError("fork", "a process to enter a lab's user namespace");
  if (pid == 0) {
    int code = kExitFailure;
    try {
      code = work();
    } catch (const Error& error) {
      std::cerr << "netlab: " << error.what() << '\n';
    }
    std::cout.flush();
    std::cerr.flush();
    ::_exit(code);
  }
  return nsmgr::exitCodeOf(nsmgr::waitForChild(pid));
}

}  // namespace

Action defineDown(CLI::App& command) {
  struct Options {
    std::string lab;
    bool all = false, timings = false;
    nsmgr::DownOptions down;
  };
  auto options = std::make_shared<Options>();
  addLabArgument(command, options->lab);
  command.add_flag("--all", options->all, "Take down every running lab");
  command.add_flag("--force", options->down.force,
                   "Remove the lab's state even where a node's record cannot identify it (such a "
                   "node is never signalled: make sure it is gone first)");
  command.add_flag("--timings", options->timings,
                   "Print how long each phase took (stopping nodes, the kernel removing their "
                   "namespaces, removing the state)");
  return [options] {
    requireLabAccess("down");
    std::vector<std::string> labs =
        options->all ? nsmgr::listLabs() : std::vector<std::string>{chooseLab(options->lab)};
    int status = kExitOk;
    for (const auto& lab : labs) {
      auto takeDown = [&] {
        nsmgr::enterLabUserNamespace(lab);
        PhaseTimings timings;
        nsmgr::DownOptions down = options->down;
        if (options->timings) down.timings = &timings;
        return takeDownLab(lab, down);
      };
      // Without root a process can enter one lab's user namespace only: each lab but a single
      // one is taken down by a process of its own.
      const int labStatus =
          nsmgr::rootless() && labs.size() > 1 ? inOwnProcess(takeDown) : takeDown();
      if (labStatus != kExitOk) status = kExitFailure;
    }
    return status;
  };
}

Action defineStatus(CLI::App& command) {
  struct Options {
    std::string lab, format;
  };
  auto options = std::make_shared<Options>();
  addLabArgument(command, options->lab);
  addFormatOption(command, options->format, {"table", "json"});
  return [options] {
    requireLabAccess("status");
    nsmgr::LabStatus status = nsmgr::labStatus(chooseAndEnterLab(options->lab));
    if (options->format == "json") {
      std::cout << report::labStatusToJson(status);
      return kExitOk;
    }
    Table table({"NODE", "KIND", "STATE", "PID", "CPU", "MEMORY", "INTERFACE", "OPER", "ADDRESSES",
                 "EGRESS"});
    for (const auto& node : status.nodes) {
      table.add({node.name, std::string(topo::toString(node.kind)), nsmgr::stateDescription(node),
                 std::to_string(node.pid), formatCpuTime(node.usage.cpuNanoseconds),
                 formatMemory(node.usage.memoryBytes), "", "", "", ""});
      for (const auto& interface : node.interfaces) {
        table.add({"", "", "", "", "", "", interface.name, interface.operState,
                   join(interface.addresses, " "), topo::describeImpairment(interface.egress)});
      }
    }
    std::cout << "lab " << status.name << " (" << status.sourceFile << ")\n" << table.render();
    return kExitOk;
  };
}

Action defineList(CLI::App& command) {
  auto format = std::make_shared<std::string>();
  addFormatOption(command, *format, {"table", "json"});
  return [format] {
    requireLabAccess("ls");
    std::vector<nsmgr::LabStatus> labs;
    for (const auto& lab : nsmgr::listLabs()) {
      try {
        // Without root only one lab's namespaces could be entered: the nodes' processes say
        // whether they run.
        labs.push_back(nsmgr::labStatus(lab, nsmgr::rootless() ? nsmgr::StatusDetail::Summary
                                                               : nsmgr::StatusDetail::Interfaces));
      } catch (const Error& error) {
        // A lab whose bring-up crashed has no state yet; it is listed so `down` can be run.
        labs.push_back({lab, "(no state: " + std::string(error.what()) + ")", 0, {}});
      }
    }
    if (*format == "json") {
      std::cout << report::labListToJson(labs);
      return kExitOk;
    }
    Table table({"LAB", "NODES", "RUNNING", "TOPOLOGY"});
    for (const auto& lab : labs) {
      size_t running = 0;
      for (const auto& node : lab.nodes) running += node.running ? 1 : 0;
      table.add(
          {lab.name, std::to_string(lab.nodes.size()), std::to_string(running), lab.sourceFile});
    }
    std::cout << table.render();
    return kExitOk;
  };
}

}  // namespace netlab::tools
