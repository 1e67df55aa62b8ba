#include "nsmgr/link_control.hpp"

#include <linux/if.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <thread>

#include "base/error.hpp"
#include "netlink/qdisc.hpp"
#include "netlink/session.hpp"
#include "nsmgr/impairment.hpp"
#include "nsmgr/lab.hpp"
#include "nsmgr/lab_state.hpp"
#include "nsmgr/node_session.hpp"
#include "nsmgr/wiring.hpp"

namespace netlab::nsmgr {
namespace {

// How long a link end may take to show its new carrier. The kernel's link watcher reports a
// veth's carrier within milliseconds when the pair's ifindexes differ, as netlab makes them.
constexpr auto kCarrierTimeout = std::chrono::seconds(5);

std::string nameOf(const topo::Plan& plan, const InterfaceRef& ref) {
  const topo::Node& node = plan.nodes[ref.node];
  return node.name + ":" + node.interfaces[ref.interface].name;
}

std::optional<size_t> nodeIndex(const topo::Plan& plan, const std::string& name) {
  for (size_t i = 0; i < plan.nodes.size(); ++i) {
    if (plan.nodes[i].name == name) return i;
  }
  return std::nullopt;
}

std::string interfaceNames(const topo::Node& node) {
  std::string names;
  for (const auto& interface : node.interfaces)
    names += (names.empty() ? "" : ", ") + interface.name;
  return names.empty() ? "none" : names;
}

// "r1:eth0" as a node and one of its interfaces in the plan.
InterfaceRef findEnd(const topo::Plan& plan, const std::string& end) {
  const size_t colon = end.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == end.size()) {
    throw Error("`" + end + "` does not name a link end (write NODE:INTERFACE, e.g. r1:eth0)",
                EINVAL);
  }
  const std::string nodeName = end.substr(0, colon);
  const std::string interfaceName = end.substr(colon + 1);
  auto node = nodeIndex(plan, nodeName);
  if (!node) throw Error("lab `" + plan.name + "` has no node `" + nodeName + "`", ENOENT);
  const auto& interfaces = plan.nodes[*node].interfaces;
  for (size_t i = 0; i < interfaces.size(); ++i) {
    if (interfaces[i].name == interfaceName) return {*node, i};
  }
  throw Error("node `" + nodeName + "` of lab `" + plan.name + "` has no interface `" +
                  interfaceName + "` (its links: " + interfaceNames(plan.nodes[*node]) + ")",
              ENOENT);
}

// The other end of the end's veth pair.
InterfaceRef peerOf(const topo::Plan& plan, const InterfaceRef& ref) {
  const topo::Interface& interface = plan.nodes[ref.node].interfaces[ref.interface];
  return findEnd(plan, interface.peerNode + ":" + interface.peerInterface);
}

std::optional<netlink::LinkInfo> findLink(netlink::Session& session, uint32_t ifindex) {
  for (auto& link : session.dumpLinks()) {
    if (link.ifindex == ifindex) return std::move(link);
  }
  return std::nullopt;
}

// The end's ifindex as `up` recorded it (nullopt for a lab recorded without one).
std::optional<uint32_t> recordedIfindex(const LabState& state, const InterfaceRef& ref) {
  const topo::Node& node = state.plan.nodes[ref.node];
  const std::string& interface = node.interfaces[ref.interface].name;
  for (const auto& runtime : state.nodes) {
    if (runtime.name != node.name) continue;
    for (const auto& recorded : runtime.interfaces) {
      if (recorded.name == interface) return recorded.ifindex;
    }
  }
  return std::nullopt;
}

// The end's device, found by its recorded ifindex and checked by name before anything is done
// to it: a device renumbered or renamed since is never acted on. The requests netlab builds for
// the end (Wiring) use the same number, checked too.
uint32_t verifiedIfindex(netlink::Session& session, const LabState& state, const Wiring& wiring,
                         const InterfaceRef& ref) {
  const std::string name = nameOf(state.plan, ref);
  const auto recorded = recordedIfindex(state, ref);
  if (!recorded) {
    throw Error(name +
                    ": the lab's state records no ifindex for it (made by an older netlab?): "
                    "take the lab down and up again",
                ENODEV);
  }
  const auto link = findLink(session, *recorded);
  const std::string& expected = state.plan.nodes[ref.node].interfaces[ref.interface].name;
  if (!link) {
    throw Error(name + ": no device has its recorded ifindex " + std::to_string(*recorded) +
                    " in its node any more",
                ENODEV);
  }
  if (link->name != expected || *recorded != wiring.ifindexOf(ref)) {
    throw Error(name + ": the device with its recorded ifindex " + std::to_string(*recorded) +
                    " is now `" + link->name + "`; refusing to act on it",
                ENODEV);
  }
  return *recorded;
}

// What one node's kernel says about its links: by ifindex, with the drops of their qdiscs.
struct NodeLinks {
  std::map<uint32_t, netlink::LinkInfo> links;
  std::map<uint32_t, uint64_t> qdiscDrops;
};

NodeLinks readNodeLinks(const nsmgr::LabState& state, const std::string& node) {
  NodeLinks found;
  try {
    NodeSession session(state, node);
    for (auto& link : session->dumpLinks()) found.links[link.ifindex] = std::move(link);
    for (const auto& qdisc : netlink::dumpAllQdiscs(*session)) {
      found.qdiscDrops[qdisc.ifindex] += qdisc.drops;
    }
  } catch (const Error&) {
    // A node that is gone has no links to read; its ends are reported as unknown.
  }
  return found;
}

nsmgr::LinkEndReport endReport(const LabState& state, const std::vector<NodeLinks>& live,
                               const InterfaceRef& ref) {
  const topo::Node& node = state.plan.nodes[ref.node];
  const topo::Interface& interface = node.interfaces[ref.interface];
  nsmgr::LinkEndReport report{node.name, interface.name, "unknown", interface.egress, {}};
  const auto ifindex = recordedIfindex(state, ref);
  if (!ifindex) return report;
  // Another device under the recorded number is not this end: its counters would lie.
  auto link = live[ref.node].links.find(*ifindex);
  if (link == live[ref.node].links.end() || link->second.name != interface.name) return report;
  const netlink::LinkInfo& info = link->second;
  report.operState = netlink::operStateName(info.operState);
  report.counters = {info.rxPackets, info.txPackets, info.rxBytes,
                     info.txBytes,   info.rxDropped, info.txDropped};
  auto drops = live[ref.node].qdiscDrops.find(*ifindex);
  if (drops != live[ref.node].qdiscDrops.end()) report.counters.qdiscDropped = drops->second;
  return report;
}

// Makes an end's egress `to`, knowing it is `from` now.
void applyImpairment(const nsmgr::LabState& state, const Wiring& wiring, const InterfaceRef& ref,
                     const topo::Impairment& from, const topo::Impairment& to) {
  const topo::Interface& interface = state.plan.nodes[ref.node].interfaces[ref.interface];
  NodeSession session(state, state.plan.nodes[ref.node].name);
  netlink::RequestBatch batch;
  netlink::changeImpairment(batch, verifiedIfindex(*session, state, wiring, ref),
                            qdiscSettingsOf(from), qdiscSettingsOf(to), nameOf(state.plan, ref),
                            interface.mtu);
  session->execute(batch);
}

// After a failed change the end's qdiscs are in no known layout: whatever is there goes, and
// the impairment it had is made anew. Best effort: the failure being reported matters more.
void restoreImpairment(const nsmgr::LabState& state, const Wiring& wiring, const InterfaceRef& ref,
                       const topo::Impairment& impairment) {
  const topo::Interface& interface = state.plan.nodes[ref.node].interfaces[ref.interface];
  const std::string name = nameOf(state.plan, ref);
  try {
    NodeSession session(state, state.plan.nodes[ref.node].name);
    const uint32_t ifindex = verifiedIfindex(*session, state, wiring, ref);
    netlink::RequestBatch removal;
    netlink::removeImpairment(removal, ifindex, name);
    try {
      session->execute(removal);
    } catch (const netlink::NetlinkError&) {
      // Nothing left to remove.
    }
    netlink::RequestBatch addition;
    netlink::addImpairment(addition, ifindex, qdiscSettingsOf(impairment), name, interface.mtu);
    session->execute(addition);
  } catch (const Error&) {
  }
}

void setAdministrativelyUp(const nsmgr::LabState& state, const Wiring& wiring,
                           const InterfaceRef& ref, bool up) {
  NodeSession session(state, state.plan.nodes[ref.node].name);
  netlink::RequestBatch batch;
  batch.setLinkUp(verifiedIfindex(*session, state, wiring, ref), up,
                  nameOf(state.plan, ref) + (up ? " up" : " down"));
  session->execute(batch);
}

bool isAdministrativelyUp(const nsmgr::LabState& state, const Wiring& wiring,
                          const InterfaceRef& ref) {
  NodeSession session(state, state.plan.nodes[ref.node].name);
  auto link = findLink(*session, verifiedIfindex(*session, state, wiring, ref));
  return link && (link->flags & IFF_UP) != 0;
}

void awaitOperationalState(const nsmgr::LabState& state, const Wiring& wiring,
                           const InterfaceRef& ref, bool up) {
  NodeSession session(state, state.plan.nodes[ref.node].name);
  const uint32_t ifindex = verifiedIfindex(*session, state, wiring, ref);
  const auto deadline = std::chrono::steady_clock::now() + kCarrierTimeout;
  for (;;) {
    auto link = findLink(*session, ifindex);
    if (link && (link->operState == IF_OPER_UP) == up) return;
    if (std::chrono::steady_clock::now() > deadline) {
      throw Error(
          nameOf(state.plan, ref) + (up ? " did not come up" : " did not go down") + " within 5 s",
          ETIMEDOUT);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

}  // namespace

std::vector<nsmgr::LinkReport> linkReports(const std::string& lab) {
  const nsmgr::LabState state = readLabState(lab);
  const Wiring wiring(state.plan);
  std::vector<NodeLinks> live;
  live.reserve(state.plan.nodes.size());
  for (const auto& node : state.plan.nodes) live.push_back(readNodeLinks(state, node.name));
  std::vector<nsmgr::LinkReport> reports;
  for (const VethPair& pair : wiring.vethPairs()) {
    // The node's end first: a switch port, when there is one, is the pair's local end.
    const bool toSwitch = wiring.isSwitchPort(pair.local);
    const InterfaceRef& a = toSwitch ? pair.peer : pair.local;
    const InterfaceRef& b = toSwitch ? pair.local : pair.peer;
    reports.push_back({endReport(state, live, a), endReport(state, live, b)});
  }
  return reports;
}

std::vector<nsmgr::LinkEndReport> editImpairments(const std::string& lab, const std::string& end,
                                                  const ImpairmentEdit& edit, Direction direction) {
  LockedLabState locked(lab);
  nsmgr::LabState& state = locked.state();
  const Wiring wiring(state.plan);
  const InterfaceRef named = findEnd(state.plan, end);
  std::vector<InterfaceRef> targets;
  if (direction != Direction::In) targets.push_back(named);
  if (direction != Direction::Out) targets.push_back(peerOf(state.plan, named));

  struct Change {
    InterfaceRef ref;
    topo::Impairment before, after;
  };
  std::vector<Change> changes;
  for (const auto& ref : targets) {
    const topo::Interface& interface = state.plan.nodes[ref.node].interfaces[ref.interface];
    Change change{ref, interface.egress, edit.clearFirst ? topo::Impairment{} : interface.egress};
    change.after.overlay(edit.fields);
    // Built once before any end is touched: an impairment the qdiscs cannot express (reorder
    // without a delay, say) is refused with nothing changed.
    netlink::RequestBatch check;
    netlink::changeImpairment(check, 0, qdiscSettingsOf(change.before),
                              qdiscSettingsOf(change.after), nameOf(state.plan, ref),
                              interface.mtu);
    changes.push_back(change);
  }
  for (size_t i = 0; i < changes.size(); ++i) {
    try {
      applyImpairment(state, wiring, changes[i].ref, changes[i].before, changes[i].after);
    } catch (const Error&) {
      for (size_t undone = 0; undone <= i; ++undone) {
        restoreImpairment(state, wiring, changes[undone].ref, changes[undone].before);
      }
      throw;
    }
  }
  std::vector<nsmgr::LinkEndReport> changed;
  for (const auto& change : changes) {
    topo::Node& node = state.plan.nodes[change.ref.node];
    topo::Interface& interface = node.interfaces[change.ref.interface];
    interface.egress = change.after;
    changed.push_back({node.name, interface.name, "", interface.egress, {}});
  }
  locked.save();
  return changed;
}

// A cable pulled from a veth pair: a veth has carrier only while both ends are administratively
// up, and it cannot drop carrier any other way (no IFLA_CARRIER, no protodown), so one end goes
// down. On a switch link that end is the switch's port: the node keeps its interface up, with
// its addresses and routes, and sees only the carrier go, as with a real cable. Between two
// nodes it is the named end, which the kernel then flushes of its IPv6 addresses and of every
// route through it; bringing the link up restores those from the plan.
void setLinkState(const std::string& lab, const std::string& end, bool up) {
  LockedLabState locked(lab);
  const nsmgr::LabState& state = locked.state();
  const Wiring wiring(state.plan);
  const InterfaceRef named = findEnd(state.plan, end);
  const InterfaceRef peer = peerOf(state.plan, named);
  if (!up) {
    const InterfaceRef& cut = wiring.isSwitchPort(peer) ? peer : named;
    const InterfaceRef& other = wiring.isSwitchPort(peer) ? named : peer;
    setAdministrativelyUp(state, wiring, cut, false);
    awaitOperationalState(state, wiring, other, false);
    return;
  }
  for (const InterfaceRef& ref : {named, peer}) {
    if (isAdministrativelyUp(state, wiring, ref)) continue;
    setAdministrativelyUp(state, wiring, ref, true);
    if (wiring.isSwitchPort(ref)) continue;
    NodeSession session(state, state.plan.nodes[ref.node].name);
    verifiedIfindex(*session, state, wiring, ref);  // the restoration's requests name it
    session->execute(wiring.interfaceRestoration(ref));
  }
  awaitOperationalState(state, wiring, named, true);
  awaitOperationalState(state, wiring, peer, true);
}

}  // namespace netlab::nsmgr
