#include "netlink/requests.hpp"

#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sys/socket.h>

#include <cstring>

#include "base/error.hpp"

namespace netlab::netlink {
namespace {

// Big enough for the largest request netlab builds (a veth pair with both ends' attributes);
// a request that would outgrow it is refused before a byte is written past it.
constexpr size_t kMaxBuiltRequestSize = 1024;

uint8_t addressFamily(Family family) {
  return family == Family::V4 ? AF_INET : AF_INET6;
}

}  // namespace

// One request being built in the batch's scratch buffer. Every put is bounded by the buffer
// (libmnl's *_check puts, or a size check first, as iproute2's addattr_l does): one that does
// not fit throws an Error naming the request, so whatever a caller passes, nothing is written
// past the buffer and no half-built request reaches the batch.
class RequestBatch::Message {
 public:
  Message(std::vector<uint8_t>& buffer, uint16_t type, std::string description)
      : header_(mnl_nlmsg_put_header(buffer.data())),
        capacity_(buffer.size()),
        description_(std::move(description)) {
    header_->nlmsg_type = type;
  }

  nlmsghdr* header() const { return header_; }
  // "RTM_NEWLINK veth r1:eth0 <-> r2:eth0", the words that name the request in an error.
  std::string name() const { return messageTypeName(header_->nlmsg_type) + " " + description_; }
  std::string takeDescription() { return std::move(description_); }

  // A fixed header (ifinfomsg, rtmsg, ...) at the tail, zeroed.
  template <typename T>
  T* putFixed() {
    if (header_->nlmsg_len + MNL_ALIGN(sizeof(T)) > capacity_) overflow("its fixed header");
    return static_cast<T*>(mnl_nlmsg_put_extra_header(header_, sizeof(T)));
  }
  void put(uint16_t type, size_t length, const void* data) {
    if (!mnl_attr_put_check(header_, capacity_, type, length, data)) overflow(type);
  }
  void putU8(uint16_t type, uint8_t value) { put(type, sizeof value, &value); }
  void putU32(uint16_t type, uint32_t value) { put(type, sizeof value, &value); }
  void putString(uint16_t type, const std::string& text) {
    // c_str() would silently cut a string with a NUL inside; the kernel would get another one.
    if (text.find('\0') != std::string::npos) {
      throw Error(name() + ": attribute " + std::to_string(type) + " has a NUL inside", EINVAL);
    }
    if (!mnl_attr_put_strz_check(header_, capacity_, type, text.c_str())) overflow(type);
  }
  void putAddress(uint16_t type, const IpAddress& address) {
    put(type, address.size(), address.bytes.data());
  }
  nlattr* nestStart(uint16_t type) {
    nlattr* nest = mnl_attr_nest_start_check(header_, capacity_, type);
    if (!nest) overflow(type);
    return nest;
  }
  void nestEnd(nlattr* nest) { mnl_attr_nest_end(header_, nest); }

 private:
  [[noreturn]] void overflow(uint16_t type) { overflow("attribute " + std::to_string(type)); }
  [[noreturn]] void overflow(const std::string& what) {
    throw Error(name() + ": " + what + " does not fit in the request's " +
                    std::to_string(capacity_) + " bytes",
                EMSGSIZE);
  }

