// How a plan maps onto kernel objects: which ifindex each interface gets, which veth pairs to
// create (and from which end), and the requests that configure each node from inside.
//
// netlab picks every ifindex itself, so no request needs a lookup and every request about an
// existing device names it by ifindex in its own namespace: lo is 1, a switch's bridge 2, and
// `up` numbers the interfaces across the whole lab from kFirstInterfaceIfindex, in plan order.
// A running lab's wiring takes the numbers its state recorded: `apply` gives the interfaces it
// adds numbers above every one in use, and plan order no longer says which.
// Lab-wide numbers keep the two ends of a veth pair apart: the kernel's link watcher treats a
// carrier change as urgent only on a link whose peer has another ifindex than its own, and
// otherwise takes up to a second to let the link carry traffic.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "netlink/requests.hpp"
#include "nsmgr/state_file.hpp"
#include "topo/plan.hpp"

namespace netlab::nsmgr {

inline constexpr const char* kBridgeName = "br0";
inline constexpr uint32_t kLoopbackIfindex = 1;
inline constexpr uint32_t kBridgeIfindex = 2;
inline constexpr uint32_t kFirstInterfaceIfindex = 16;
// Veth pairs created per sendmsg: fewer system calls, bounded acks.
inline constexpr size_t kVethPairsPerBatch = 64;

// Whether the interface has an IPv6 address (and so wants a link-local one).
bool hasIpv6(const topo::Interface& interface);

struct InterfaceRef {
  size_t node = 0;
  size_t interface = 0;
};

struct VethPair {
  // The end created by the request's main part: a switch port when there is one, because
  // only the main end can be enslaved in the creating request.
  InterfaceRef local;
  InterfaceRef peer;
};

class Wiring {
 public:
  // As `up` numbers a new lab.
  explicit Wiring(const topo::Plan& plan);
  // A running lab's, each interface with the ifindex its node's record holds (throws when one
  // has none).
  Wiring(const topo::Plan& plan, const std::vector<NodeRuntime>& recorded);

  uint32_t ifindexOf(const InterfaceRef& ref) const;
  const std::vector<VethPair>& vethPairs() const { return pairs_; }
  // Everything about the end but its namespace fd, which only the running lab has.
  netlink::LinkEnd linkEnd(const InterfaceRef& ref) const;
  // "veth r1:eth0 <-> r2:eth0"
  std::string describe(const VethPair& pair) const;
  // The veth pairs [first, end) of vethPairs(), each end born in the namespace of its node
  // (netnsOf: node index -> namespace fd).
  netlink::RequestBatch vethPairCreation(size_t first, size_t end,
                                         const std::function<int(size_t)>& netnsOf) const;
  // A switch's bridge, born in the switch's namespace.
  netlink::RequestBatch bridgeCreation(size_t node, int netnsFd) const;
  // The requests that finish a node from inside its namespace, in the order the kernel needs:
  // enslave links, choose how each generates its IPv6 link-local address (none, unless it
  // carries IPv6: thousands of them would flood bridges with multicast) before raising it,
  // then addresses, then routes (an IPv4 gateway must be on a connected subnet of an up
  // link), then each interface's egress impairments. Links are born down for this. A node
  // started again (`netlab node start`) still has its IPv4 addresses: `existing` Replace.
  netlink::RequestBatch nodeConfiguration(
      size_t node, netlink::Existing existing = netlink::Existing::Fail) const;
  // Whether any interface of the node carries IPv6 (and so a link-local address).
  bool carriesIpv6(size_t node) const;
  // What the kernel flushed when the interface went administratively down: its IPv6
  // addresses and the routes through it. Sent with the link up again, as replacements, since
  // its IPv4 addresses stayed.
  netlink::RequestBatch interfaceRestoration(const InterfaceRef& ref) const;
  // A veth end made again beside a running node, whose peer node starts in new namespaces
  // (`netlab node start` of a node whose init ended by itself): configured as
  // nodeConfiguration configures it: enslaved if it is a switch's port born unenslaved, up,
  // with its addresses, the routes through it and its impairment.
  netlink::RequestBatch endConfiguration(const InterfaceRef& ref) const;
  bool isSwitchPort(const InterfaceRef& ref) const;

 private:
  void pairEnds();
  const topo::Interface& interfaceOf(const InterfaceRef& ref) const;
  void addRestoration(const InterfaceRef& ref, netlink::RequestBatch& batch) const;
  // The node's routes, or only those through one of its interfaces.
  void addRoutes(size_t node, netlink::RequestBatch& batch,
                 const std::optional<size_t>& onlyThroughInterface = std::nullopt,
                 netlink::Existing existing = netlink::Existing::Fail) const;

  const topo::Plan& plan_;
  std::vector<VethPair> pairs_;
  // Per node, per interface: created as the peer of its pair (so down, and not enslaved).
  std::vector<std::vector<bool>> createdAsPeer_;
  // Per node, per interface.
  std::vector<std::vector<uint32_t>> ifindexes_;
};

}  // namespace netlab::nsmgr
