// An rtnetlink session: one NETLINK_ROUTE socket, bound in the network namespace of the thread
// that opened it, and kept for as long as that namespace is being worked on.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "base/fd.hpp"
#include "netlink/reply.hpp"
#include "netlink/requests.hpp"

namespace netlab::netlink {

// A request the kernel refused: "RTM_NEWLINK veth r1:eth0 <-> r2:eth0: File exists".
// The kernel's extended-ack text, when it sent one, follows in parentheses.
class NetlinkError : public Error {
 public:
  NetlinkError(const std::string& request, int errnoValue, const std::string& extack);
  const std::string& extack() const { return extack_; }

 private:
  std::string extack_;
};

class Session {
 public:
  // A socket in the calling thread's current network namespace, with extended acks on.
  static Session openInCurrentNamespace();

  // Sends every request (several per sendmsg, bounded by the socket buffers), waits for every
  // acknowledgement and throws NetlinkError for the first request, in order, that failed.
  void execute(const RequestBatch& batch);

  std::vector<LinkInfo> dumpLinks();
  std::vector<AddressInfo> dumpAddresses();
  // The unicast routes of the main table, IPv4 and IPv6.
  std::vector<RouteInfo> dumpRoutes();
  // Sends a dump request of this type with this fixed header (ifinfomsg, tcmsg, ...) and hands
  // every reply to onReply, reading to the dump's end so nothing is left on the socket.
  void dump(uint16_t type, const void* fixedHeader, size_t fixedHeaderSize,
            const std::function<void(const nlmsghdr&)>& onReply);

  // Joins the link notification group, so waitForLinkRemoval sees RTM_DELLINK.
  void subscribeLinkEvents();
  // Waits until a link deletion of ifindex is announced; false on timeout.
  bool waitForLinkRemoval(uint32_t ifindex, std::chrono::milliseconds timeout);

  int fd() const { return fd_.get(); }

 private:
  explicit Session(Fd fd) : fd_(std::move(fd)) {}
  void sendChunk(const RequestBatch& batch, size_t firstRequest, size_t endRequest);
  void collectAcks(const RequestBatch& batch, size_t expected);
  size_t receive(std::vector<uint8_t>& buffer);

  Fd fd_;
  uint32_t portId_ = 0;
  uint32_t nextDumpSequence_ = 0x80000000u;
};

}  // namespace netlab::netlink
