// Bringing a lab up, as the checklist the kernel needs:
//   1. state directory, /etc/hosts, each node's files
//   2. nodes: clone with every namespace flag, maps, per-namespace defaults, switch bridges
//   3. links: every veth pair born in its two namespaces under its final names
//   4. every node's own setup done (mounts, hostname)
//   5. inside each node: sysctls, IPv6 link-locals where wanted, lo and links up, addresses,
//      routes; startup commands
//   6. state recorded, nodes detached
// Any error or interruption unwinds: the nodes are killed (their namespaces take every link and
// address with them) and the state directory is removed.
#include <fcntl.h>
#include <linux/if_link.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/if.h>

#include <chrono>
#include <ctime>
#include <future>
#include <thread>

#include "base/error.hpp"
#include "netlink/session.hpp"
#include "nsmgr/cgroups.hpp"
#include "nsmgr/lab.hpp"
#include "nsmgr/lab_dir.hpp"
#include "nsmgr/lab_state.hpp"
#include "nsmgr/limits.hpp"
#include "nsmgr/namespaces.hpp"
#include "nsmgr/node_process.hpp"
#include "nsmgr/node_record.hpp"
#include "nsmgr/node_setup.hpp"
#include "nsmgr/parallel.hpp"
#include "nsmgr/process.hpp"
#include "nsmgr/run_in_node.hpp"
#include "nsmgr/signals.hpp"
#include "nsmgr/state_file.hpp"
#include "nsmgr/wiring.hpp"

namespace netlab::nsmgr {
namespace {

constexpr size_t kLogTailLines = 10;
constexpr auto kCarrierTimeout = std::chrono::seconds(10);

// A node's /proc/sys, as its init mounted it. Its sysctls are written through it rather than
// through netlab's /proc: there, each sysctl file would have one dentry per node's namespace on
// a single hash chain, which every lookup walks, so a lab would cost the square of its size.
std::string procSysOf(pid_t node) {
  return "/proc/" + std::to_string(node) + "/root/proc/sys/";
}

// Writes <procSys>/<relative> for the calling thread's network namespace.
void writeProcSys(const std::string& procSys, const std::string& relative,
                  const std::string& value) {
  std::string path = procSys + relative;
  withContext("writing " + value + " to " + path, [&] { writeWholeFile(path, value); });
}

void writeSysctl(const std::string& procSys, const std::string& name, const std::string& value) {
  std::string relative = name;
  std::replace(relative.begin(), relative.end(), '.', '/');
  withContext("sysctl " + name + "=" + value, [&] { writeProcSys(procSys, relative, value); });
}

std::string lastLines(const std::string& text, size_t count) {
  size_t position = text.size();
  if (position > 0 && text[position - 1] == '\n') --position;
  for (size_t lines = 0; position > 0; --position) {
    if (text[position - 1] == '\n' && ++lines == count) break;
  }
  return text.substr(position);
}

class LabBuild {
 public:
  LabBuild(const topo::Plan& plan, const UpOptions& options)
      : plan_(plan),
        wiring_(plan),
        options_(options),
        directory_(LabDirectory::create(plan.name)) {}

  ~LabBuild() {
    if (committed_) return;
    nodes_.clear();  // kills and reaps every node started so far
    try {
      removeLabCgroups(directory_);
      directory_.remove();
    } catch (const Error&) {
      // The error that caused the rollback is the one worth reporting.
    }
  }

  nsmgr::LabState run(Interruption& interruption) {
    prepareFiles();
    interruption.check();
    startNodes();
    std::future<RecordedState> recorded = serializeState();
    interruption.check();
    createLinks();
    interruption.check();
    awaitNodesReady();
    keepDumpable();
    configureNodes();
    awaitCarrier();
    interruption.check();
    runStartupCommands();
    nsmgr::LabState state = recordState(recorded.get());
    // The last moment a signal can still undo the lab: after it, the lab is up and stays up.
    interruption.check();
    for (auto& node : nodes_) detachNode(node);
    committed_ = true;
    return state;
  }

