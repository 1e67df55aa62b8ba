// An rtnetlink session: one NETLINK_ROUTE socket, bound in the network namespace of the thread
// that opened it, and kept for as long as that namespace is being worked on.
//
// Receiving follows iproute2's rtnl_recvmsg and rtnl_dump_filter_l: each datagram is sized with
// MSG_PEEK|MSG_TRUNC and read whole (one still truncated is an error); only datagrams from the
// kernel (port 0) and messages addressed to this socket's port with the sequence number of an
// outstanding request are taken, the rest are skipped; a dump the kernel marks NLM_F_DUMP_INTR
// (its tables changed while it was read) is read to its end and asked for again.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
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

// One datagram as read: its bytes (valid until the next read) and the netlink port that sent
// it, 0 for the kernel; nullopt when the sender's address is not a netlink one.
struct Datagram {
  std::span<const uint8_t> bytes;
  std::optional<uint32_t> senderPort;
};

// Reads one datagram from a socket into buffer as it is. One that does not fit (MSG_TRUNC) is
// an Error, never handed on in part.
Datagram receiveInto(int fd, std::span<uint8_t> buffer);
// Reads one datagram whole: its size is peeked first (MSG_PEEK|MSG_TRUNC) and buffer grown to
// hold it, as iproute2's rtnl_recvmsg does.
Datagram receiveWhole(int fd, std::vector<uint8_t>& buffer);

// Where a Session's requests go and its replies come from: a netlink socket, or in unit tests
// a script that answers like the kernel.
class Transport {
 public:
  virtual ~Transport() = default;
  // Sends one datagram; what names it in an error.
  virtual void send(std::span<const uint8_t> datagram, const std::string& what) = 0;
  // The next datagram, whole.
  virtual Datagram receive() = 0;
  // Whether a datagram is waiting, within the timeout.
  virtual bool waitReadable(std::chrono::milliseconds timeout) = 0;
  // Joins a multicast group (RTNLGRP_*).
  virtual void joinGroup(unsigned group) = 0;
};

class Session {
 public:
  // A socket in the calling thread's current network namespace, with extended acks on.
  static Session openInCurrentNamespace();
  // A session over another transport, whose replies are addressed to portId.
  Session(std::unique_ptr<Transport> transport, uint32_t portId)
      : transport_(std::move(transport)), portId_(portId) {}

  // Sends every request (several per sendmsg, bounded by the socket buffers), waits for every
  // acknowledgement and throws NetlinkError for the first request, in order, that failed.
  void execute(const RequestBatch& batch);

  std::vector<LinkInfo> dumpLinks();
  // One link, as the kernel has it now; nullopt when there is none (ENODEV). Asked for alone, a
  // link's pending carrier change is applied first (Linux 6.8 and later run the link watcher's
  // work for it at once), so its operational state is current: a dump reports the state the
  // link watcher left, which it may update only a second later.
  std::optional<LinkInfo> getLink(uint32_t ifindex);
  std::vector<AddressInfo> dumpAddresses();
  // The unicast routes of the main table, IPv4 and IPv6.
  std::vector<RouteInfo> dumpRoutes();
  // Sends a dump request of this type with this fixed header (ifinfomsg, tcmsg, ...) and hands
  // every reply of one consistent dump to onReply, reading to the dump's end so nothing is left
  // on the socket. A dump interrupted by changes is asked for again, a few times at most, then
  // an Error; onReply sees only the replies of the dump that was not interrupted.
  void dump(uint16_t type, const void* fixedHeader, size_t fixedHeaderSize,
            const std::function<void(const nlmsghdr&)>& onReply);

  // Joins the link notification group, so waitForLinkRemoval sees RTM_DELLINK.
  void subscribeLinkEvents();
  // Waits until a link deletion of ifindex is announced; false on timeout.
  bool waitForLinkRemoval(uint32_t ifindex, std::chrono::milliseconds timeout);

  // How many times a dump is asked for while the kernel keeps marking it interrupted.
  static constexpr int kMaxDumpAttempts = 8;

 private:
  void sendChunk(const RequestBatch& batch, size_t firstRequest, size_t endRequest);
  void collectAcks(const RequestBatch& batch, size_t firstRequest, size_t endRequest);
  // Sends one request with no attributes past its fixed header (a dump, or a lone query);
  // returns its sequence number.
  uint32_t sendQuery(uint16_t type, uint16_t flags, const void* fixedHeader, size_t fixedHeaderSize,
                     const std::string& what);
  bool dumpOnce(uint16_t type, const void* fixedHeader, size_t fixedHeaderSize,
                std::vector<uint8_t>& replies);
  // A datagram from the kernel, whose messages may be replies to this session's requests.
  Datagram receiveFromKernel();

  std::unique_ptr<Transport> transport_;
  uint32_t portId_ = 0;
  // Dumps and lone queries, numbered apart from a batch's requests.
  uint32_t nextQuerySequence_ = 0x80000000u;
};

}  // namespace netlab::netlink
