#include "netlink/reply.hpp"

#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>
#include <limits>

#include "base/error.hpp"

namespace netlab::netlink {
namespace {

// What an attribute must be before it is read: a libmnl type, whose length mnl_attr_validate
// checks (exactly 4 bytes for a u32, a NUL inside a NUL_STRING, ...), or binary data of an exact
// size (an address: 4 or 16 bytes; a MAC: 6) checked by mnl_attr_validate2. Attributes without
// a rule are never read, so they are skipped unchecked (a newer kernel adds attributes).
struct Rule {
  mnl_attr_data_type type = MNL_TYPE_UNSPEC;
  size_t size = 0;  // MNL_TYPE_BINARY only: the exact payload size; 0 for any
};

bool valid(const nlattr* attribute, const Rule& rule) {
  if (rule.type == MNL_TYPE_BINARY && rule.size != 0) {
    return mnl_attr_validate2(attribute, MNL_TYPE_BINARY, rule.size) == 0;
  }
  return mnl_attr_validate(attribute, rule.type) == 0;
}

// Walks the attributes in [data, data + length). False if one is shorter than its own header or
// runs past the region, or bytes are left that cannot be an attribute (iproute2's "deficit").
template <typename Fn>
bool walkAttributes(const void* data, size_t length, Fn fn) {
  if (length > static_cast<size_t>(std::numeric_limits<int>::max())) return false;
  const auto* attribute = static_cast<const nlattr*>(data);
  int remaining = static_cast<int>(length);
  while (mnl_attr_ok(attribute, remaining)) {
    fn(attribute);
    remaining -= static_cast<int>(MNL_ALIGN(attribute->nla_len));
    attribute = mnl_attr_next(attribute);
  }
  // An unpadded last attribute takes remaining below zero; anything above zero is left over.
  return remaining <= 0;
}

// The attributes of one message, indexed by type, for types up to Max, each checked against
// its rule as it is stored. ok() is false if the attributes could not be walked to their end
// or one that would be read failed its rule: the message is then rejected whole.
template <int Max>
class AttributeTable {
 public:
  using Rules = std::array<Rule, Max + 1>;

  AttributeTable(const nlmsghdr& message, size_t headerSize, const Rules& rules) {
    size_t offset = NLMSG_HDRLEN + MNL_ALIGN(headerSize);
    size_t length = message.nlmsg_len > offset ? message.nlmsg_len - offset : 0;
    fill(reinterpret_cast<const uint8_t*>(&message) + offset, length, rules);
  }
  AttributeTable(const nlattr* nest, const Rules& rules) {
    fill(mnl_attr_get_payload(nest), mnl_attr_get_payload_len(nest), rules);
  }

  bool ok() const { return ok_; }
  const nlattr* operator[](int type) const { return at_[type]; }

 private:
  void fill(const void* data, size_t length, const Rules& rules) {
    bool walked = walkAttributes(data, length, [&](const nlattr* attribute) {
      uint16_t type = mnl_attr_get_type(attribute);
      if (type > Max || rules[type].type == MNL_TYPE_UNSPEC) return;
      if (!valid(attribute, rules[type])) {
        ok_ = false;
        return;
      }
      at_[type] = attribute;
    });
    ok_ = ok_ && walked;
  }

