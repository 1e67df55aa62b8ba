#include "nsmgr/node_control.hpp"

#include <fcntl.h>
#include <fnmatch.h>
#include <linux/nsfs.h>
#include <linux/pkt_sched.h>
#include <signal.h>
#include <sys/ioctl.h>

#include <algorithm>

#include "base/error.hpp"
#include "netlink/qdisc.hpp"
#include "netlink/session.hpp"
#include "nsmgr/cgroups.hpp"
#include "nsmgr/lab.hpp"
#include "nsmgr/lab_state.hpp"
#include "nsmgr/namespaces.hpp"
#include "nsmgr/network_pin.hpp"
#include "nsmgr/node_boot.hpp"
#include "nsmgr/node_keeper.hpp"
#include "nsmgr/node_process.hpp"
#include "nsmgr/node_record.hpp"
#include "nsmgr/node_setup.hpp"
#include "nsmgr/process.hpp"
#include "nsmgr/wiring.hpp"

namespace netlab::nsmgr {
namespace {

// What a restarted node must not inherit from its last life, in the namespace it keeps: every
// device goes administratively down, as at power-off (a veth then has no carrier, so each peer
// sees it go; the kernel flushes the IPv6 addresses and the routes through it), and loses the
// qdiscs of its impairments, which `start` lays out again from the plan.
void powerOff(const Fd& netns, const std::string& node) {
  NetworkNamespaceVisit visit(netns, "node " + node);
  netlink::Session session = netlink::Session::openInCurrentNamespace();
  netlink::RequestBatch batch;
  for (const auto& link : session.dumpLinks()) {
    batch.setLinkUp(link.ifindex, false, node + ":" + link.name + " down");
  }
  for (const auto& qdisc : netlink::dumpAllQdiscs(session)) {
    if (qdisc.parent != TC_H_ROOT || qdisc.handle == 0) continue;
    netlink::removeImpairment(batch, qdisc.ifindex, node + " qdisc " + qdisc.kind);
  }
  session.execute(batch);
}

Fd owningUserNamespace(const Fd& netns, const std::string& node) {
  Fd userns(::ioctl(netns.get(), NS_GET_USERNS));
  if (!userns) throw SystemError("ioctl(NS_GET_USERNS)", "network namespace of node " + node);
  return userns;
}

// Applies the action to the lab's nodes one step at a time, the state saved after each step
// that changes what `down` must find:
// - stop: the network namespace is pinned before the init is signalled, and the node is
//   recorded as stopped only once its init is gone. Killed in between, the lab holds a pin
//   and a live (or dead) node, both of which `down` removes.
// - start: the new init is recorded (nodes/NAME/init) as soon as it is cloned; until it is
//   detached it dies with this command, and the pin goes only once it holds the namespace.
class NodeControl {
 public:
  explicit NodeControl(LockedLabState& locked)
      : locked_(locked), wiring_(locked.state().plan, locked.state().nodes) {}

  void stop(const std::vector<size_t>& nodes, int firstSignal,
            std::vector<NodeActionResult>& results) {
    struct Stopping {
      size_t node;
      Fd pidfd;
      Fd netns;
    };
    std::vector<Stopping> stopping;
    for (size_t i : nodes) {
      const std::string& name = plan().nodes[i].name;
      std::optional<LiveInit> init = liveInit(i);
      if (!init) {
        results.push_back({name, false, runtimeOf(i).pid != 0, 0});
        continue;
      }
      pinNetwork(directory(), name, init->netns);
      stopping.push_back({i, std::move(init->pidfd), std::move(init->netns)});
    }
    std::vector<const Fd*> pidfds;
    for (const auto& node : stopping) pidfds.push_back(&node.pidfd);
    for (size_t survivor : endProcesses(pidfds, firstSignal, kNodeStopTimeout)) {
      throw Error("node " + plan().nodes[stopping[survivor].node].name +
                  " outlived SIGKILL (in uninterruptible sleep?)");
    }
    for (const auto& node : stopping) {
      const std::string& name = plan().nodes[node.node].name;
      withContext("stopping node " + name, [&] { powerOff(node.netns, name); });
      runtimeOf(node.node).pid = 0;
      runtimeOf(node.node).startTime = 0;
      directory().removeEntry("nodes/" + name + "/init");
      locked_.save();
      results.push_back({name, true, false, 0});
    }
  }

