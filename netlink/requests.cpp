#include "netlink/requests.hpp"

#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sys/socket.h>

#include <cstring>

namespace netlab::netlink {
namespace {

// Big enough for the largest request netlab builds (a veth pair with both ends' attributes).
constexpr size_t kMaxRequestSize = 1024;

uint8_t addressFamily(Family family) {
  return family == Family::V4 ? AF_INET : AF_INET6;
}

// Puts a struct ifinfomsg at the message tail: the fixed header of a link message, which
// VETH_INFO_PEER nests whole for the peer.
ifinfomsg* putLinkHeader(nlmsghdr* header, const LinkEnd& end) {
  auto* info = static_cast<ifinfomsg*>(mnl_nlmsg_get_payload_tail(header));
  header->nlmsg_len += MNL_ALIGN(sizeof(ifinfomsg));
  std::memset(info, 0, sizeof *info);
  info->ifi_family = AF_UNSPEC;
  info->ifi_index = static_cast<int>(end.ifindex);
  info->ifi_change = end.up ? IFF_UP : 0;
  info->ifi_flags = end.up ? IFF_UP : 0;
  return info;
}

// The fixed header of a request about the existing link with this ifindex.
ifinfomsg* putLinkTarget(nlmsghdr* header, uint32_t ifindex) {
  LinkEnd target;
  target.ifindex = ifindex;
  return putLinkHeader(header, target);
}

void putLinkAttributes(nlmsghdr* header, const LinkEnd& end) {
  mnl_attr_put_strz(header, IFLA_IFNAME, end.name.c_str());
  if (end.mac != Mac{}) mnl_attr_put(header, IFLA_ADDRESS, end.mac.size(), end.mac.data());
  mnl_attr_put_u32(header, IFLA_MTU, end.mtu);
  if (end.netnsFd >= 0)
    mnl_attr_put_u32(header, IFLA_NET_NS_FD, static_cast<uint32_t>(end.netnsFd));
  if (end.masterIfindex != 0) mnl_attr_put_u32(header, IFLA_MASTER, end.masterIfindex);
}

void putAddress(nlmsghdr* header, uint16_t type, const IpAddress& address) {
  mnl_attr_put(header, type, address.size(), address.bytes.data());
}

// The IPv4 broadcast address of a subnet, as `ip address add ... brd +` would set it.
IpAddress broadcastOf(const IpPrefix& prefix) {
  IpAddress broadcast = prefix.address;
  for (int bit = prefix.length; bit < 32; ++bit) broadcast.bytes[bit / 8] |= 0x80 >> (bit % 8);
  return broadcast;
}

// A link's settings for one address family: IFLA_AF_SPEC > family > what put adds.
template <typename Put>
void putAfSpec(nlmsghdr* header, uint8_t family, Put put) {
  nlattr* afSpec = mnl_attr_nest_start(header, IFLA_AF_SPEC);
  nlattr* settings = mnl_attr_nest_start(header, family);
  put();
  mnl_attr_nest_end(header, settings);
  mnl_attr_nest_end(header, afSpec);
}

uint16_t createFlags(Existing existing) {
  return existing == Existing::Replace ? NLM_F_CREATE | NLM_F_REPLACE : NLM_F_CREATE | NLM_F_EXCL;
}

}  // namespace

nlmsghdr* RequestBatch::begin(uint16_t type, uint16_t flags, std::string description) {
  scratch_.assign(kMaxRequestSize, 0);
  nlmsghdr* header = mnl_nlmsg_put_header(scratch_.data());
  header->nlmsg_type = type;
  header->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
  header->nlmsg_seq = nextSequence_++;
  requests_.push_back({header->nlmsg_seq, bytes_.size(), std::move(description)});
  return header;
}

void RequestBatch::end(nlmsghdr* header) {
  const auto* data = reinterpret_cast<const uint8_t*>(header);
  bytes_.insert(bytes_.end(), data, data + header->nlmsg_len);
}

void RequestBatch::newVethPair(const LinkEnd& local, const LinkEnd& peer, std::string description) {
  nlmsghdr* header = begin(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, std::move(description));
  putLinkHeader(header, local);
  putLinkAttributes(header, local);
  nlattr* linkInfo = mnl_attr_nest_start(header, IFLA_LINKINFO);
  mnl_attr_put_strz(header, IFLA_INFO_KIND, "veth");
  nlattr* data = mnl_attr_nest_start(header, IFLA_INFO_DATA);
  nlattr* peerInfo = mnl_attr_nest_start(header, VETH_INFO_PEER);
  LinkEnd peerDown = peer;
  peerDown.up = false;
  putLinkHeader(header, peerDown);
  putLinkAttributes(header, peer);
  mnl_attr_nest_end(header, peerInfo);
  mnl_attr_nest_end(header, data);
  mnl_attr_nest_end(header, linkInfo);
  end(header);
}

void RequestBatch::newBridge(const LinkEnd& bridge, std::string description) {
  nlmsghdr* header = begin(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, std::move(description));
  putLinkHeader(header, bridge);
  putLinkAttributes(header, bridge);
  nlattr* linkInfo = mnl_attr_nest_start(header, IFLA_LINKINFO);
  mnl_attr_put_strz(header, IFLA_INFO_KIND, "bridge");
  nlattr* data = mnl_attr_nest_start(header, IFLA_INFO_DATA);
  mnl_attr_put_u32(header, IFLA_BR_STP_STATE, 0);
  mnl_attr_put_u32(header, IFLA_BR_FORWARD_DELAY, 0);
  mnl_attr_put_u8(header, IFLA_BR_MCAST_SNOOPING, 0);
  mnl_attr_nest_end(header, data);
  mnl_attr_nest_end(header, linkInfo);
  end(header);
}

void RequestBatch::setLinkUp(uint32_t ifindex, bool up, std::string description) {
  nlmsghdr* header = begin(RTM_SETLINK, 0, std::move(description));
  ifinfomsg* info = putLinkTarget(header, ifindex);
  info->ifi_flags = up ? IFF_UP : 0;
  info->ifi_change = IFF_UP;
  end(header);
}

void RequestBatch::setMaster(uint32_t ifindex, uint32_t masterIfindex, std::string description) {
  nlmsghdr* header = begin(RTM_SETLINK, 0, std::move(description));
  putLinkTarget(header, ifindex);
  mnl_attr_put_u32(header, IFLA_MASTER, masterIfindex);
  end(header);
}

void RequestBatch::setAddrGenMode(uint32_t ifindex, uint8_t mode, std::string description) {
  nlmsghdr* header = begin(RTM_SETLINK, 0, std::move(description));
  putLinkTarget(header, ifindex);
  putAfSpec(header, AF_INET6, [&] { mnl_attr_put_u8(header, IFLA_INET6_ADDR_GEN_MODE, mode); });
  end(header);
}

void RequestBatch::setIpv4Forwarding(uint32_t ifindex, bool forward, std::string description) {
  nlmsghdr* header = begin(RTM_SETLINK, 0, std::move(description));
  putLinkTarget(header, ifindex);
  putAfSpec(header, AF_INET, [&] {
    // Devconf values, each an attribute typed by its IPV4_DEVCONF_ index.
    nlattr* conf = mnl_attr_nest_start(header, IFLA_INET_CONF);
    mnl_attr_put_u32(header, IPV4_DEVCONF_FORWARDING, forward ? 1 : 0);
    mnl_attr_nest_end(header, conf);
  });
  end(header);
}

void RequestBatch::newAddress(uint32_t ifindex, const IpPrefix& address,
                              std::string description, Existing existing) {
  nlmsghdr* header = begin(RTM_NEWADDR, createFlags(existing), std::move(description));
  auto* message = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(header, sizeof(ifaddrmsg)));
  message->ifa_family = addressFamily(address.address.family);
  message->ifa_prefixlen = address.length;
  message->ifa_index = ifindex;
  putAddress(header, IFA_LOCAL, address.address);
  putAddress(header, IFA_ADDRESS, address.address);
  if (address.address.family == Family::V4 && address.length < 31) {
    putAddress(header, IFA_BROADCAST, broadcastOf(address));
  }
  if (address.address.family == Family::V6) mnl_attr_put_u32(header, IFA_FLAGS, IFA_F_NODAD);
  end(header);
}

