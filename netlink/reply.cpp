#include "netlink/reply.hpp"

#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

namespace netlab::netlink {
namespace {

// The attributes of one message, indexed by type, for types up to Max.
template <int Max>
struct AttributeTable {
  const nlattr* at[Max + 1] = {};

  void fill(const nlmsghdr& message, size_t headerSize) {
    mnl_attr_parse(&message, static_cast<unsigned>(headerSize), &AttributeTable::store, this);
  }
  void fillNested(const nlattr* nest) { mnl_attr_parse_nested(nest, &AttributeTable::store, this); }

  static int store(const nlattr* attribute, void* self) {
    int type = mnl_attr_get_type(attribute);
    if (type >= 0 && type <= Max) static_cast<AttributeTable*>(self)->at[type] = attribute;
    return MNL_CB_OK;
  }
};

bool payloadFits(const nlmsghdr& message, size_t size) {
  return message.nlmsg_len >= NLMSG_LENGTH(size);
}

std::string attributeString(const nlattr* attribute) {
  const char* text = static_cast<const char*>(mnl_attr_get_payload(attribute));
  return {text, strnlen(text, mnl_attr_get_payload_len(attribute))};
}

void readLinkStats(const nlattr* attribute, LinkInfo& link) {
  if (mnl_attr_get_payload_len(attribute) < sizeof(rtnl_link_stats64)) return;
  rtnl_link_stats64 stats;
  std::memcpy(&stats, mnl_attr_get_payload(attribute), sizeof stats);
  link.rxPackets = stats.rx_packets;
  link.txPackets = stats.tx_packets;
  link.rxBytes = stats.rx_bytes;
  link.txBytes = stats.tx_bytes;
  link.rxDropped = stats.rx_dropped;
  link.txDropped = stats.tx_dropped;
}

Family familyOf(uint8_t addressFamily) {
  return addressFamily == AF_INET ? Family::V4 : Family::V6;
}

std::optional<IpAddress> addressIn(const nlattr* attribute, Family family) {
  IpAddress address;
  address.family = family;
  if (!attribute || mnl_attr_get_payload_len(attribute) != address.size()) return std::nullopt;
  std::memcpy(address.bytes.data(), mnl_attr_get_payload(attribute), address.size());
  return address;
}

// RTA_MULTIPATH: rtnexthop records, each followed by its own attributes (the gateway).
void readMultipath(const nlattr* multipath, Family family, RouteInfo& route) {
  const auto* data = static_cast<const uint8_t*>(mnl_attr_get_payload(multipath));
  size_t remaining = mnl_attr_get_payload_len(multipath);
  while (remaining >= sizeof(rtnexthop)) {
    rtnexthop hop;
    std::memcpy(&hop, data, sizeof hop);
    if (hop.rtnh_len < sizeof hop || hop.rtnh_len > remaining) return;
    NextHop next{std::nullopt, static_cast<uint32_t>(hop.rtnh_ifindex)};
    size_t offset = RTNH_ALIGN(sizeof hop);
    while (offset + sizeof(nlattr) <= hop.rtnh_len) {
      nlattr attribute;
      std::memcpy(&attribute, data + offset, sizeof attribute);
      if (attribute.nla_len < sizeof attribute || offset + attribute.nla_len > hop.rtnh_len) break;
      if ((attribute.nla_type & NLA_TYPE_MASK) == RTA_GATEWAY) {
        next.gateway = addressIn(reinterpret_cast<const nlattr*>(data + offset), family);
      }
      offset += NLA_ALIGN(attribute.nla_len);
    }
    route.nextHops.push_back(next);
    data += RTNH_ALIGN(hop.rtnh_len);
    remaining -= std::min<size_t>(remaining, RTNH_ALIGN(hop.rtnh_len));
  }
}

}  // namespace

void forEachMessage(std::span<const uint8_t> datagram,
                    const std::function<bool(const nlmsghdr&)>& fn) {
  const auto* message = reinterpret_cast<const nlmsghdr*>(datagram.data());
  int remaining = static_cast<int>(datagram.size());
  while (mnl_nlmsg_ok(message, remaining)) {
    if (!fn(*message)) return;
    message = mnl_nlmsg_next(message, &remaining);
  }
}

Ack parseAck(const nlmsghdr& message) {
  Ack ack;
  ack.sequence = message.nlmsg_seq;
  if (!payloadFits(message, sizeof(nlmsgerr))) {
    ack.error = EPROTO;
    return ack;
  }
  const auto* error = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(&message));
  ack.error = -error->error;
  if (!(message.nlmsg_flags & NLM_F_ACK_TLVS)) return ack;
  // The extended-ack attributes follow the echoed request, which is only its header when
  // the kernel capped it (NETLINK_CAP_ACK).
  size_t echoed = (message.nlmsg_flags & NLM_F_CAPPED) ? sizeof(nlmsghdr) : error->msg.nlmsg_len;
  size_t offset = sizeof(int) + echoed;
  if (!payloadFits(message, offset)) return ack;
  AttributeTable<NLMSGERR_ATTR_MAX> attributes;
  attributes.fill(message, offset);
  if (const nlattr* text = attributes.at[NLMSGERR_ATTR_MSG]) ack.extackMessage = attributeString(text);
  return ack;
}