  // In phases, as `up`: every init cloned and recorded, then the links of those that lost
  // their network made again (two such nodes may be each other's peers), then each node
  // configured, its startup commands run, and recorded as running.
  void start(const std::vector<size_t>& nodes, std::vector<NodeActionResult>& results) {
    NodeLauncher launcher;
    const LabCgroups cgroups = LabCgroups::reopen(directory(), plan(), locked_.state().pidsLimit);
    const SharedSetup shared = prepareSharedSetup(plan());
    std::vector<size_t> stopped;
    for (size_t i : nodes) {
      if (isRunning(i)) {
        results.push_back({plan().nodes[i].name, false, false, runtimeOf(i).pid});
      } else {
        stopped.push_back(i);
      }
    }
    if (!stopped.empty()) keepExitStatuses(directory());
    for (size_t i : stopped) {
      withContext("starting node " + plan().nodes[i].name,
                  [&] { launch(i, launcher, cgroups, shared, stopped); });
    }
    // The kernel removes a dead init's namespace, and the veths in it, some time after: its
    // links are made again under the same names and ifindexes once the old ones are gone.
    const bool rebuilds = std::any_of(starting_.begin(), starting_.end(),
                                      [](const Starting& node) { return node.rebuilt; });
    if (rebuilds) waitForNamespaceCleanup();
    // Bridges first: a switch's ports are born enslaved to its bridge.
    for (Starting& node : starting_) {
      if (!node.rebuilt || plan().nodes[node.node].kind != topo::NodeKind::Switch) continue;
      withContext("starting node " + nameOf(node), [&] { makeBridge(node); });
    }
    for (Starting& node : starting_) {
      if (node.rebuilt) withContext("starting node " + nameOf(node), [&] { relink(node); });
    }
    for (Starting& node : starting_) {
      const pid_t pid = node.process.process.pid();  // released by the detach
      withContext("starting node " + nameOf(node), [&] { finish(node, cgroups); });
      results.push_back({nameOf(node), true, false, pid});
    }
  }

  // Makes the veth pairs (indexes in Wiring::vethPairs) between nodes that have a network, as
  // `up` makes them; each end is configured from the plan where its node runs.
  void connect(const std::vector<size_t>& pairs) {
    for (size_t pair : pairs) {
      withContext(wiring_.describe(wiring_.vethPairs()[pair]), [&] {
        const VethPair& ends = wiring_.vethPairs()[pair];
        std::optional<Fd> local = networkOf(ends.local.node);
        std::optional<Fd> peer = networkOf(ends.peer.node);
        if (!local || !peer) throw Error("a node of it has no network (its init ended)", ENOENT);
        auto netnsOf = [&](size_t n) { return n == ends.local.node ? local->get() : peer->get(); };
        NetworkNamespaceVisit visit(*local, "node " + plan().nodes[ends.local.node].name);
        netlink::Session::openInCurrentNamespace().execute(
            wiring_.vethPairCreation(pair, pair + 1, netnsOf));
        if (isRunning(ends.local.node)) configureEnd(ends.local, *local);
        if (isRunning(ends.peer.node)) configureEnd(ends.peer, *peer);
      });
    }
  }

  // Removes addresses from node i, running or stopped. One that is not there is no failure: a
  // restart that failed before adding it, or a user, took it.
  void removeAddresses(size_t i, const std::vector<NodeAddress>& addresses) {
    std::optional<Fd> netns = networkOf(i);
    if (!netns || addresses.empty()) return;
    const std::string& name = plan().nodes[i].name;
    NetworkNamespaceVisit visit(*netns, "node " + name);
    netlink::Session session = netlink::Session::openInCurrentNamespace();
    for (const auto& [ifindex, address] : addresses) {
      netlink::RequestBatch batch;
      batch.deleteAddress(ifindex, address, name + " address " + toString(address) + " delete");
      try {
        session.execute(batch);
      } catch (const Error& error) {
        if (error.errnoValue() != EADDRNOTAVAIL) throw;
      }
    }
  }