 private:
  void progress(const std::string& stage, size_t done, size_t total) const {
    if (options_.progress) options_.progress(stage, done, total);
  }

  void prepareFiles() {
    directory_.makeDirectory("nodes");
    cgroups_.emplace(directory_, plan_.name, options_.pidsLimit);
    const std::string hosts = hostsFileFor(plan_);
    setups_.reserve(plan_.nodes.size());
    for (const auto& node : plan_.nodes) {
      setups_.push_back(prepareNodeSetup(node, directory_, hosts));
    }
    nodes_.resize(plan_.nodes.size());
    startTimes_.resize(plan_.nodes.size());
  }

  // Each worker keeps a netlink socket in a scratch namespace of its own for requests that
  // name their target namespaces explicitly (bridges, veth pairs).
  static netlink::Session scratchSession() {
    enterScratchNetworkNamespace();
    return netlink::Session::openInCurrentNamespace();
  }

  // What each worker starting nodes needs; made before the worker starts any node.
  struct NodeStarter {
    netlink::Session session = scratchSession();
    NodeLauncher launcher;
  };

  void startNodes() {
    std::atomic<size_t> started{0};
    auto makeStarter = [] { return NodeStarter(); };
    parallelFor(plan_.nodes.size(), makeStarter, [&](NodeStarter& starter, size_t i) {
      const topo::Node& node = plan_.nodes[i];
      withContext("starting node " + node.name, [&] {
        const NodeCgroups cgroups = cgroups_->makeNode(node.name);
        nodes_[i] = starter.launcher.start(setups_[i], node.isolatedIds, node.name, &cgroups);
        // Recorded at once: should netlab die now, `down` finds the node by identity and waits
        // for it to end (it would end on its own, but not before `down` returned).
        startTimes_[i] = recordNode(i);
        if (node.kind == topo::NodeKind::Switch) {
          starter.session.execute(wiring_.bridgeCreation(i, nodes_[i].netns.get()));
        }
      });
      progress("starting nodes", ++started, plan_.nodes.size());
    });
  }

  // No IPv6 address waits for duplicate address detection, link-locals included: addresses
  // in a lab are unique by validation. The kernel skips it only where both `all` and the
  // device say so; only nodes with IPv6 links pay for the writes.
  void disableDuplicateAddressDetection(size_t i, const std::string& procSys) const {
    const topo::Node& node = plan_.nodes[i];
    if (!wiring_.carriesIpv6(i)) return;
    writeProcSys(procSys, "net/ipv6/conf/all/accept_dad", "0");
    for (const auto& interface : node.interfaces) {
      writeProcSys(procSys, "net/ipv6/conf/" + interface.name + "/accept_dad", "0");
    }
  }

  // Every group may open ICMP datagram sockets, as systemd's distributions set it: `ping` works
  // for any user of a node, and netlab's own reachability checks (nsmgr/icmp_probe) need no
  // raw socket. Switches probe nothing.
  void allowUnprivilegedPing(size_t i, const std::string& procSys) const {
    if (plan_.nodes[i].kind == topo::NodeKind::Switch) return;
    writeProcSys(procSys, "net/ipv4/ping_group_range", "0 2147483647");
  }

  void createLinks() {
    const auto& pairs = wiring_.vethPairs();
    size_t chunks = (pairs.size() + kVethPairsPerBatch - 1) / kVethPairsPerBatch;
    auto netnsOf = [&](size_t node) { return nodes_[node].netns.get(); };
    std::atomic<size_t> created{0};
    parallelFor(chunks, scratchSession, [&](netlink::Session& session, size_t chunk) {
      size_t first = chunk * kVethPairsPerBatch;
      size_t end = std::min(pairs.size(), first + kVethPairsPerBatch);
      session.execute(wiring_.vethPairCreation(first, end, netnsOf));
      progress("creating links", created += end - first, pairs.size());
    });
  }