  const nlattr* at_[Max + 1] = {};
  bool ok_ = true;
};

bool payloadFits(const nlmsghdr& message, size_t size) {
  return message.nlmsg_len >= NLMSG_LENGTH(size);
}

// A string attribute already validated (NUL_STRING: the NUL is inside the payload).
std::string attributeString(const nlattr* attribute) {
  const char* text = static_cast<const char*>(mnl_attr_get_payload(attribute));
  return {text, strnlen(text, mnl_attr_get_payload_len(attribute))};
}

// The counters netlab reads end with tx_dropped; a kernel may send a longer struct (newer
// fields at the end) or, with older headers, this one may be the longer: copy what both have.
constexpr size_t kStatsBytesRead = offsetof(rtnl_link_stats64, tx_dropped) + sizeof(uint64_t);

bool readLinkStats(const nlattr* attribute, LinkInfo& link) {
  size_t length = mnl_attr_get_payload_len(attribute);
  if (length < kStatsBytesRead) return false;
  rtnl_link_stats64 stats{};
  std::memcpy(&stats, mnl_attr_get_payload(attribute), std::min(length, sizeof stats));
  link.rxPackets = stats.rx_packets;
  link.txPackets = stats.tx_packets;
  link.rxBytes = stats.rx_bytes;
  link.txBytes = stats.tx_bytes;
  link.rxDropped = stats.rx_dropped;
  link.txDropped = stats.tx_dropped;
  return true;
}

Family familyOf(uint8_t addressFamily) {
  return addressFamily == AF_INET ? Family::V4 : Family::V6;
}

size_t addressSize(Family family) {
  return family == Family::V4 ? 4 : 16;
}

// An address attribute already validated to the family's size.
IpAddress addressIn(const nlattr* attribute, Family family) {
  IpAddress address;
  address.family = family;
  std::memcpy(address.bytes.data(), mnl_attr_get_payload(attribute), address.size());
  return address;
}

// The extended-ack text after an NLMSG_ERROR's or NLMSG_DONE's fixed part; empty when there is
// none or the attributes are malformed (the errno is what matters, so the ack stands).
std::string extackText(const nlmsghdr& message, size_t fixedPart) {
  if (!(message.nlmsg_flags & NLM_F_ACK_TLVS) || !payloadFits(message, fixedPart)) return {};
  AttributeTable<NLMSGERR_ATTR_MAX>::Rules rules{};
  rules[NLMSGERR_ATTR_MSG] = {MNL_TYPE_NUL_STRING};
  AttributeTable<NLMSGERR_ATTR_MAX> attributes(message, fixedPart, rules);
  if (!attributes.ok() || !attributes[NLMSGERR_ATTR_MSG]) return {};
  return attributeString(attributes[NLMSGERR_ATTR_MSG]);
}

// RTA_MULTIPATH: rtnexthop records, each followed by its own attributes (the gateway). False if
// a record or one of its attributes runs past its bounds, or there is no record at all.
bool readMultipath(const nlattr* multipath, Family family, RouteInfo& route) {
  const auto* data = static_cast<const uint8_t*>(mnl_attr_get_payload(multipath));
  size_t remaining = mnl_attr_get_payload_len(multipath);
  const Rule gatewayRule{MNL_TYPE_BINARY, addressSize(family)};
  while (remaining > 0) {
    rtnexthop hop;
    if (remaining < sizeof hop) return false;
    std::memcpy(&hop, data, sizeof hop);
    if (hop.rtnh_len < sizeof hop || hop.rtnh_len > remaining) return false;
    NextHop next{std::nullopt, static_cast<uint32_t>(hop.rtnh_ifindex)};
    size_t attributesAt = RTNH_ALIGN(sizeof hop);
    size_t attributesLength = hop.rtnh_len > attributesAt ? hop.rtnh_len - attributesAt : 0;
    const nlattr* gateway = nullptr;
    bool gatewayValid = true;
    bool walked =
        walkAttributes(data + attributesAt, attributesLength, [&](const nlattr* attribute) {
          if (mnl_attr_get_type(attribute) != RTA_GATEWAY) return;
          gateway = attribute;
          gatewayValid = gatewayValid && valid(attribute, gatewayRule);
        });
    if (!walked || !gatewayValid) return false;
    if (gateway) next.gateway = addressIn(gateway, family);
    route.nextHops.push_back(next);
    size_t step = std::min<size_t>(remaining, RTNH_ALIGN(hop.rtnh_len));
    data += step;
    remaining -= step;
  }
  return !route.nextHops.empty();
}

}  // namespace

void forEachMessage(std::span<const uint8_t> datagram,
                    const std::function<bool(const nlmsghdr&)>& fn) {
  size_t offset = 0;
  while (offset < datagram.size()) {
    size_t left = datagram.size() - offset;
    nlmsghdr header;
    if (left < sizeof header) {
      throw Error("netlink datagram of " + std::to_string(datagram.size()) +
                      " bytes: " + std::to_string(left) + " bytes left over after its last message",
                  EPROTO);
    }
    std::memcpy(&header, datagram.data() + offset, sizeof header);
    if (header.nlmsg_len < sizeof header || header.nlmsg_len > left) {
      throw Error("netlink datagram of " + std::to_string(datagram.size()) +
                      " bytes: the message at byte " + std::to_string(offset) + " claims " +
                      std::to_string(header.nlmsg_len) + " bytes, " + std::to_string(left) +
                      " remain",
                  EPROTO);
    }
    if (!fn(*reinterpret_cast<const nlmsghdr*>(datagram.data() + offset))) return;
    offset += std::min<size_t>(left, NLMSG_ALIGN(header.nlmsg_len));
  }
}

Ack parseAck(const nlmsghdr& message) {
  Ack ack;
  ack.sequence = message.nlmsg_seq;
  if (!payloadFits(message, sizeof(nlmsgerr))) {
    ack.error = EPROTO;
    return ack;
  }
  nlmsgerr error;
  std::memcpy(&error, mnl_nlmsg_get_payload(&message), sizeof error);
  ack.error = -error.error;
  // The extended-ack attributes follow the echoed request, which is only its header when
  // the kernel capped it (NETLINK_CAP_ACK).
  size_t echoed = (message.nlmsg_flags & NLM_F_CAPPED) ? sizeof(nlmsghdr) : error.msg.nlmsg_len;
  if (echoed < sizeof(nlmsghdr)) return ack;
  ack.extackMessage = extackText(message, sizeof(int) + echoed);
  return ack;
}

Ack parseDone(const nlmsghdr& message) {
  Ack done;
  done.sequence = message.nlmsg_seq;
  int error = 0;
  if (!payloadFits(message, sizeof error)) {
    done.error = EPROTO;
    return done;
  }
  std::memcpy(&error, mnl_nlmsg_get_payload(&message), sizeof error);
  done.error = error < 0 ? -error : 0;
  done.extackMessage = extackText(message, sizeof error);
  return done;
}

std::optional<LinkInfo> parseLink(const nlmsghdr& message) {
  if (!payloadFits(message, sizeof(ifinfomsg))) return std::nullopt;
  ifinfomsg header;
  std::memcpy(&header, mnl_nlmsg_get_payload(&message), sizeof header);
  LinkInfo link;
  link.ifindex = static_cast<uint32_t>(header.ifi_index);
  link.flags = header.ifi_flags;
  static const AttributeTable<IFLA_MAX>::Rules rules = [] {
    AttributeTable<IFLA_MAX>::Rules r{};
    r[IFLA_IFNAME] = {MNL_TYPE_NUL_STRING};
    r[IFLA_OPERSTATE] = {MNL_TYPE_U8};
    r[IFLA_MTU] = {MNL_TYPE_U32};
    r[IFLA_MASTER] = {MNL_TYPE_U32};
    r[IFLA_LINK] = {MNL_TYPE_U32};
    // A device's hardware address is 6 bytes for Ethernet, 4 or 16 for tunnels: any length is
    // valid here, and only one of 6 is read as a MAC.
    r[IFLA_ADDRESS] = {MNL_TYPE_BINARY};
    r[IFLA_STATS64] = {MNL_TYPE_BINARY};
    r[IFLA_LINKINFO] = {MNL_TYPE_NESTED};
    return r;
  }();
  AttributeTable<IFLA_MAX> attributes(message, sizeof(ifinfomsg), rules);
  if (!attributes.ok()) return std::nullopt;
  if (attributes[IFLA_IFNAME]) link.name = attributeString(attributes[IFLA_IFNAME]);
  if (attributes[IFLA_OPERSTATE]) link.operState = mnl_attr_get_u8(attributes[IFLA_OPERSTATE]);
  if (attributes[IFLA_MTU]) link.mtu = mnl_attr_get_u32(attributes[IFLA_MTU]);
  if (attributes[IFLA_MASTER]) link.masterIfindex = mnl_attr_get_u32(attributes[IFLA_MASTER]);
  if (attributes[IFLA_LINK]) link.linkNetnsPeerIfindex = mnl_attr_get_u32(attributes[IFLA_LINK]);
  if (const nlattr* address = attributes[IFLA_ADDRESS];
      address && mnl_attr_validate2(address, MNL_TYPE_BINARY, sizeof(Mac)) == 0) {
    Mac mac;
    std::memcpy(mac.data(), mnl_attr_get_payload(address), mac.size());
    link.mac = mac;
  }
  if (attributes[IFLA_STATS64] && !readLinkStats(attributes[IFLA_STATS64], link)) {
    return std::nullopt;
  }
  if (attributes[IFLA_LINKINFO]) {
    AttributeTable<IFLA_INFO_MAX>::Rules infoRules{};
    infoRules[IFLA_INFO_KIND] = {MNL_TYPE_NUL_STRING};
    AttributeTable<IFLA_INFO_MAX> info(attributes[IFLA_LINKINFO], infoRules);
    if (!info.ok()) return std::nullopt;
    if (info[IFLA_INFO_KIND]) link.kind = attributeString(info[IFLA_INFO_KIND]);
  }
  return link;
}

std::optional<AddressInfo> parseAddress(const nlmsghdr& message) {
  if (!payloadFits(message, sizeof(ifaddrmsg))) return std::nullopt;
  ifaddrmsg header;
  std::memcpy(&header, mnl_nlmsg_get_payload(&message), sizeof header);
  if (header.ifa_family != AF_INET && header.ifa_family != AF_INET6) return std::nullopt;
  AddressInfo info;
  info.ifindex = header.ifa_index;
  info.scope = header.ifa_scope;
  info.address.length = header.ifa_prefixlen;
  info.address.address.family = familyOf(header.ifa_family);
  if (info.address.length > info.address.address.bits()) return std::nullopt;
  AttributeTable<IFA_MAX>::Rules rules{};
  rules[IFA_LOCAL] = rules[IFA_ADDRESS] = {MNL_TYPE_BINARY, info.address.address.size()};
  AttributeTable<IFA_MAX> attributes(message, sizeof(ifaddrmsg), rules);
  if (!attributes.ok()) return std::nullopt;
  // IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer's on point-to-point links.
  const nlattr* address = attributes[IFA_LOCAL] ? attributes[IFA_LOCAL] : attributes[IFA_ADDRESS];
  if (!address) return std::nullopt;
  info.address.address = addressIn(address, info.address.address.family);
  return info;
}

std::string operStateName(uint8_t operState) {
  switch (operState) {
    case IF_OPER_UP:
      return "up";
    case IF_OPER_DOWN:
      return "down";
    case IF_OPER_LOWERLAYERDOWN:
      return "lowerlayerdown";
    case IF_OPER_DORMANT:
      return "dormant";
    case IF_OPER_NOTPRESENT:
      return "notpresent";
    case IF_OPER_TESTING:
      return "testing";
    default:
      return "unknown";
  }
}

std::optional<RouteInfo> parseRoute(const nlmsghdr& message) {
  if (message.nlmsg_type != RTM_NEWROUTE || !payloadFits(message, sizeof(rtmsg))) {
    return std::nullopt;
  }
  rtmsg header;
  std::memcpy(&header, mnl_nlmsg_get_payload(&message), sizeof header);
  if (header.rtm_family != AF_INET && header.rtm_family != AF_INET6) return std::nullopt;
  if (header.rtm_type != RTN_UNICAST) return std::nullopt;
  const Family family = familyOf(header.rtm_family);
  AttributeTable<RTA_MAX>::Rules rules{};
  rules[RTA_TABLE] = {MNL_TYPE_U32};
  rules[RTA_DST] = rules[RTA_GATEWAY] = {MNL_TYPE_BINARY, addressSize(family)};
  rules[RTA_OIF] = {MNL_TYPE_U32};
  rules[RTA_MULTIPATH] = {MNL_TYPE_BINARY};
  AttributeTable<RTA_MAX> attributes(message, sizeof(rtmsg), rules);
  if (!attributes.ok()) return std::nullopt;
  // The table is in the header, or in RTA_TABLE for tables beyond 255.
  uint32_t table =
      attributes[RTA_TABLE] ? mnl_attr_get_u32(attributes[RTA_TABLE]) : header.rtm_table;
  if (table != RT_TABLE_MAIN) return std::nullopt;
  RouteInfo route;
  route.protocol = header.rtm_protocol;
  route.destination.length = header.rtm_dst_len;
  route.destination.address.family = family;
  if (route.destination.length > route.destination.address.bits()) return std::nullopt;
  if (attributes[RTA_DST]) route.destination.address = addressIn(attributes[RTA_DST], family);
  if (attributes[RTA_MULTIPATH]) {
    if (!readMultipath(attributes[RTA_MULTIPATH], family, route)) return std::nullopt;
  } else {
    NextHop next;
    if (attributes[RTA_GATEWAY]) next.gateway = addressIn(attributes[RTA_GATEWAY], family);
    if (attributes[RTA_OIF]) next.oifindex = mnl_attr_get_u32(attributes[RTA_OIF]);
    route.nextHops.push_back(next);
  }
  return route;
}

}  // namespace netlab::netlink