  const topo::Plan& plan() { return locked_.state().plan; }
  const Wiring& wiring() const { return wiring_; }

 private:
  struct Starting {
    size_t node;
    NodeProcess process;
    uint64_t startTime = 0;
    bool rebuilt = false;  // in new namespaces: its init had ended by itself
  };

  const std::string& nameOf(const Starting& node) { return plan().nodes[node.node].name; }

  void launch(size_t i, NodeLauncher& launcher, const LabCgroups& cgroups,
              const SharedSetup& shared, const std::vector<size_t>& batch) {
    const topo::Node& node = plan().nodes[i];
    std::optional<Fd> pinned = openPinnedNetwork(directory(), node.name);
    if (!pinned) requirePeerNetworks(i, batch);
    NodeSetup setup = prepareNodeSetup(node, directory(), shared);
    const NodeCgroups nodeCgroups = cgroups.makeNode(node);
    Starting started{i, {}, 0, !pinned};
    started.process =
        pinned
            ? launcher.restart(setup, {owningUserNamespace(*pinned, node.name), std::move(*pinned)},
                               node.name, &nodeCgroups)
            : launcher.start(setup, node.isolatedIds, node.name, &nodeCgroups);
    const pid_t pid = started.process.process.pid();
    auto startTime = processStartTime(pid);
    if (!startTime) throw Error("its init ended as it started");
    started.startTime = *startTime;
    forgetExit(directory(), pid);  // an earlier init's with the same pid
    writeNodeRecord(directory(), node.name, {pid, *startTime, nodeEnvironment(plan().name, node)});
    starting_.push_back(std::move(started));
  }

  void finish(Starting& node, const LabCgroups& cgroups) {
    awaitNodeReady(node.process, nameOf(node));
    restoreDumpable();
    const pid_t pid = node.process.process.pid();
    configure(node.node, node.process.netns, pid);
    runStartupCommands(directory(), plan(), node.node, node.process.process.pidfd().get(),
                       cgroups.procsFilesOf(nameOf(node)));
    runtimeOf(node.node).pid = pid;
    runtimeOf(node.node).startTime = node.startTime;
    locked_.save();
    detachNode(node.process);
    unpinNetwork(directory(), nameOf(node));
  }

  // The nodes a link of node i joins it to.
  std::vector<std::pair<size_t, InterfaceRef>> linksOf(size_t i) const {
    std::vector<std::pair<size_t, InterfaceRef>> links;
    const auto& pairs = wiring_.vethPairs();
    for (size_t p = 0; p < pairs.size(); ++p) {
      if (pairs[p].local.node == i) links.push_back({p, pairs[p].peer});
      if (pairs[p].peer.node == i) links.push_back({p, pairs[p].local});
    }
    return links;
  }

  // A link is made again only with a peer that has a network namespace, or gets one now.
  void requirePeerNetworks(size_t i, const std::vector<size_t>& batch) {
    for (const auto& [pair, other] : linksOf(i)) {
      if (std::find(batch.begin(), batch.end(), other.node) != batch.end()) continue;
      if (networkOf(other.node)) continue;
      const std::string& peer = plan().nodes[other.node].name;
      throw Error("its peer " + peer + " lost its network too (its init ended by itself): " +
                      "start both at once (`netlab node start " + plan().nodes[i].name + " " +
                      peer + "`)",
                  ENOENT);
    }
  }

