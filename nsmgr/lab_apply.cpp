// Applying an edited plan to a running lab, as the checklist the kernel needs:
//   1. the edited plan recorded with each node's identity; interfaces kept keep their ifindexes,
//      new ones get numbers above every one in use
//   2. nodes added: cloned, recorded, their links made (bridges first), configured, as
//      `node start` boots a node whose namespaces are gone
//   3. links added between kept nodes, each end configured where its node runs
//   4. changed nodes restarted (`node restart`) with their new plan
//   5. impairments changed in place
//   6. links between kept nodes removed, then removed nodes stopped as `down` stops them
// Each step that succeeds leaves its undo; a failure runs them in reverse and records the old
// plan again. Removals come last: nothing after them can fail and need them back.
#include "nsmgr/lab_apply.hpp"

#include <signal.h>

#include <algorithm>
#include <functional>
#include <map>

#include "base/error.hpp"
#include "nsmgr/lab.hpp"
#include "nsmgr/lab_state.hpp"
#include "nsmgr/link_control.hpp"
#include "nsmgr/namespaces.hpp"
#include "nsmgr/network_pin.hpp"
#include "nsmgr/node_control.hpp"
#include "nsmgr/node_process.hpp"
#include "nsmgr/node_record.hpp"
#include "nsmgr/process.hpp"
#include "nsmgr/wiring.hpp"

