// rtnetlink requests, built as bytes into a batch that a Session sends and acknowledges.
//
// Every request about an existing device names it by ifindex and is sent on a socket opened in
// that device's namespace; a request never names a device by name, so it can never reach a
// device of the same name in another namespace (the host's eth0, say).
#pragma once

#include <linux/netlink.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/ip.hpp"
#include "base/mac.hpp"

namespace netlab::netlink {

// One end of a link to create.
struct LinkEnd {
  std::string name;      // final name, at most 15 characters
  uint32_t ifindex = 0;  // chosen by netlab so later requests need no lookup; 0: kernel picks
  Mac mac{};
  uint32_t mtu = 1500;
  int netnsFd = -1;            // namespace to create the end in; -1: the socket's namespace
  uint32_t masterIfindex = 0;  // bridge to enslave the end to, in its namespace; 0: none
  bool up = false;             // born administratively up
};

struct RouteSpec {
  IpPrefix destination;
  std::optional<IpAddress> gateway;
  uint32_t oifindex = 0;  // 0: let the kernel find the device from the gateway
  std::optional<uint32_t> metric;
};

// A queue of requests, each with the words that name it in an error
// ("RTM_NEWLINK veth r1:eth0 <-> r2:eth0"). Sequence numbers are assigned in order.
// What an add request does when the object exists: fail (EEXIST, the kernel's answer to a
// plan that repeats itself), or replace it (restoring configuration that may still be there).
enum class Existing : uint8_t { Fail, Replace };

// Requests are built with bounded puts: an interface name the kernel cannot hold (more than
// IFNAMSIZ - 1 bytes, empty, or with a NUL inside) or a request that does not fit its buffer
// throws an Error naming the request, whatever the caller passes; nothing is written past a
// buffer, and a request that failed to build leaves the batch as it was.
class RequestBatch {
 public:
  // The largest single request a batch takes (appendRaw), and what a Session sends at most in
  // one sendmsg.
  static constexpr size_t kMaxRequestBytes = 64 * 1024;
  class Message;

  struct Request {
    uint32_t sequence;
    size_t offset;  // of its nlmsghdr in bytes()
    std::string description;
  };

  explicit RequestBatch(uint32_t firstSequence = 1) : nextSequence_(firstSequence) {}

  // A veth pair in one request; both ends are born in their namespaces under their final
  // names, so no device is ever moved (moving costs an RCU wait per device). Only the local
  // end may be born up or enslaved: the kernel configures the peer before the pair is
  // complete, when opening it fails with ENOTCONN (and it ignores the peer's IFLA_MASTER).
  void newVethPair(const LinkEnd& local, const LinkEnd& peer, std::string description);
  // A bridge in the socket's namespace: STP off and no forward delay, so ports forward at once;
  // multicast snooping off, so it floods multicast.
  void newBridge(const LinkEnd& bridge, std::string description);
  // A VXLAN device in the socket's namespace with this network identifier and no underlay
  // device: enough for `netlab doctor` to learn whether the kernel has VXLAN.
  void newVxlan(const LinkEnd& device, uint32_t vni, std::string description);
  // Administratively up (or down) by ifindex.
  void setLinkUp(uint32_t ifindex, bool up, std::string description);
  // Removes a link by ifindex; removing one end of a veth pair removes both.
  void deleteLink(uint32_t ifindex, std::string description);
  // Enslaves a link to a bridge in the same namespace.
  void setMaster(uint32_t ifindex, uint32_t masterIfindex, std::string description);
  // How IPv6 link-local addresses are generated; must be set before the link goes up.
  void setAddrGenMode(uint32_t ifindex, uint8_t mode, std::string description);
  // IPv4 forwarding of packets that arrive on this link (the kernel asks the input device, not
  // net.ipv4.ip_forward, which only sets every device's at once).
  void setIpv4Forwarding(uint32_t ifindex, bool forward, std::string description);
  // An interface address; IPv6 ones skip duplicate address detection (usable at once).
  void newAddress(uint32_t ifindex, const IpPrefix& address, std::string description,
                  Existing existing = Existing::Fail);
  // Removes an interface address.
  void deleteAddress(uint32_t ifindex, const IpPrefix& address, std::string description);
  void newRoute(const RouteSpec& route, std::string description,
                Existing existing = Existing::Fail);
  // A message built elsewhere (for qdiscs); its sequence number is overwritten. Its length
  // must be its nlmsg_len, from a header up to kMaxRequestBytes.
  void appendRaw(const void* message, size_t length, std::string description);

  const std::vector<uint8_t>& bytes() const { return bytes_; }
  const std::vector<Request>& requests() const { return requests_; }
  bool empty() const { return requests_.empty(); }
  size_t size() const { return requests_.size(); }
  void clear() {
    bytes_.clear();
    requests_.clear();
  }
  // The request with this sequence number, or null.
  const Request* find(uint32_t sequence) const;

 private:
  Message begin(uint16_t type, uint16_t flags, std::string description);
  void end(Message& message);

  std::vector<uint8_t> bytes_;
  std::vector<Request> requests_;
  uint32_t nextSequence_;
  std::vector<uint8_t> scratch_;
};

// "RTM_NEWLINK" for a message type.
std::string messageTypeName(uint16_t type);

}  // namespace netlab::netlink