  // A node whose init ended by itself took its network namespace with it, and its links, and
  // their other ends: it starts in new namespaces, and its links are made again as `up` made
  // them (the same names, ifindexes and MACs), each peer's end configured again from the plan
  // where the peer runs.
  void relink(const Starting& node) {
    const size_t i = node.node;
    const Fd& netns = node.process.netns;
    NetworkNamespaceVisit visit(netns, "node " + nameOf(node));
    netlink::Session session = netlink::Session::openInCurrentNamespace();
    for (const auto& [pair, other] : linksOf(i)) {
      if (std::find(relinked_.begin(), relinked_.end(), pair) != relinked_.end()) continue;
      std::optional<Fd> peer = networkOf(other.node);
      auto netnsOf = [&](size_t n) { return n == i ? netns.get() : peer->get(); };
      session.execute(wiring_.vethPairCreation(pair, pair + 1, netnsOf));
      relinked_.push_back(pair);
      if (isRunning(other.node) && !isStarting(other.node)) configureEnd(other, *peer);
    }
  }

  void makeBridge(const Starting& node) {
    const Fd& netns = node.process.netns;
    NetworkNamespaceVisit visit(netns, "node " + nameOf(node));
    netlink::Session::openInCurrentNamespace().execute(
        wiring_.bridgeCreation(node.node, netns.get()));
  }

  bool isStarting(size_t n) const {
    return std::any_of(starting_.begin(), starting_.end(),
                       [&](const Starting& node) { return node.node == n; });
  }

  // The network namespace of node n: that of the init it is starting with, its running
  // init's, or its pin while it is stopped; nullopt when it has none.
  std::optional<Fd> networkOf(size_t n) {
    for (const Starting& node : starting_) {
      if (node.node == n) return Fd(::fcntl(node.process.netns.get(), F_DUPFD_CLOEXEC, 0));
    }
    if (std::optional<LiveInit> init = liveInit(n)) return std::move(init->netns);
    return openPinnedNetwork(directory(), plan().nodes[n].name);
  }

  struct LiveInit {
    Fd pidfd;
    Fd netns;
  };

  // Node n's init and its network namespace, while it runs.
  std::optional<LiveInit> liveInit(size_t n) {
    const NodeRuntime& runtime = runtimeOf(n);
    if (runtime.pid == 0) return std::nullopt;
    std::optional<Fd> pidfd = openProcess(runtime.pid, runtime.startTime);
    if (!pidfd) return std::nullopt;
    Fd netns = openNamespace(runtime.pid, "net");
    // Alive after the open: the namespace is the node's, not that of a reused pid.
    if (waitForExit(*pidfd, std::chrono::milliseconds(0))) return std::nullopt;
    return LiveInit{std::move(*pidfd), std::move(netns)};
  }

  void configureEnd(const InterfaceRef& ref, const Fd& netns) {
    const std::string& name = plan().nodes[ref.node].name;
    NetworkNamespaceVisit visit(netns, "node " + name);
    writeInterfaceSysctls(plan(), wiring_, ref, runtimeOf(ref.node).pid);
    netlink::Session session = netlink::Session::openInCurrentNamespace();
    session.execute(wiring_.endConfiguration(ref));
  }

  // As `up` configures a node, over what its namespace kept (powerOff): the IPv4 addresses
  // stayed, so addresses and routes are replacements.
  void configure(size_t i, const Fd& netns, pid_t init) {
    NetworkNamespaceVisit visit(netns, "node " + plan().nodes[i].name);
    writeNodeSysctls(plan(), wiring_, i, init);
    netlink::Session session = netlink::Session::openInCurrentNamespace();
    session.execute(wiring_.nodeConfiguration(i, netlink::Existing::Replace));
    awaitLinksUp(session, [&](uint32_t ifindex) { return peerRunning(i, ifindex); });
  }

  // Whether the interface's peer is up to give it carrier: a stopped peer cannot.
  bool peerRunning(size_t i, uint32_t ifindex) {
    const topo::Node& node = plan().nodes[i];
    for (size_t k = 0; k < node.interfaces.size(); ++k) {
      if (wiring_.ifindexOf({i, k}) != ifindex) continue;
      const topo::Node* peer = plan().findNode(node.interfaces[k].peerNode);
      return peer && isRunning(static_cast<size_t>(peer - plan().nodes.data()));
    }
    return false;
  }