  // Sysctls for every node first, then every node's netlink requests. A forwarding sysctl
  // takes rtnl only if it is free, and otherwise restarts its write at once: beside another
  // worker's netlink requests, which hold rtnl nearly throughout, it would spin.
  void configureNodes() {
    parallelFor(plan_.nodes.size(), [&](size_t i) {
      const topo::Node& node = plan_.nodes[i];
      withContext("configuring node " + node.name, [&] {
        enterNetworkNamespace(nodes_[i].netns, "node " + node.name);
        std::string procSys = procSysOf(nodes_[i].process.pid());
        disableDuplicateAddressDetection(i, procSys);
        allowUnprivilegedPing(i, procSys);
        for (const auto& [name, value] : node.sysctls) writeSysctl(procSys, name, value);
      });
    });
    std::atomic<size_t> configured{0};
    parallelFor(plan_.nodes.size(), [&](size_t i) {
      const topo::Node& node = plan_.nodes[i];
      withContext("configuring node " + node.name, [&] {
        enterNetworkNamespace(nodes_[i].netns, "node " + node.name);
        netlink::Session session = netlink::Session::openInCurrentNamespace();
        session.execute(wiring_.nodeConfiguration(i));
      });
      progress("configuring nodes", ++configured, plan_.nodes.size());
    });
  }

