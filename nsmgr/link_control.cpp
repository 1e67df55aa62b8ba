#include "nsmgr/link_control.hpp"

#include <linux/if.h>
#include <linux/pkt_sched.h>

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
  const auto link = session.getLink(*recorded);
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

// What one node's kernel says about its links: by ifindex, with their qdiscs.
struct NodeLinks {
  std::map<uint32_t, netlink::LinkInfo> links;
  std::map<uint32_t, std::vector<netlink::QdiscInfo>> qdiscs;
};

NodeLinks readNodeLinks(const nsmgr::LabState& state, const std::string& node) {
  NodeLinks found;
  try {
    NodeSession session(state, node);
    for (auto& link : session->dumpLinks()) found.links[link.ifindex] = std::move(link);
    for (auto& qdisc : netlink::dumpAllQdiscs(*session)) {
      found.qdiscs[qdisc.ifindex].push_back(std::move(qdisc));
    }
  } catch (const Error&) {
    // A node that is gone has no links to read; its ends are reported as unknown.
  }
  return found;
}

// "netem 8001: root, pfifo 10: parent 8001:1", as tc names qdiscs.
std::string describeQdiscs(const std::vector<netlink::QdiscInfo>& qdiscs) {
  std::string text;
  for (const auto& qdisc : qdiscs) {
    if (qdisc.handle == 0) continue;
    text += (text.empty() ? "" : ", ") + qdisc.kind + " " + netlink::handleName(qdisc.handle) +
            (qdisc.parent == TC_H_ROOT ? " root" : " parent " + netlink::handleName(qdisc.parent));
  }
  return text;
}

// An end's egress as its device's qdiscs hold it, which is the truth whatever the state file
// says: a `link set` killed between the kernel and the record leaves them apart.
struct EgressInForce {
  // As recorded when the kernel holds exactly that (the record keeps the values as written,
  // "20%", the kernel only its units), else as the kernel holds it.
  topo::Impairment impairment;
  // As read (nullopt: qdiscs netlab did not lay out, which `foreign` names).
  std::optional<netlink::QdiscSettings> settings;
  std::string foreign;
};

bool holdsExactly(const netlink::QdiscSettings& held, const topo::Interface& interface) {
  try {
    return held == netlink::asHeld(qdiscSettingsOf(interface.egress), interface.mtu);
  } catch (const Error&) {
    return false;  // a record no qdisc could hold is no description of the kernel's
  }
}

EgressInForce egressInForce(const std::vector<netlink::QdiscInfo>& qdiscs,
                            const topo::Interface& interface) {
  EgressInForce egress;
  egress.settings = netlink::settingsInForce(qdiscs, interface.mtu);
  if (!egress.settings) {
    egress.foreign = describeQdiscs(qdiscs);
  } else if (holdsExactly(*egress.settings, interface)) {
    egress.impairment = interface.egress;
  } else {
    egress.impairment = impairmentOf(*egress.settings);
  }
  return egress;
}

nsmgr::LinkEndReport endReport(const LabState& state, const std::vector<NodeLinks>& live,
                               const InterfaceRef& ref) {
  const topo::Node& node = state.plan.nodes[ref.node];
  const topo::Interface& interface = node.interfaces[ref.interface];
  nsmgr::LinkEndReport report{node.name, interface.name, "unknown", interface.egress, {}, {}};
  const auto ifindex = recordedIfindex(state, ref);
  if (!ifindex) return report;
  // Another device under the recorded number is not this end: its counters would lie.
  auto link = live[ref.node].links.find(*ifindex);
  if (link == live[ref.node].links.end() || link->second.name != interface.name) return report;
  const netlink::LinkInfo& info = link->second;
  report.operState = netlink::operStateName(info.operState);
  report.counters = {info.rxPackets, info.txPackets, info.rxBytes,
                     info.txBytes,   info.rxDropped, info.txDropped};
  const auto qdiscs = live[ref.node].qdiscs.find(*ifindex);
  const std::vector<netlink::QdiscInfo> none;
  const auto& deviceQdiscs = qdiscs == live[ref.node].qdiscs.end() ? none : qdiscs->second;
  for (const auto& qdisc : deviceQdiscs) report.counters.qdiscDropped += qdisc.drops;
  EgressInForce egress = egressInForce(deviceQdiscs, interface);
  report.egress = egress.impairment;
  report.foreignQdiscs = egress.foreign;
  return report;
}

// What the end's device holds now, read from its node's kernel.
EgressInForce readEgress(const nsmgr::LabState& state, const Wiring& wiring,
                         const InterfaceRef& ref) {
  NodeSession session(state, state.plan.nodes[ref.node].name);
  const uint32_t ifindex = verifiedIfindex(*session, state, wiring, ref);
  return egressInForce(netlink::dumpQdiscs(*session, ifindex),
                       state.plan.nodes[ref.node].interfaces[ref.interface]);
}