std::optional<LinkInfo> parseLink(const nlmsghdr& message) {
  if (!payloadFits(message, sizeof(ifinfomsg))) return std::nullopt;
  const auto* header = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(&message));
  LinkInfo link;
  link.ifindex = static_cast<uint32_t>(header->ifi_index);
  link.flags = header->ifi_flags;
  AttributeTable<IFLA_MAX> attributes;
  attributes.fill(message, sizeof(ifinfomsg));
  if (attributes.at[IFLA_IFNAME]) link.name = attributeString(attributes.at[IFLA_IFNAME]);
  if (attributes.at[IFLA_OPERSTATE]) link.operState = mnl_attr_get_u8(attributes.at[IFLA_OPERSTATE]);
  if (attributes.at[IFLA_MTU]) link.mtu = mnl_attr_get_u32(attributes.at[IFLA_MTU]);
  if (attributes.at[IFLA_MASTER]) link.masterIfindex = mnl_attr_get_u32(attributes.at[IFLA_MASTER]);
  if (attributes.at[IFLA_LINK]) link.linkNetnsPeerIfindex = mnl_attr_get_u32(attributes.at[IFLA_LINK]);
  if (const nlattr* address = attributes.at[IFLA_ADDRESS];
      address && mnl_attr_get_payload_len(address) == 6) {
    Mac mac;
    std::memcpy(mac.data(), mnl_attr_get_payload(address), mac.size());
    link.mac = mac;
  }
  if (attributes.at[IFLA_STATS64]) readLinkStats(attributes.at[IFLA_STATS64], link);
  if (attributes.at[IFLA_LINKINFO]) {
    AttributeTable<IFLA_INFO_MAX> info;
    info.fillNested(attributes.at[IFLA_LINKINFO]);
    if (info.at[IFLA_INFO_KIND]) link.kind = attributeString(info.at[IFLA_INFO_KIND]);
  }
  return link;
}

std::optional<AddressInfo> parseAddress(const nlmsghdr& message) {
  if (!payloadFits(message, sizeof(ifaddrmsg))) return std::nullopt;
  const auto* header = static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(&message));
  if (header->ifa_family != AF_INET && header->ifa_family != AF_INET6) return std::nullopt;
  AddressInfo info;
  info.ifindex = header->ifa_index;
  info.scope = header->ifa_scope;
  info.address.length = header->ifa_prefixlen;
  info.address.address.family = header->ifa_family == AF_INET ? Family::V4 : Family::V6;
  AttributeTable<IFA_MAX> attributes;
  attributes.fill(message, sizeof(ifaddrmsg));
  // IFA_LOCAL is the interface's own address; IFA_ADDRESS is the peer's on point-to-point links.
  const nlattr* address = attributes.at[IFA_LOCAL] ? attributes.at[IFA_LOCAL] : attributes.at[IFA_ADDRESS];
  if (!address || mnl_attr_get_payload_len(address) != info.address.address.size()) return std::nullopt;
  std::memcpy(info.address.address.bytes.data(), mnl_attr_get_payload(address),
              info.address.address.size());
  return info;
}

std::string operStateName(uint8_t operState) {
  switch (operState) {
    case IF_OPER_UP: return "up";
    case IF_OPER_DOWN: return "down";
    case IF_OPER_LOWERLAYERDOWN: return "lowerlayerdown";
    case IF_OPER_DORMANT: return "dormant";
    case IF_OPER_NOTPRESENT: return "notpresent";
    case IF_OPER_TESTING: return "testing";
    default: return "unknown";
  }
}

std::optional<RouteInfo> parseRoute(const nlmsghdr& message) {
  if (message.nlmsg_type != RTM_NEWROUTE || !payloadFits(message, sizeof(rtmsg))) {
    return std::nullopt;
  }
  const auto* header = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(&message));
  if (header->rtm_family != AF_INET && header->rtm_family != AF_INET6) return std::nullopt;
  if (header->rtm_type != RTN_UNICAST) return std::nullopt;
  AttributeTable<RTA_MAX> attributes;
  attributes.fill(message, sizeof(rtmsg));
  // The table is in the header, or in RTA_TABLE for tables beyond 255.
  uint32_t table = attributes.at[RTA_TABLE] ? mnl_attr_get_u32(attributes.at[RTA_TABLE])
                                            : header->rtm_table;
  if (table != RT_TABLE_MAIN) return std::nullopt;
  const Family family = familyOf(header->rtm_family);
  RouteInfo route;
  route.protocol = header->rtm_protocol;
  route.destination.length = header->rtm_dst_len;
  route.destination.address.family = family;
  if (auto destination = addressIn(attributes.at[RTA_DST], family)) {
    route.destination.address = *destination;
  }
  if (attributes.at[RTA_MULTIPATH]) {
    readMultipath(attributes.at[RTA_MULTIPATH], family, route);
  } else {
    NextHop next;
    next.gateway = addressIn(attributes.at[RTA_GATEWAY], family);
    if (attributes.at[RTA_OIF]) next.oifindex = mnl_attr_get_u32(attributes.at[RTA_OIF]);
    route.nextHops.push_back(next);
  }
  return route;
}

}  // namespace netlab::netlink