  // A link carries traffic once the kernel's link watcher has seen its carrier and given it a
  // queue (until then it drops what it is handed); veth events are urgent for the watcher, so
  // this takes moments, but `up` returns only when every link can be used.
  void awaitCarrier() {
    parallelFor(plan_.nodes.size(), [&](size_t i) {
      const topo::Node& node = plan_.nodes[i];
      withContext("waiting for the links of node " + node.name, [&] {
        enterNetworkNamespace(nodes_[i].netns, "node " + node.name);
        netlink::Session session = netlink::Session::openInCurrentNamespace();
        auto deadline = std::chrono::steady_clock::now() + kCarrierTimeout;
        for (std::string down = linksNotUp(session); !down.empty(); down = linksNotUp(session)) {
          if (std::chrono::steady_clock::now() > deadline) throw Error(down + " did not come up");
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
      });
    });
    // The namespaces are fully wired: the fds would only keep dead namespaces alive.
    for (auto& node : nodes_) node.netns.reset();
  }

  // The links of the namespace that are not operationally up yet, named for a message.
  static std::string linksNotUp(netlink::Session& session) {
    std::string down;
    for (const auto& link : session.dumpLinks()) {
      // A bridge forwards between its ports whatever its own operational state, which the
      // link watcher may take a second to update: only the veths are waited for.
      if (link.kind != "veth" || link.operState == IF_OPER_UP) continue;
      down += (down.empty() ? "" : ", ") + link.name + " (" +
              netlink::operStateName(link.operState) + ")";
    }
    return down;
  }

  // An isolated node changes its ids while it still shares netlab's memory, and the kernel then
  // marks that memory (netlab's) as not dumpable; every node has exec'd by now.
  static void keepDumpable() { ::prctl(PR_SET_DUMPABLE, 1); }

  void awaitNodesReady() {
    for (size_t i = 0; i < nodes_.size(); ++i) awaitNodeReady(nodes_[i], plan_.nodes[i].name);
  }

  void runStartupCommands() {
    std::vector<size_t> withCommands;
    for (size_t i = 0; i < plan_.nodes.size(); ++i) {
      if (!plan_.nodes[i].exec.empty()) withCommands.push_back(i);
    }
    parallelFor(withCommands.size(), [&](size_t k) {
      size_t i = withCommands[k];
      for (const auto& command : plan_.nodes[i].exec) runStartupCommand(i, command);
    });
  }

  void runStartupCommand(size_t i, const std::string& command) const {
    const topo::Node& node = plan_.nodes[i];
    std::string logName = "nodes/" + node.name + "/log";
    Fd log = openFile(directory_.pathOf(logName), O_WRONLY | O_CREAT | O_APPEND, 0600);
    // The node's earlier commands wrote to the same log: only what follows is this one's.
    const off_t before = ::lseek(log.get(), 0, SEEK_END);
    if (before < 0) throw SystemError("lseek", directory_.pathOf(logName));
    Fd devNull = openFile("/dev/null", O_RDONLY);
    PreparedCommand prepared({{"/bin/sh", "-c", command},
                              nodeEnvironment(plan_.name, node),
                              "/",
                              devNull.get(),
                              log.get(),
                              log.get()});
    prepared.joinCgroups(cgroups_->procsFilesOf(node.name));
    pid_t helper = spawnInNode(nodes_[i].process.pidfd().get(), prepared, node.name);
    int status = waitForChild(helper);
    if (exitCodeOf(status) == 0) return;
    std::string output = directory_.readFile(logName).value_or("");
    output.erase(0, std::min(output.size(), static_cast<size_t>(before)));
    throw Error("node " + node.name + ": startup command `" + command + "` exited with status " +
                std::to_string(exitCodeOf(status)) +
                (output.empty() ? " (no output)"
                                : "; its output ends with:\n" + lastLines(output, kLogTailLines)));
  }

  struct RecordedState {
    nsmgr::LabState state;
    std::string json;
  };

  // The ifindexes the kernel gave the node's interfaces (netlab chose them when it created the
  // links): every later command acts on these and checks the name first.
  std::vector<InterfaceRuntime> interfacesOf(size_t node) const {
    std::vector<InterfaceRuntime> interfaces;
    const auto& planned = plan_.nodes[node].interfaces;
    for (size_t i = 0; i < planned.size(); ++i) {
      interfaces.push_back({planned[i].name, wiring_.ifindexOf({node, i})});
    }
    return interfaces;
  }

  // The lab's state and the text of its file, made on a thread of their own while the nodes are
  // wired and configured: rtnl leaves a second core mostly spinning then anyway.
  std::future<RecordedState> serializeState() const {
    return std::async(std::launch::async, [this] {
      RecordedState recorded;
      recorded.state.plan = plan_;
      recorded.state.createdUnixSeconds = std::time(nullptr);
      recorded.state.pidsLimit = cgroups_->pidsLimitedBy().empty() ? 0 : options_.pidsLimit;
      recorded.state.pidsLimitedBy = cgroups_->pidsLimitedBy();
      for (size_t i = 0; i < nodes_.size(); ++i) {
        recorded.state.nodes.push_back(
            {plan_.nodes[i].name, nodes_[i].process.pid(), startTimes_[i], interfacesOf(i)});
      }
      recorded.json = labStateToJson(recorded.state);
      return recorded;
    });
  }

  nsmgr::LabState recordState(RecordedState recorded) const {
    // Written last: a lab is recorded once its state file exists.
    directory_.writeFile(kStateFile, recorded.json);
    return std::move(recorded.state);
  }

  // The node's identity (pid and start time, which a reused pid cannot fake) and the
  // environment commands run with in it; returns the start time.
  uint64_t recordNode(size_t i) const {
    const topo::Node& node = plan_.nodes[i];
    pid_t pid = nodes_[i].process.pid();
    auto startTime = processStartTime(pid);
    if (!startTime) throw Error("node " + node.name + " ended during bring-up");
    writeNodeRecord(directory_, node.name, {pid, *startTime, nodeEnvironment(plan_.name, node)});
    return *startTime;
  }

  const topo::Plan& plan_;
  Wiring wiring_;
  const UpOptions& options_;
  LabDirectory directory_;
  std::optional<LabCgroups> cgroups_;
  std::vector<NodeSetup> setups_;
  std::vector<NodeProcess> nodes_;
  std::vector<uint64_t> startTimes_;
  bool committed_ = false;
};

}  // namespace

nsmgr::LabState bringUp(const topo::Plan& plan, const UpOptions& options) {
  Interruption interruption;
  ensureLabFitsLimits(plan);
  LabBuild build(plan, options);
  return build.run(interruption);
}

}  // namespace netlab::nsmgr