  nlmsghdr* header_;
  size_t capacity_;
  std::string description_;
};

namespace {

using Message = RequestBatch::Message;

// The kernel refuses names it cannot hold in IFNAMSIZ bytes with their NUL, and an empty one.
void checkInterfaceName(const Message& message, const std::string& name) {
  if (name.empty() || name.size() > IFNAMSIZ - 1) {
    throw Error(message.name() + ": interface name \"" + name.substr(0, 2 * IFNAMSIZ) +
                    (name.size() > 2 * IFNAMSIZ ? "..." : "") + "\" is " +
                    std::to_string(name.size()) + " bytes; a name has 1 to " +
                    std::to_string(IFNAMSIZ - 1) + " (IFNAMSIZ)",
                EINVAL);
  }
}

// Puts a struct ifinfomsg at the message tail: the fixed header of a link message, which
// VETH_INFO_PEER nests whole for the peer.
ifinfomsg* putLinkHeader(Message& message, const LinkEnd& end) {
  auto* info = message.putFixed<ifinfomsg>();
  info->ifi_family = AF_UNSPEC;
  info->ifi_index = static_cast<int>(end.ifindex);
  info->ifi_change = end.up ? IFF_UP : 0;
  info->ifi_flags = end.up ? IFF_UP : 0;
  return info;
}

// The fixed header of a request about the existing link with this ifindex.
ifinfomsg* putLinkTarget(Message& message, uint32_t ifindex) {
  LinkEnd target;
  target.ifindex = ifindex;
  return putLinkHeader(message, target);
}

void putLinkAttributes(Message& message, const LinkEnd& end) {
  checkInterfaceName(message, end.name);
  message.putString(IFLA_IFNAME, end.name);
  if (end.mac != Mac{}) message.put(IFLA_ADDRESS, end.mac.size(), end.mac.data());
  message.putU32(IFLA_MTU, end.mtu);
  if (end.netnsFd >= 0) message.putU32(IFLA_NET_NS_FD, static_cast<uint32_t>(end.netnsFd));
  if (end.masterIfindex != 0) message.putU32(IFLA_MASTER, end.masterIfindex);
}

// The IPv4 broadcast address of a subnet, as `ip address add ... brd +` would set it.
IpAddress broadcastOf(const IpPrefix& prefix) {
  IpAddress broadcast = prefix.address;
  for (int bit = prefix.length; bit < 32; ++bit) broadcast.bytes[bit / 8] |= 0x80 >> (bit % 8);
  return broadcast;
}

// A link's settings for one address family: IFLA_AF_SPEC > family > what put adds.
template <typename Put>
void putAfSpec(Message& message, uint8_t family, Put put) {
  nlattr* afSpec = message.nestStart(IFLA_AF_SPEC);
  nlattr* settings = message.nestStart(family);
  put();
  message.nestEnd(settings);
  message.nestEnd(afSpec);
}

uint16_t createFlags(Existing existing) {
  return existing == Existing::Replace ? NLM_F_CREATE | NLM_F_REPLACE : NLM_F_CREATE | NLM_F_EXCL;
}

}  // namespace

RequestBatch::Message RequestBatch::begin(uint16_t type, uint16_t flags, std::string description) {
  scratch_.assign(kMaxBuiltRequestSize, 0);
  Message message(scratch_, type, std::move(description));
  message.header()->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
  message.header()->nlmsg_seq = nextSequence_;
  return message;
}

// Only a request built whole joins the batch and takes its sequence number.
void RequestBatch::end(Message& message) {
  const nlmsghdr* header = message.header();
  const auto* data = reinterpret_cast<const uint8_t*>(header);
  requests_.push_back({nextSequence_++, bytes_.size(), message.takeDescription()});
  bytes_.insert(bytes_.end(), data, data + header->nlmsg_len);
}

void RequestBatch::newVethPair(const LinkEnd& local, const LinkEnd& peer, std::string description) {
  Message message = begin(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, std::move(description));
  putLinkHeader(message, local);
  putLinkAttributes(message, local);
  nlattr* linkInfo = message.nestStart(IFLA_LINKINFO);
  message.putString(IFLA_INFO_KIND, "veth");
  nlattr* data = message.nestStart(IFLA_INFO_DATA);
  nlattr* peerInfo = message.nestStart(VETH_INFO_PEER);
  LinkEnd peerDown = peer;
  peerDown.up = false;
  putLinkHeader(message, peerDown);
  putLinkAttributes(message, peer);
  message.nestEnd(peerInfo);
  message.nestEnd(data);
  message.nestEnd(linkInfo);
  end(message);
}

void RequestBatch::newBridge(const LinkEnd& bridge, std::string description) {
  Message message = begin(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, std::move(description));
  putLinkHeader(message, bridge);
  putLinkAttributes(message, bridge);
  nlattr* linkInfo = message.nestStart(IFLA_LINKINFO);
  message.putString(IFLA_INFO_KIND, "bridge");
  nlattr* data = message.nestStart(IFLA_INFO_DATA);
  message.putU32(IFLA_BR_STP_STATE, 0);
  message.putU32(IFLA_BR_FORWARD_DELAY, 0);
  message.putU8(IFLA_BR_MCAST_SNOOPING, 0);
  message.nestEnd(data);
  message.nestEnd(linkInfo);
  end(message);
}

void RequestBatch::newVxlan(const LinkEnd& device, uint32_t vni, std::string description) {
  Message message = begin(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, std::move(description));
  putLinkHeader(message, device);
  putLinkAttributes(message, device);
  nlattr* linkInfo = message.nestStart(IFLA_LINKINFO);
  message.putString(IFLA_INFO_KIND, "vxlan");
  nlattr* data = message.nestStart(IFLA_INFO_DATA);
  message.putU32(IFLA_VXLAN_ID, vni);
  message.nestEnd(data);
  message.nestEnd(linkInfo);
  end(message);
}

void RequestBatch::setLinkUp(uint32_t ifindex, bool up, std::string description) {
  Message message = begin(RTM_SETLINK, 0, std::move(description));
  ifinfomsg* info = putLinkTarget(message, ifindex);
  info->ifi_flags = up ? IFF_UP : 0;
  info->ifi_change = IFF_UP;
  end(message);
}

void RequestBatch::deleteLink(uint32_t ifindex, std::string description) {
  Message message = begin(RTM_DELLINK, 0, std::move(description));
  putLinkTarget(message, ifindex);
  end(message);
}

void RequestBatch::setMaster(uint32_t ifindex, uint32_t masterIfindex, std::string description) {
  Message message = begin(RTM_SETLINK, 0, std::move(description));
  putLinkTarget(message, ifindex);
  message.putU32(IFLA_MASTER, masterIfindex);
  end(message);
}

void RequestBatch::setAddrGenMode(uint32_t ifindex, uint8_t mode, std::string description) {
  Message message = begin(RTM_SETLINK, 0, std::move(description));
  putLinkTarget(message, ifindex);
  putAfSpec(message, AF_INET6, [&] { message.putU8(IFLA_INET6_ADDR_GEN_MODE, mode); });
  end(message);
}

void RequestBatch::setIpv4Forwarding(uint32_t ifindex, bool forward, std::string description) {
  Message message = begin(RTM_SETLINK, 0, std::move(description));
  putLinkTarget(message, ifindex);
  putAfSpec(message, AF_INET, [&] {
    // Devconf values, each an attribute typed by its IPV4_DEVCONF_ index.
    nlattr* conf = message.nestStart(IFLA_INET_CONF);
    message.putU32(IPV4_DEVCONF_FORWARDING, forward ? 1 : 0);
    message.nestEnd(conf);
  });
  end(message);
}

void RequestBatch::newAddress(uint32_t ifindex, const IpPrefix& address, std::string description,
                              Existing existing) {
  Message message = begin(RTM_NEWADDR, createFlags(existing), std::move(description));
  auto* header = message.putFixed<ifaddrmsg>();
  header->ifa_family = addressFamily(address.address.family);
  header->ifa_prefixlen = address.length;
  header->ifa_index = ifindex;
  message.putAddress(IFA_LOCAL, address.address);
  message.putAddress(IFA_ADDRESS, address.address);
  if (address.address.family == Family::V4 && address.length < 31) {
    message.putAddress(IFA_BROADCAST, broadcastOf(address));
  }
  if (address.address.family == Family::V6) message.putU32(IFA_FLAGS, IFA_F_NODAD);
  end(message);
}

void RequestBatch::deleteAddress(uint32_t ifindex, const IpPrefix& address,
                                 std::string description) {
  Message message = begin(RTM_DELADDR, 0, std::move(description));
  auto* header = message.putFixed<ifaddrmsg>();
  header->ifa_family = addressFamily(address.address.family);
  header->ifa_prefixlen = address.length;
  header->ifa_index = ifindex;
  message.putAddress(IFA_LOCAL, address.address);
  message.putAddress(IFA_ADDRESS, address.address);
  end(message);
}

void RequestBatch::newRoute(const RouteSpec& route, std::string description, Existing existing) {
  Message message = begin(RTM_NEWROUTE, createFlags(existing), std::move(description));
  auto* header = message.putFixed<rtmsg>();
  header->rtm_family = addressFamily(route.destination.address.family);
  header->rtm_dst_len = route.destination.length;
  header->rtm_table = RT_TABLE_MAIN;
  header->rtm_protocol = RTPROT_STATIC;
  header->rtm_type = RTN_UNICAST;
  // Without a gateway the destination is directly on the link.
  header->rtm_scope = route.gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
  if (route.destination.length > 0) message.putAddress(RTA_DST, route.destination.address);
  if (route.gateway) message.putAddress(RTA_GATEWAY, *route.gateway);
  if (route.oifindex != 0) message.putU32(RTA_OIF, route.oifindex);
  if (route.metric) message.putU32(RTA_PRIORITY, *route.metric);
  end(message);
}

void RequestBatch::appendRaw(const void* message, size_t length, std::string description) {
  // The header is about to be written to: it must be there, and say what was passed.
  nlmsghdr given{};
  if (length >= sizeof given) std::memcpy(&given, message, sizeof given);
  if (length < sizeof given || given.nlmsg_len != length || length > kMaxRequestBytes) {
    throw Error(messageTypeName(given.nlmsg_type) + " " + description + ": a message of " +
                    std::to_string(length) + " bytes (its header says " +
                    std::to_string(given.nlmsg_len) + ") is not a request of at most " +
                    std::to_string(kMaxRequestBytes) + " bytes",
                EMSGSIZE);
  }
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
    case RTM_DELADDR:
      return "RTM_DELADDR";
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
