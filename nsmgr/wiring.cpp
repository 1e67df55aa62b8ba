#include "nsmgr/wiring.hpp"

#include <linux/if_link.h>

#include <algorithm>
#include <unordered_map>

#include "base/error.hpp"
#include "netlink/qdisc.hpp"
#include "nsmgr/impairment.hpp"

namespace netlab::nsmgr {
bool hasIpv6(const topo::Interface& interface) {
  for (const auto& address : interface.addresses) {
    if (address.address.family == Family::V6) return true;
  }
  return false;
}

namespace {

std::string endName(const topo::Node& node, const topo::Interface& interface) {
  return node.name + ":" + interface.name;
}

}  // namespace

Wiring::Wiring(const topo::Plan& plan) : plan_(plan) {
  uint32_t nextIfindex = kFirstInterfaceIfindex;
  for (const auto& node : plan.nodes) {
    auto& ifindexes = ifindexes_.emplace_back();
    for (size_t i = 0; i < node.interfaces.size(); ++i) ifindexes.push_back(nextIfindex++);
  }
  pairEnds();
}

Wiring::Wiring(const topo::Plan& plan, const std::vector<NodeRuntime>& recorded) : plan_(plan) {
  std::unordered_map<std::string, uint32_t> ifindexOfEnd;
  for (const auto& node : recorded) {
    for (const auto& interface : node.interfaces) {
      ifindexOfEnd.emplace(node.name + ":" + interface.name, interface.ifindex);
    }
  }
  for (const auto& node : plan.nodes) {
    auto& ifindexes = ifindexes_.emplace_back();
    for (const auto& interface : node.interfaces) {
      auto found = ifindexOfEnd.find(endName(node, interface));
      if (found == ifindexOfEnd.end()) {
        throw Error("state: " + endName(node, interface) + " has no recorded ifindex");
      }
      ifindexes.push_back(found->second);
    }
  }
  pairEnds();
}

void Wiring::pairEnds() {
  const topo::Plan& plan = plan_;
  std::unordered_map<std::string, size_t> nodeIndex;
  for (size_t n = 0; n < plan.nodes.size(); ++n) nodeIndex.emplace(plan.nodes[n].name, n);
  for (const auto& node : plan.nodes) createdAsPeer_.emplace_back(node.interfaces.size(), false);
  for (size_t n = 0; n < plan.nodes.size(); ++n) {
    const topo::Node& node = plan.nodes[n];
    for (size_t i = 0; i < node.interfaces.size(); ++i) {
      const topo::Interface& interface = node.interfaces[i];
      auto peerNode = nodeIndex.find(interface.peerNode);
      if (peerNode == nodeIndex.end()) {
        throw Error("plan: " + endName(node, interface) + " names unknown peer node " +
                    interface.peerNode);
      }
      const topo::Node& peer = plan.nodes[peerNode->second];
      size_t peerInterface = 0;
      while (peerInterface < peer.interfaces.size() &&
             peer.interfaces[peerInterface].name != interface.peerInterface) {
        ++peerInterface;
      }
      if (peerInterface == peer.interfaces.size()) {
        throw Error("plan: " + endName(node, interface) + " names unknown peer interface " +
                    interface.peerNode + ":" + interface.peerInterface);
      }
      InterfaceRef self{n, i};
      InterfaceRef other{peerNode->second, peerInterface};
      // Each pair is met twice; it is created once, from the end met first.
      if (std::tie(other.node, other.interface) < std::tie(self.node, self.interface)) continue;
      bool selfIsPort = node.kind == topo::NodeKind::Switch;
      bool otherIsPort = peer.kind == topo::NodeKind::Switch;
      VethPair pair = (otherIsPort && !selfIsPort) ? VethPair{other, self} : VethPair{self, other};
      createdAsPeer_[pair.peer.node][pair.peer.interface] = true;
      pairs_.push_back(pair);
    }
  }
}

const topo::Interface& Wiring::interfaceOf(const InterfaceRef& ref) const {
  return plan_.nodes[ref.node].interfaces[ref.interface];
}

uint32_t Wiring::ifindexOf(const InterfaceRef& ref) const {
  return ifindexes_[ref.node][ref.interface];
}

bool Wiring::isSwitchPort(const InterfaceRef& ref) const {
  return plan_.nodes[ref.node].kind == topo::NodeKind::Switch;
}

bool Wiring::carriesIpv6(size_t node) const {
  const auto& interfaces = plan_.nodes[node].interfaces;
  return std::any_of(interfaces.begin(), interfaces.end(), hasIpv6);
}

netlink::LinkEnd Wiring::linkEnd(const InterfaceRef& ref) const {
  const topo::Interface& interface = interfaceOf(ref);
  netlink::LinkEnd end;
  end.name = interface.name;
  end.ifindex = ifindexOf(ref);
  end.mac = interface.mac;
  end.mtu = interface.mtu;
  if (isSwitchPort(ref) && !createdAsPeer_[ref.node][ref.interface])
    end.masterIfindex = kBridgeIfindex;
  return end;
}

std::string Wiring::describe(const VethPair& pair) const {
  return "veth " + endName(plan_.nodes[pair.local.node], interfaceOf(pair.local)) + " <-> " +
         endName(plan_.nodes[pair.peer.node], interfaceOf(pair.peer));
}

netlink::RequestBatch Wiring::vethPairCreation(size_t first, size_t end,
                                               const std::function<int(size_t)>& netnsOf) const {
  netlink::RequestBatch batch;
  for (size_t p = first; p < end; ++p) {
    const VethPair& pair = pairs_[p];
    netlink::LinkEnd local = linkEnd(pair.local);
    local.netnsFd = netnsOf(pair.local.node);
    netlink::LinkEnd peer = linkEnd(pair.peer);
    peer.netnsFd = netnsOf(pair.peer.node);
    batch.newVethPair(local, peer, describe(pair));
  }
  return batch;
}

netlink::RequestBatch Wiring::bridgeCreation(size_t node, int netnsFd) const {
  netlink::LinkEnd bridge;
  bridge.name = kBridgeName;
  bridge.ifindex = kBridgeIfindex;
  bridge.netnsFd = netnsFd;
  netlink::RequestBatch batch;
  batch.newBridge(bridge, "bridge " + plan_.nodes[node].name + ":" + kBridgeName);
  return batch;
}

netlink::RequestBatch Wiring::nodeConfiguration(size_t n, netlink::Existing existing) const {
  const topo::Node& node = plan_.nodes[n];
  netlink::RequestBatch batch;
  batch.setLinkUp(kLoopbackIfindex, true, node.name + ":lo up");
  if (node.kind == topo::NodeKind::Switch) {
    const std::string bridge = node.name + ":" + kBridgeName;
    batch.setAddrGenMode(kBridgeIfindex, IN6_ADDR_GEN_MODE_NONE, bridge + " addrgenmode none");
    batch.setLinkUp(kBridgeIfindex, true, bridge + " up");
  }
  for (size_t i = 0; i < node.interfaces.size(); ++i) {
    InterfaceRef ref{n, i};
    const std::string name = endName(node, node.interfaces[i]);
    if (isSwitchPort(ref) && createdAsPeer_[n][i]) {
      batch.setMaster(ifindexOf(ref), kBridgeIfindex, name + " master " + kBridgeName);
    }
    bool ipv6 = hasIpv6(node.interfaces[i]);
    batch.setAddrGenMode(ifindexOf(ref), ipv6 ? IN6_ADDR_GEN_MODE_EUI64 : IN6_ADDR_GEN_MODE_NONE,
                         name + (ipv6 ? " addrgenmode eui64" : " addrgenmode none"));
    batch.setLinkUp(ifindexOf(ref), true, name + " up");
  }
  for (const auto& address : node.loopbackAddresses) {
    batch.newAddress(kLoopbackIfindex, address, node.name + ":lo address " + toString(address),
                     existing);
  }
  for (size_t i = 0; i < node.interfaces.size(); ++i) {
    for (const auto& address : node.interfaces[i].addresses) {
      batch.newAddress(ifindexOf({n, i}), address,
                       endName(node, node.interfaces[i]) + " address " + toString(address),
                       existing);
    }
  }
  addRoutes(n, batch, std::nullopt, existing);
  for (size_t i = 0; i < node.interfaces.size(); ++i) {
    const topo::Interface& interface = node.interfaces[i];
    netlink::addImpairment(batch, ifindexOf({n, i}), qdiscSettingsOf(interface.egress),
                           endName(node, interface), interface.mtu);
  }
  return batch;
}

netlink::RequestBatch Wiring::interfaceRestoration(const InterfaceRef& ref) const {
  netlink::RequestBatch batch;
  addRestoration(ref, batch);
  return batch;
}

netlink::RequestBatch Wiring::endConfiguration(const InterfaceRef& ref) const {
  const topo::Node& node = plan_.nodes[ref.node];
  const topo::Interface& interface = interfaceOf(ref);
  const std::string name = endName(node, interface);
  netlink::RequestBatch batch;
  if (isSwitchPort(ref) && createdAsPeer_[ref.node][ref.interface]) {
    batch.setMaster(ifindexOf(ref), kBridgeIfindex, name + " master " + kBridgeName);
  }
  const bool ipv6 = hasIpv6(interface);
  batch.setAddrGenMode(ifindexOf(ref), ipv6 ? IN6_ADDR_GEN_MODE_EUI64 : IN6_ADDR_GEN_MODE_NONE,
                       name + (ipv6 ? " addrgenmode eui64" : " addrgenmode none"));
  batch.setLinkUp(ifindexOf(ref), true, name + " up");
  addRestoration(ref, batch);
  netlink::addImpairment(batch, ifindexOf(ref), qdiscSettingsOf(interface.egress), name,
                         interface.mtu);
  return batch;
}

void Wiring::addRestoration(const InterfaceRef& ref, netlink::RequestBatch& batch) const {
  const topo::Node& node = plan_.nodes[ref.node];
  const topo::Interface& interface = interfaceOf(ref);
  for (const auto& address : interface.addresses) {
    batch.newAddress(ifindexOf(ref), address,
                     endName(node, interface) + " address " + toString(address),
                     netlink::Existing::Replace);
  }
  addRoutes(ref.node, batch, ref.interface, netlink::Existing::Replace);
}

namespace {

// A route goes through an interface when it names it, or when its gateway is on one of the
// interface's subnets (the kernel then picks that interface).
bool routesThrough(const topo::Route& route, const topo::Interface& interface) {
  if (!route.device.empty()) return route.device == interface.name;
  return route.gateway &&
         std::any_of(interface.addresses.begin(), interface.addresses.end(),
                     [&](const IpPrefix& subnet) { return contains(subnet, *route.gateway); });
}

}  // namespace

void Wiring::addRoutes(size_t n, netlink::RequestBatch& batch,
                       const std::optional<size_t>& onlyThroughInterface,
                       netlink::Existing existing) const {
  const topo::Node& node = plan_.nodes[n];
  for (const auto& route : node.routes) {
    if (onlyThroughInterface && !routesThrough(route, node.interfaces[*onlyThroughInterface])) {
      continue;
    }
    netlink::RouteSpec spec;
    spec.destination = route.destination;
    spec.gateway = route.gateway;
    spec.metric = route.metric;
    std::string description = node.name + " route " + toString(route.destination);
    if (route.gateway) description += " via " + toString(*route.gateway);
    if (!route.device.empty()) {
      description += " dev " + route.device;
      for (size_t i = 0; i < node.interfaces.size(); ++i) {
        if (node.interfaces[i].name == route.device) spec.oifindex = ifindexOf({n, i});
      }
      if (route.device == "lo") spec.oifindex = kLoopbackIfindex;
      if (spec.oifindex == 0) throw Error(description + ": no interface " + route.device);
    }
    batch.newRoute(spec, description, existing);
  }
}

}  // namespace netlab::nsmgr
