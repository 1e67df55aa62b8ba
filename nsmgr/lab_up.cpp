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
#include <atomic>
#include <ctime>
#include <future>

#include "base/error.hpp"
#include "netlink/session.hpp"
#include "nsmgr/cgroups.hpp"
#include "nsmgr/lab.hpp"
#include "nsmgr/lab_dir.hpp"
#include "nsmgr/lab_state.hpp"
#include "nsmgr/limits.hpp"
#include "nsmgr/namespaces.hpp"
#include "nsmgr/node_boot.hpp"
#include "nsmgr/node_keeper.hpp"
#include "nsmgr/node_process.hpp"
#include "nsmgr/node_record.hpp"
#include "nsmgr/node_setup.hpp"
#include "nsmgr/parallel.hpp"
#include "nsmgr/process.hpp"
#include "nsmgr/signals.hpp"
#include "nsmgr/state_file.hpp"
#include "nsmgr/wiring.hpp"

namespace netlab::nsmgr {
namespace {

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
    phaseDone("prepare files");
    interruption.check();
    startNodes();
    phaseDone("start nodes");
    std::future<RecordedState> recorded = serializeState();
    interruption.check();
    createLinks();
    phaseDone("create links");
    interruption.check();
    awaitNodesReady();
    restoreDumpable();
    phaseDone("await node setup");
    configureNodes();
    phaseDone("configure nodes");
    awaitCarrier();
    phaseDone("await carrier");
    interruption.check();
    runStartupCommands();
    phaseDone("startup commands");
    nsmgr::LabState state = recordState(recorded.get());
    // The last moment a signal can still undo the lab: after it, the lab is up and stays up.
    interruption.check();
    for (auto& node : nodes_) detachNode(node);
    committed_ = true;
    keepExitStatuses(directory_);
    phaseDone("record state");
    return state;
  }

 private:
  void phaseDone(const char* phase) const {
    if (options_.timings) options_.timings->phaseDone(phase);
  }

  void progress(const std::string& stage, size_t done, size_t total) const {
    if (options_.progress) options_.progress(stage, done, total);
  }

  void prepareFiles() {
    directory_.makeDirectory("nodes");
    cgroups_.emplace(LabCgroups::make(directory_, plan_, options_.pidsLimit));
    const SharedSetup shared = prepareSharedSetup(plan_);
    setups_.reserve(plan_.nodes.size());
    for (const auto& node : plan_.nodes) {
      setups_.push_back(prepareNodeSetup(node, directory_, shared));
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
        const NodeCgroups cgroups = cgroups_->makeNode(node);
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
        writeNodeSysctls(plan_, wiring_, i, nodes_[i].process.pid());
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

  // `up` returns only when every link can be used.
  void awaitCarrier() {
    parallelFor(plan_.nodes.size(), [&](size_t i) {
      const topo::Node& node = plan_.nodes[i];
      withContext("waiting for the links of node " + node.name, [&] {
        enterNetworkNamespace(nodes_[i].netns, "node " + node.name);
        netlink::Session session = netlink::Session::openInCurrentNamespace();
        awaitLinksUp(session);
      });
    });
    // The namespaces are fully wired: the fds would only keep dead namespaces alive.
    for (auto& node : nodes_) node.netns.reset();
  }

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
      nsmgr::runStartupCommands(directory_, plan_, i, nodes_[i].process.pidfd().get(),
                                cgroups_->procsFilesOf(plan_.nodes[i].name));
    });
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