namespace netlab::nsmgr {
namespace {

std::string endOf(const topo::LinkEndName& end) {
  return end.node + ":" + end.interface;
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// A node or a link made again under the same names would meet its old self, which goes only
// at the end: refused before anything changes, with the way round it.
void refuseReplacements(const topo::PlanDiff& diff) {
  for (const auto& node : diff.addedNodes) {
    if (contains(diff.removedNodes, node)) {
      throw Error("node " + node +
                      " changes kind or user namespace, which only a new node can have: apply a "
                      "topology without it, then one with it",
                  EINVAL);
    }
  }
  std::vector<std::string> removedEnds;
  for (const auto& link : diff.removedLinks) {
    removedEnds.push_back(endOf(link.first));
    removedEnds.push_back(endOf(link.second));
  }
  for (const auto& link : diff.addedLinks) {
    if (contains(removedEnds, endOf(link.first)) || contains(removedEnds, endOf(link.second))) {
      throw Error("link " + toString(link) +
                      " replaces a link with the same end (its MAC or MTU changed, or a LAN's "
                      "ports were renumbered): apply a topology without it, then one with it",
                  EINVAL);
    }
  }
}

// A link between nodes both plans have: one with an added or removed node comes or goes with
// it.
bool isBetweenKeptNodes(const topo::PlanDiff& diff, const topo::LinkName& link) {
  for (const auto& node : {link.first.node, link.second.node}) {
    if (contains(diff.addedNodes, node) || contains(diff.removedNodes, node)) return false;
  }
  return true;
}

bool isRunning(const LabState& state, const std::string& node) {
  for (const auto& runtime : state.nodes) {
    if (runtime.name == node && runtime.pid != 0) {
      return openProcess(runtime.pid, runtime.startTime).has_value();
    }
  }
  return false;
}

// Removals come last, when nothing can be undone any more: each must be possible before
// anything changes. A link between kept nodes is removed in a node that runs.
void requireRemovable(const topo::PlanDiff& diff, const LabState& state) {
  for (const auto& link : diff.removedLinks) {
    if (!isBetweenKeptNodes(diff, link) || isRunning(state, link.first.node) ||
        isRunning(state, link.second.node)) {
      continue;
    }
    throw Error("link " + toString(link) + " cannot be removed while neither of its nodes runs: " +
                    "start one (`netlab node start " + link.first.node + "`) first",
                ESRCH);
  }
}

uint32_t highestIfindex(const LabState& state) {
  uint32_t highest = kFirstInterfaceIfindex - 1;
  for (const auto& node : state.nodes) {
    for (const auto& interface : node.interfaces) highest = std::max(highest, interface.ifindex);
  }
  return highest;
}

// The lab's state once the edited plan is in place: each kept node with its identity and the
// ifindexes of the interfaces it keeps; a new interface numbered above every one in use, so
// the ends of a pair stay apart (nsmgr/wiring.hpp says why); a new node not running yet.
LabState editedState(const LabState& running, const topo::Plan& edited) {
  std::map<std::string, uint32_t> kept;  // "node:interface" -> ifindex
  for (const auto& node : running.nodes) {
    for (const auto& interface : node.interfaces) {
      kept.emplace(node.name + ":" + interface.name, interface.ifindex);
    }
  }
  LabState state = running;
  state.plan = edited;
  state.nodes.clear();
  uint32_t next = highestIfindex(running) + 1;
  for (const auto& node : edited.nodes) {
    NodeRuntime& runtime = state.nodes.emplace_back();
    runtime.name = node.name;
    for (const auto& old : running.nodes) {
      if (old.name != node.name) continue;
      runtime.pid = old.pid;
      runtime.startTime = old.startTime;
    }
    for (const auto& interface : node.interfaces) {
      auto found = kept.find(node.name + ":" + interface.name);
      runtime.interfaces.push_back({interface.name, found != kept.end() ? found->second : next++});
    }
  }
  return state;
}

// Each node's identity as `from` has it, for the nodes `into` has too.
void adoptIdentities(LabState& into, const LabState& from) {
  for (auto& node : into.nodes) {
    for (const auto& current : from.nodes) {
      if (current.name != node.name) continue;
      node.pid = current.pid;
      node.startTime = current.startTime;
    }
  }
}

// Stops a node as `down` does (SIGTERM, grace, SIGKILL), found by its own record, and removes
// its record and the pin of its network: its namespaces take its links, and their other ends,
// with them.
void removeNode(const LabDirectory& directory, const std::string& node) {
  if (std::optional<NodeRecord> record = readNodeRecord(directory, node)) {
    if (std::optional<Fd> pidfd = openProcess(record->pid, record->startTime)) {
      if (!endProcesses({&*pidfd}, SIGTERM, kNodeStopTimeout).empty()) {
        throw Error("node " + node + " (pid " + std::to_string(record->pid) +
                    ") outlived SIGKILL (in uninterruptible sleep?)");
      }
    }
  }
  unpinNetwork(directory, node);
  directory.removeEntry("nodes/" + node);
}

// Removes the nodes, then waits for the kernel to remove their network namespaces: a removed
// node's links go with its namespace, and their other ends (a switch's port, a router's
// interface) are gone only once the kernel's cleanup worker got to it, which on a busy machine
// is after `apply` would otherwise have returned.
void removeNodes(const LabDirectory& directory, const std::vector<std::string>& nodes) {
  if (nodes.empty()) return;
  for (const auto& node : nodes) {
    withContext("removing node " + node, [&] { removeNode(directory, node); });
  }
  waitForNamespaceCleanup();
}

// The IPv4 addresses node has in `from` and not in `to`, on lo and on the interfaces both keep:
// a restart keeps them (its devices go down, which flushes only IPv6 addresses), and an
// interface that goes takes its own.
std::vector<NodeAddress> addressesToDrop(const LabState& from, const LabState& to,
                                         const std::string& node) {
  const topo::Node* before = from.plan.findNode(node);
  const topo::Node* after = to.plan.findNode(node);
  std::vector<NodeAddress> dropped;
  auto drop = [&](uint32_t ifindex, const std::vector<IpPrefix>& had,
                  const std::vector<IpPrefix>& has) {
    for (const auto& address : had) {
      if (address.address.family == Family::V4 &&
          std::find(has.begin(), has.end(), address) == has.end()) {
        dropped.push_back({ifindex, address});
      }
    }
  };
  drop(kLoopbackIfindex, before->loopbackAddresses, after->loopbackAddresses);
  const Wiring wiring(from.plan, from.nodes);
  const size_t n = static_cast<size_t>(before - from.plan.nodes.data());
  for (size_t i = 0; i < before->interfaces.size(); ++i) {
    for (const auto& kept : after->interfaces) {
      if (kept.name == before->interfaces[i].name) {
        drop(wiring.ifindexOf({n, i}), before->interfaces[i].addresses, kept.addresses);
      }
    }
  }
  return dropped;
}

class PlanApplication {
 public:
  PlanApplication(LockedLabState& locked, topo::PlanDiff diff)
      : locked_(locked), before_(locked.state()), diff_(std::move(diff)) {}

  void run(const topo::Plan& edited) {
    try {
      locked_.state() = editedState(before_, edited);
      locked_.save();
      addNodes();
      addLinks();
      restartChangedNodes();
      changeImpairments();
    } catch (const Error& error) {
      const std::string undoFailure = rollBack();
      throw Error(
          std::string(error.what()) +
              (undoFailure.empty() ? "; the changes made before it were undone"
                                   : "; undoing the changes made before it failed: " + undoFailure),
          error.errnoValue());
    }
    removeLinks();
    removeNodes();
    locked_.save();
  }

 private:
  void addNodes() {
    if (diff_.addedNodes.empty()) return;
    // Registered first: a start that fails half-way leaves records of inits it killed.
    undo_.push_back([this] { nsmgr::removeNodes(locked_.directory(), diff_.addedNodes); });
    withContext("adding nodes", [&] { changeNodes(locked_, diff_.addedNodes, NodeAction::Start); });
  }

  bool isKept(const topo::LinkName& link) const { return isBetweenKeptNodes(diff_, link); }

  void addLinks() {
    std::vector<std::string> ends;
    for (const auto& link : diff_.addedLinks) {
      if (isKept(link)) ends.push_back(endOf(link.first));
    }
    if (ends.empty()) return;
    undo_.push_back([this, ends] {
      for (const auto& end : ends) {
        try {
          removeLink(locked_.state(), end);
        } catch (const Error& error) {
          // A link not made yet (the connection failed before it) has no device.
          if (error.errnoValue() != ENODEV) throw;
        }
      }
    });
    withContext("adding links", [&] { connectLinks(locked_, ends); });
  }

  // A stopped node boots with its new plan when it is started; the addresses it no longer has
  // go now, as from a running one.
  void restartChangedNodes() {
    std::vector<std::string> running;
    for (const auto& change : diff_.changedNodes) {
      if (isRunning(locked_.state(), change.node)) {
        running.push_back(change.node);
      } else {
        withContext("changing node " + change.node, [&] {
          removeAddresses(locked_, change.node,
                          addressesToDrop(before_, locked_.state(), change.node));
        });
      }
    }
    if (running.empty()) return;
    // Back to the old plan for those nodes, then to the edited state again with their new
    // identities, which the undos still to come act in.
    undo_.push_back([this, running] {
      const LabState edited = locked_.state();
      locked_.state() = before_;
      adoptIdentities(locked_.state(), edited);
      for (const auto& node : running) {
        removeAddresses(locked_, node, addressesToDrop(edited, before_, node));
      }
      changeNodes(locked_, running, NodeAction::Restart);
      const LabState restored = locked_.state();
      locked_.state() = edited;
      adoptIdentities(locked_.state(), restored);
    });
    withContext("restarting changed nodes", [&] {
      for (const auto& node : running) {
        removeAddresses(locked_, node, addressesToDrop(before_, locked_.state(), node));
      }
      changeNodes(locked_, running, NodeAction::Restart);
    });
  }

  // On running nodes' ends: a stopped node lays out its plan's when it starts.
  void changeImpairments() {
    for (const auto& change : diff_.impairmentChanges) {
      if (!isRunning(locked_.state(), change.end.node)) continue;
      const std::string end = endOf(change.end);
      withContext("changing the impairment of " + end,
                  [&] { changeEgress(locked_.state(), end, change.after); });
      undo_.push_back(
          [this, end, before = change.before] { changeEgress(locked_.state(), end, before); });
    }
  }

  // By the ifindexes the old state recorded, where the links still are, from an end whose node
  // runs (requireRemovable made sure there is one).
  void removeLinks() {
    LabState old = before_;
    adoptIdentities(old, locked_.state());
    for (const auto& link : diff_.removedLinks) {
      if (!isKept(link)) continue;
      const std::string end =
          isRunning(old, link.first.node) ? endOf(link.first) : endOf(link.second);
      withContext("removing link " + toString(link), [&] { removeLink(old, end); });
    }
  }

  void removeNodes() { nsmgr::removeNodes(locked_.directory(), diff_.removedNodes); }

  // In reverse, each undo tried whatever the others did; returns the first undo's failure, if
  // any. The old plan is recorded again with the identities the nodes now have.
  std::string rollBack() {
    std::string failure;
    auto attempt = [&](const std::function<void()>& undo) {
      try {
        undo();
      } catch (const Error& error) {
        if (failure.empty()) failure = error.what();
      }
    };
    for (auto undo = undo_.rbegin(); undo != undo_.rend(); ++undo) attempt(*undo);
    LabState restored = before_;
    adoptIdentities(restored, locked_.state());
    locked_.state() = std::move(restored);
    attempt([&] { locked_.save(); });
    return failure;
  }

  LockedLabState& locked_;
  const LabState before_;
  const topo::PlanDiff diff_;
  std::vector<std::function<void()>> undo_;
};

// What apply checks before it changes anything.
void requireApplicable(const topo::PlanDiff& diff, const LabState& state) {
  refuseReplacements(diff);
  requireRemovable(diff, state);
}

}  // namespace

PlannedChanges planChanges(const std::string& lab, const topo::Plan& edited) {
  const LabState state = readLabState(lab);
  PlannedChanges planned{topo::diffPlans(state.plan, edited), ""};
  try {
    requireApplicable(planned.diff, state);
  } catch (const Error& error) {
    planned.refusal = error.what();
  }
  return planned;
}

topo::PlanDiff applyPlan(const std::string& lab, const topo::Plan& edited) {
  LockedLabState locked(lab);
  topo::PlanDiff diff = topo::diffPlans(locked.state().plan, edited);
  if (diff.empty()) return diff;
  requireApplicable(diff, locked.state());
  PlanApplication(locked, diff).run(edited);
  return diff;
}

}  // namespace netlab::nsmgr
