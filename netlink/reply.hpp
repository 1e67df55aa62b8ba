// Parsing what the kernel sends back: acknowledgements with their extended-ack text, and
// link and address dumps. Pure functions over bytes, so they are tested on hand-built buffers.
//
// Nothing is read before it is checked: a message's length against its datagram, a fixed
// header against the message, and every attribute that is read against its type and length
// (libmnl's mnl_attr_validate, as iproute2 validates extended acks). A message that fails a
// check is rejected whole (nullopt), never read in part.
#pragma once

#include <linux/netlink.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/ip.hpp"
#include "base/mac.hpp"

namespace netlab::netlink {

struct Ack {
  uint32_t sequence = 0;
  int error = 0;  // 0 or a positive errno (the kernel sends it negated)
  std::string extackMessage;
};

struct LinkInfo {
  uint32_t ifindex = 0;
  std::string name;
  uint32_t flags = 0;     // IFF_*
  uint8_t operState = 0;  // IF_OPER_*
  uint32_t mtu = 0;
  uint32_t masterIfindex = 0;
  uint32_t linkNetnsPeerIfindex = 0;  // IFLA_LINK: the veth peer's ifindex
  std::optional<Mac> mac;
  std::string kind;  // "veth", "bridge", ... (IFLA_INFO_KIND); empty for lo
  uint64_t rxPackets = 0, txPackets = 0, rxBytes = 0, txBytes = 0, rxDropped = 0, txDropped = 0;
};

struct AddressInfo {
  uint32_t ifindex = 0;
  IpPrefix address;
  uint8_t scope = 0;
};

struct NextHop {
  std::optional<IpAddress> gateway;
  uint32_t oifindex = 0;
};

// A route of the main table, with its next hops (several for a multipath route).
struct RouteInfo {
  IpPrefix destination;  // 0.0.0.0/0 or ::/0 for a default route
  uint8_t protocol = 0;  // RTPROT_*: kernel, static, a daemon's
  std::vector<NextHop> nextHops;
};

// Walks every netlink message in a datagram; fn returns false to stop. A message whose length
// is shorter than its header or runs past the datagram, or bytes left over after the last
// message, throw Error: the datagram is malformed and nothing after that point can be trusted.
void forEachMessage(std::span<const uint8_t> datagram,
                    const std::function<bool(const nlmsghdr&)>& fn);

// An NLMSG_ERROR message as an Ack (error 0 is a plain acknowledgement). One too short to hold
// its nlmsgerr is error EPROTO.
Ack parseAck(const nlmsghdr& message);
// The NLMSG_DONE that ends a dump: error 0, or the errno that cut the dump short (the kernel
// sends it negated in place of the usual 0), with its extended-ack text. EPROTO if too short.
Ack parseDone(const nlmsghdr& message);
std::optional<LinkInfo> parseLink(const nlmsghdr& message);
std::optional<AddressInfo> parseAddress(const nlmsghdr& message);
// A unicast route of the main table; nullopt for any other (local, broadcast, other tables).
std::optional<RouteInfo> parseRoute(const nlmsghdr& message);

std::string operStateName(uint8_t operState);

}  // namespace netlab::netlink