// Makes an end's egress `to`, from what its device holds now (read again, under the lab's
// lock, so it is what the kernel has, whatever the record says).
void applyImpairment(const nsmgr::LabState& state, const Wiring& wiring, const InterfaceRef& ref,
                     const topo::Impairment& to) {
  const topo::Interface& interface = state.plan.nodes[ref.node].interfaces[ref.interface];
  NodeSession session(state, state.plan.nodes[ref.node].name);
  const uint32_t ifindex = verifiedIfindex(*session, state, wiring, ref);
  const auto qdiscs = netlink::dumpQdiscs(*session, ifindex);
  netlink::RequestBatch batch;
  netlink::changeImpairment(batch, ifindex, netlink::settingsInForce(qdiscs, interface.mtu),
                            qdiscSettingsOf(to), nameOf(state.plan, ref), interface.mtu,
                            netlink::rootHandleOf(qdiscs));
  session->execute(batch);
}

// After a failed change the end's qdiscs may be half-replaced: it is made what it was, from
// whatever it holds now. Best effort: the failure being reported matters more. (Qdiscs that
// were not netlab's are not remade: the end is left with `before`, none.)
void restoreImpairment(const nsmgr::LabState& state, const Wiring& wiring, const InterfaceRef& ref,
                       const topo::Impairment& before) {
  try {
    applyImpairment(state, wiring, ref, before);
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
  auto link = session->getLink(verifiedIfindex(*session, state, wiring, ref));
  return link && (link->flags & IFF_UP) != 0;
}

void awaitOperationalState(const nsmgr::LabState& state, const Wiring& wiring,
                           const InterfaceRef& ref, bool up) {
  NodeSession session(state, state.plan.nodes[ref.node].name);
  const uint32_t ifindex = verifiedIfindex(*session, state, wiring, ref);
  const auto deadline = std::chrono::steady_clock::now() + kCarrierTimeout;
  for (;;) {
    auto link = session->getLink(ifindex);
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
  const Wiring wiring(state.plan, state.nodes);
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

// The kernel is the truth and the state file its record. Each end starts from what its device
// holds, read under the lab's lock, so a command killed between the kernel and the record (or
// a full disk) leaves nothing the next one trips on; both ends of the link are recorded as
// they end up, so the record agrees with the kernel again; and a record that cannot be saved
// puts the kernel back as it was.
std::vector<nsmgr::LinkEndReport> editImpairments(const std::string& lab, const std::string& end,
                                                  const ImpairmentEdit& edit, Direction direction) {
  LockedLabState locked(lab);
  nsmgr::LabState& state = locked.state();
  const Wiring wiring(state.plan, state.nodes);
  const InterfaceRef named = findEnd(state.plan, end);
  const InterfaceRef peer = peerOf(state.plan, named);

  struct End {
    InterfaceRef ref;
    bool changed = false;  // named by the direction; the other end is only recorded
    EgressInForce before;
    topo::Impairment after;
  };
  std::vector<End> ends;
  for (const bool isNamed : {true, false}) {
    const InterfaceRef& ref = isNamed ? named : peer;
    End link{ref,
             isNamed ? direction != Direction::In : direction != Direction::Out,
             readEgress(state, wiring, ref),
             {}};
    link.after = link.changed && edit.clearFirst ? topo::Impairment{} : link.before.impairment;
    if (link.changed) {
      link.after.overlay(edit.fields);
      // Checked before any end is touched: an impairment the qdiscs cannot express (reorder
      // without a delay, say) is refused with nothing changed.
      const topo::Interface& interface = state.plan.nodes[ref.node].interfaces[ref.interface];
      netlink::RequestBatch check;
      netlink::changeImpairment(check, 0, std::nullopt, qdiscSettingsOf(link.after),
                                nameOf(state.plan, ref), interface.mtu);
    }
    ends.push_back(std::move(link));
  }
  auto restoreChanged = [&](size_t count) {
    for (size_t i = 0; i < count; ++i) {
      if (ends[i].changed) restoreImpairment(state, wiring, ends[i].ref, ends[i].before.impairment);
    }
  };
  for (size_t i = 0; i < ends.size(); ++i) {
    if (!ends[i].changed) continue;
    try {
      applyImpairment(state, wiring, ends[i].ref, ends[i].after);
    } catch (const Error&) {
      restoreChanged(i + 1);
      throw;
    }
  }
  std::vector<nsmgr::LinkEndReport> changed;
  for (const End& link : ends) {
    topo::Node& node = state.plan.nodes[link.ref.node];
    topo::Interface& interface = node.interfaces[link.ref.interface];
    // Qdiscs that are not netlab's, on an end left alone, have no record to take.
    if (link.changed || link.before.settings) interface.egress = link.after;
    if (link.changed) changed.push_back({node.name, interface.name, "", interface.egress, {}, {}});
  }
  try {
    locked.save();
  } catch (const Error&) {
    restoreChanged(ends.size());
    throw;
  }
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
  const Wiring wiring(state.plan, state.nodes);
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

void changeEgress(const nsmgr::LabState& state, const std::string& end,
                  const topo::Impairment& to) {
  const Wiring wiring(state.plan, state.nodes);
  applyImpairment(state, wiring, findEnd(state.plan, end), to);
}

void removeLink(const nsmgr::LabState& state, const std::string& end) {
  const Wiring wiring(state.plan, state.nodes);
  const InterfaceRef ref = findEnd(state.plan, end);
  NodeSession session(state, state.plan.nodes[ref.node].name);
  netlink::RequestBatch batch;
  batch.deleteLink(verifiedIfindex(*session, state, wiring, ref), end + " delete");
  session->execute(batch);
}

}  // namespace netlab::nsmgr