void RequestBatch::newRoute(const RouteSpec& route, std::string description, Existing existing) {
  nlmsghdr* header = begin(RTM_NEWROUTE, createFlags(existing), std::move(description));
  auto* message = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(header, sizeof(rtmsg)));
  message->rtm_family = addressFamily(route.destination.address.family);
  message->rtm_dst_len = route.destination.length;
  message->rtm_table = RT_TABLE_MAIN;
  message->rtm_protocol = RTPROT_STATIC;
  message->rtm_type = RTN_UNICAST;
  // Without a gateway the destination is directly on the link.
  message->rtm_scope = route.gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
  if (route.destination.length > 0) putAddress(header, RTA_DST, route.destination.address);
  if (route.gateway) putAddress(header, RTA_GATEWAY, *route.gateway);
  if (route.oifindex != 0) mnl_attr_put_u32(header, RTA_OIF, route.oifindex);
  if (route.metric) mnl_attr_put_u32(header, RTA_PRIORITY, *route.metric);
  end(header);
}

void RequestBatch::appendRaw(const void* message, size_t length, std::string description) {
  size_t offset = bytes_.size();
  const auto* data = static_cast<const uint8_t*>(message);
  bytes_.insert(bytes_.end(), data, data + length);
  auto* header = reinterpret_cast<nlmsghdr*>(bytes_.data() + offset);
  header->nlmsg_seq = nextSequence_++;
  header->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
  requests_.push_back({header->nlmsg_seq, offset, std::move(description)});
}

const RequestBatch::Request* RequestBatch::find(uint32_t sequence) const {
  if (requests_.empty() || sequence < requests_.front().sequence) return nullptr;
  size_t index = sequence - requests_.front().sequence;
  return index < requests_.size() ? &requests_[index] : nullptr;
}

std::string messageTypeName(uint16_t type) {
  switch (type) {
    case RTM_NEWLINK:
      return "RTM_NEWLINK";
    case RTM_SETLINK:
      return "RTM_SETLINK";
    case RTM_DELLINK:
      return "RTM_DELLINK";
    case RTM_NEWADDR:
      return "RTM_NEWADDR";
    case RTM_NEWROUTE:
      return "RTM_NEWROUTE";
    case RTM_GETLINK:
      return "RTM_GETLINK";
    case RTM_GETADDR:
      return "RTM_GETADDR";
    case RTM_NEWQDISC:
      return "RTM_NEWQDISC";
    case RTM_GETQDISC:
      return "RTM_GETQDISC";
    case RTM_DELQDISC:
      return "RTM_DELQDISC";
    default:
      return "netlink message type " + std::to_string(type);
  }
}

}  // namespace netlab::netlink