  bool isRunning(size_t i) {
    const NodeRuntime& runtime = runtimeOf(i);
    return runtime.pid != 0 && openProcess(runtime.pid, runtime.startTime).has_value();
  }

  NodeRuntime& runtimeOf(size_t i) {
    auto& nodes = locked_.state().nodes;
    auto found = std::find_if(nodes.begin(), nodes.end(),
                              [&](const auto& node) { return node.name == plan().nodes[i].name; });
    if (found == nodes.end()) throw Error("node " + plan().nodes[i].name + " has no record");
    return *found;
  }

  const LabDirectory& directory() const { return locked_.directory(); }

  LockedLabState& locked_;
  Wiring wiring_;
  std::vector<Starting> starting_;
  std::vector<size_t> relinked_;  // the veth pairs (indexes in Wiring::vethPairs) made again
};

std::vector<size_t> indexesOf(const topo::Plan& plan, const std::vector<std::string>& names) {
  std::vector<size_t> indexes;
  for (const auto& name : names) {
    indexes.push_back(static_cast<size_t>(plan.findNode(name) - plan.nodes.data()));
  }
  return indexes;
}

}  // namespace

std::vector<std::string> matchNodes(const std::vector<std::string>& names,
                                    const std::vector<std::string>& patterns) {
  std::vector<bool> matched(names.size(), false);
  for (const auto& pattern : patterns) {
    bool any = false;
    for (size_t i = 0; i < names.size(); ++i) {
      if (::fnmatch(pattern.c_str(), names[i].c_str(), 0) != 0) continue;
      matched[i] = any = true;
    }
    if (!any) throw Error("no node matches `" + pattern + "`", ENOENT);
  }
  std::vector<std::string> chosen;
  for (size_t i = 0; i < names.size(); ++i) {
    if (matched[i]) chosen.push_back(names[i]);
  }
  return chosen;
}

std::vector<NodeActionResult> changeNodes(const std::string& lab,
                                          const std::vector<std::string>& patterns,
                                          NodeAction action) {
  LockedLabState locked(lab);
  std::vector<std::string> names;
  for (const auto& node : locked.state().plan.nodes) names.push_back(node.name);
  return changeNodes(locked, matchNodes(names, patterns), action);
}

std::vector<NodeActionResult> changeNodes(LockedLabState& locked,
                                          const std::vector<std::string>& names,
                                          NodeAction action) {
  NodeControl control(locked);
  const std::vector<size_t> nodes = indexesOf(control.plan(), names);
  std::vector<NodeActionResult> results;
  if (action != NodeAction::Start) {
    control.stop(nodes, action == NodeAction::Kill ? SIGKILL : SIGTERM, results);
  }
  if (action == NodeAction::Start || action == NodeAction::Restart) {
    results.clear();
    control.start(nodes, results);
  }
  return results;
}

void removeAddresses(LockedLabState& locked, const std::string& node,
                     const std::vector<NodeAddress>& addresses) {
  NodeControl control(locked);
  control.removeAddresses(indexesOf(control.plan(), {node}).front(), addresses);
}

void connectLinks(LockedLabState& locked, const std::vector<std::string>& ends) {
  NodeControl control(locked);
  std::vector<size_t> pairs;
  const auto& all = control.wiring().vethPairs();
  for (size_t p = 0; p < all.size(); ++p) {
    for (const InterfaceRef& ref : {all[p].local, all[p].peer}) {
      const topo::Node& node = control.plan().nodes[ref.node];
      const std::string end = node.name + ":" + node.interfaces[ref.interface].name;
      if (std::find(ends.begin(), ends.end(), end) != ends.end()) {
        pairs.push_back(p);
        break;
      }
    }
  }
  control.connect(pairs);
}

}  // namespace netlab::nsmgr
