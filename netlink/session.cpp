#include "netlink/session.hpp"

#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cstring>

namespace netlab::netlink {
namespace {

// Acks wait in the socket's receive buffer until read, and the kernel drops an ack that does
// not fit (the socket then reports ENOBUFS). Each ack costs about a kilobyte of buffer
// (skb overhead), so requests go out in chunks whose acks fit with room to spare.
constexpr int kReceiveBufferBytes = 1 << 20;
constexpr size_t kMaxRequestsPerSend = 256;
// Where the receive buffer starts (iproute2's rtnl_recvmsg starts at 32 KiB too); it grows to
// whatever a datagram needs.
constexpr size_t kInitialReceiveBytes = 32 * 1024;

void setOption(int fd, int level, int option, int value, const char* name) {
  if (::setsockopt(fd, level, option, &value, sizeof value) < 0) {
    throw SystemError("setsockopt", name);
  }
}

std::string describe(const RequestBatch& batch, const RequestBatch::Request& request) {
  const auto* header = reinterpret_cast<const nlmsghdr*>(batch.bytes().data() + request.offset);
  return messageTypeName(header->nlmsg_type) + " " + request.description;
}

class SocketTransport final : public Transport {
 public:
  explicit SocketTransport(Fd fd) : fd_(std::move(fd)), buffer_(kInitialReceiveBytes) {}

  void send(std::span<const uint8_t> datagram, const std::string& what) override {
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    for (;;) {
      ssize_t sent = ::sendto(fd_.get(), datagram.data(), datagram.size(), 0,
                              reinterpret_cast<sockaddr*>(&kernel), sizeof kernel);
      if (sent >= 0) return;
      if (errno != EINTR) throw SystemError("sendto", what);
    }
  }

  Datagram receive() override { return receiveWhole(fd_.get(), buffer_); }

  bool waitReadable(std::chrono::milliseconds timeout) override {
    pollfd ready{fd_.get(), POLLIN, 0};
    int polled = ::poll(&ready, 1, static_cast<int>(timeout.count()));
    if (polled < 0 && errno != EINTR) throw SystemError("poll", "netlink socket");
    return polled > 0;
  }

  void joinGroup(unsigned group) override {
    setOption(fd_.get(), SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, static_cast<int>(group),
              "NETLINK_ADD_MEMBERSHIP");
  }

 private:
  Fd fd_;
  std::vector<uint8_t> buffer_;
};

}  // namespace

namespace {

// What the kernel lacks when it does not know a qdisc kind netlab asks for: ENOENT with "Specified
// qdisc kind is unknown" says only that, for a kernel built without the qdisc, or without its
// module loaded (the kernel loads it itself where modules can be loaded).
std::string missingQdiscHint(const std::string& request, int errnoValue,
                             const std::string& extack) {
  static const std::pair<const char*, const char*> kOptions[] = {
      {"RTM_NEWQDISC netem ",
       "this kernel has no netem queueing discipline (CONFIG_NET_SCH_NETEM, module sch_netem), "
       "which delay, jitter, loss, corruption, duplication and reordering need; a rate alone "
       "needs only tbf"},
      {"RTM_NEWQDISC tbf ",
       "this kernel has no tbf queueing discipline (CONFIG_NET_SCH_TBF, module sch_tbf), which "
       "a rate needs"},
  };
  if (errnoValue != ENOENT || (!extack.empty() && extack != "Specified qdisc kind is unknown")) {
    return "";
  }
  for (const auto& [prefix, hint] : kOptions) {
    if (request.rfind(prefix, 0) == 0) return std::string(": ") + hint;
  }
  return "";
}

}  // namespace

NetlinkError::NetlinkError(const std::string& request, int errnoValue, const std::string& extack)
    : Error(request + ": " + errnoText(errnoValue) + (extack.empty() ? "" : " (" + extack + ")") +
                missingQdiscHint(request, errnoValue, extack),
            errnoValue),
      extack_(extack) {}

Datagram receiveInto(int fd, std::span<uint8_t> buffer) {
  sockaddr_nl sender{};
  iovec vector{buffer.data(), buffer.size()};
  msghdr message{};
  message.msg_name = &sender;
  message.msg_namelen = sizeof sender;
  message.msg_iov = &vector;
  message.msg_iovlen = 1;
  ssize_t got;
  do {
    got = ::recvmsg(fd, &message, 0);
  } while (got < 0 && errno == EINTR);
  if (got < 0) throw SystemError("recvmsg", "netlink socket");
  // The rest of the datagram is gone: the replies in it, and the acks or the end of a dump
  // that the caller would wait for, can never be read.
  if (message.msg_flags & MSG_TRUNC) {
    throw Error("recvmsg(netlink socket): a datagram did not fit in " +
                    std::to_string(buffer.size()) + " bytes and was truncated (MSG_TRUNC)",
                EMSGSIZE);
  }
  Datagram datagram{{buffer.data(), static_cast<size_t>(got)}, std::nullopt};
  if (message.msg_namelen == sizeof sender && sender.nl_family == AF_NETLINK) {
    datagram.senderPort = sender.nl_pid;
  }
  return datagram;
}

Datagram receiveWhole(int fd, std::vector<uint8_t>& buffer) {
  // With MSG_TRUNC the call returns the datagram's real length, read into no buffer at all.
  iovec none{nullptr, 0};
  msghdr peek{};
  peek.msg_iov = &none;
  peek.msg_iovlen = 1;
  ssize_t size;
  do {
    size = ::recvmsg(fd, &peek, MSG_PEEK | MSG_TRUNC);
  } while (size < 0 && errno == EINTR);
  if (size < 0) throw SystemError("recvmsg(MSG_PEEK)", "netlink socket");
  if (buffer.size() < static_cast<size_t>(size)) buffer.resize(static_cast<size_t>(size));
  return receiveInto(fd, buffer);
}

Session Session::openInCurrentNamespace() {
  Fd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!fd) throw SystemError("socket", "AF_NETLINK NETLINK_ROUTE");
  setOption(fd.get(), SOL_NETLINK, NETLINK_EXT_ACK, 1, "NETLINK_EXT_ACK");
  setOption(fd.get(), SOL_NETLINK, NETLINK_CAP_ACK, 1, "NETLINK_CAP_ACK");
  // SO_RCVBUFFORCE passes the system-wide cap (root only); fall back to what is allowed.
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &kReceiveBufferBytes,
                   sizeof kReceiveBufferBytes) < 0) {
    setOption(fd.get(), SOL_SOCKET, SO_RCVBUF, kReceiveBufferBytes, "SO_RCVBUF");
  }
  sockaddr_nl address{};
  address.nl_family = AF_NETLINK;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) < 0) {
    throw SystemError("bind", "netlink socket");
  }
  socklen_t length = sizeof address;
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &length) < 0) {
    throw SystemError("getsockname", "netlink socket");
  }
  return Session(std::make_unique<SocketTransport>(std::move(fd)), address.nl_pid);
}

// Another process can send to this socket's port too; only the kernel's datagrams are replies.
Datagram Session::receiveFromKernel() {
  for (;;) {
    Datagram datagram = transport_->receive();
    if (datagram.senderPort == 0u) return datagram;
  }
}

void Session::execute(const RequestBatch& batch) {
  const auto& requests = batch.requests();
  size_t first = 0;
  while (first < requests.size()) {
    size_t end = first + 1;
    size_t startOffset = requests[first].offset;
    while (end < requests.size() && end - first < kMaxRequestsPerSend &&
           requests[end].offset - startOffset < RequestBatch::kMaxRequestBytes) {
      ++end;
    }
    sendChunk(batch, first, end);
    collectAcks(batch, first, end);
    first = end;
  }
}

void Session::sendChunk(const RequestBatch& batch, size_t firstRequest, size_t endRequest) {
  const auto& requests = batch.requests();
  size_t from = requests[firstRequest].offset;
  size_t to = endRequest < requests.size() ? requests[endRequest].offset : batch.bytes().size();
  transport_->send({batch.bytes().data() + from, to - from},
                   describe(batch, requests[firstRequest]));
}

// Reads acks until every request of the chunk has one. An ack counts only if it answers this
// socket (its port) and a request of this chunk not yet acked (its sequence): a stale or
// repeated ack must not stand in for the one still coming. The first failure (requests are
// acked in order) is thrown once the chunk is drained, so no stale ack is left on the socket.
void Session::collectAcks(const RequestBatch& batch, size_t firstRequest, size_t endRequest) {
  const auto& requests = batch.requests();
  std::vector<bool> acked(endRequest - firstRequest, false);
  size_t expected = acked.size();
  std::optional<NetlinkError> failure;
  while (expected > 0) {
    Datagram datagram = receiveFromKernel();
    forEachMessage(datagram.bytes, [&](const nlmsghdr& message) {
      if (message.nlmsg_type != NLMSG_ERROR || message.nlmsg_pid != portId_) return true;
      const RequestBatch::Request* request = batch.find(message.nlmsg_seq);
      if (!request) return true;
      auto index = static_cast<size_t>(request - requests.data());
      if (index < firstRequest || index >= endRequest || acked[index - firstRequest]) return true;
      acked[index - firstRequest] = true;
      --expected;
      Ack ack = parseAck(message);
      if (ack.error != 0 && !failure) {
        failure.emplace(describe(batch, *request), ack.error, ack.extackMessage);
      }
      return true;
    });
  }
  if (failure) throw *failure;
}

void Session::dump(uint16_t type, const void* fixedHeader, size_t fixedHeaderSize,
                   const std::function<void(const nlmsghdr&)>& onReply) {
  for (int attempt = 0; attempt < kMaxDumpAttempts; ++attempt) {
    std::vector<uint8_t> replies;
    if (!dumpOnce(type, fixedHeader, fixedHeaderSize, replies)) continue;
    forEachMessage(replies, [&](const nlmsghdr& message) {
      onReply(message);
      return true;
    });
    return;
  }
  throw Error(messageTypeName(type) + " dump: kept being interrupted by changes to what it " +
                  "lists (NLM_F_DUMP_INTR), " + std::to_string(kMaxDumpAttempts) +
                  " times in a row",
              EAGAIN);
}

uint32_t Session::sendQuery(uint16_t type, uint16_t flags, const void* fixedHeader,
                            size_t fixedHeaderSize, const std::string& what) {
  std::vector<uint8_t> request(NLMSG_SPACE(fixedHeaderSize));
  nlmsghdr* header = mnl_nlmsg_put_header(request.data());
  header->nlmsg_type = type;
  header->nlmsg_flags = flags;
  header->nlmsg_seq = nextQuerySequence_++;
  std::memcpy(mnl_nlmsg_put_extra_header(header, fixedHeaderSize), fixedHeader, fixedHeaderSize);
  transport_->send({request.data(), header->nlmsg_len}, what);
  return header->nlmsg_seq;
}

// Asks for one dump and keeps its replies, read to NLMSG_DONE. False if the kernel marked any
// of them NLM_F_DUMP_INTR: the objects changed while it was read, so some may be missing or
// seen twice.
bool Session::dumpOnce(uint16_t type, const void* fixedHeader, size_t fixedHeaderSize,
                       std::vector<uint8_t>& replies) {
  const std::string what = messageTypeName(type) + " dump";
  const uint32_t sequence =
      sendQuery(type, NLM_F_REQUEST | NLM_F_DUMP, fixedHeader, fixedHeaderSize, what);
  bool interrupted = false;
  bool done = false;
  while (!done) {
    Datagram datagram = receiveFromKernel();
    forEachMessage(datagram.bytes, [&](const nlmsghdr& message) {
      if (message.nlmsg_seq != sequence || message.nlmsg_pid != portId_) return true;
      if (message.nlmsg_flags & NLM_F_DUMP_INTR) interrupted = true;
      if (message.nlmsg_type == NLMSG_DONE) {
        Ack end = parseDone(message);
        if (end.error != 0) throw NetlinkError(what, end.error, end.extackMessage);
        done = true;
        return false;
      }
      if (message.nlmsg_type == NLMSG_ERROR) {
        Ack ack = parseAck(message);
        if (ack.error != 0) throw NetlinkError(what, ack.error, ack.extackMessage);
        return true;
      }
      // Kept aligned, so the copies walk like the datagram they came from.
      size_t at = replies.size();
      replies.resize(at + NLMSG_ALIGN(message.nlmsg_len), 0);
      std::memcpy(replies.data() + at, &message, message.nlmsg_len);
      return true;
    });
  }
  return !interrupted;
}

std::vector<LinkInfo> Session::dumpLinks() {
  ifinfomsg request{};
  request.ifi_family = AF_UNSPEC;
  std::vector<LinkInfo> links;
  dump(RTM_GETLINK, &request, sizeof request, [&](const nlmsghdr& message) {
    if (auto link = parseLink(message)) links.push_back(std::move(*link));
  });
  return links;
}

std::optional<LinkInfo> Session::getLink(uint32_t ifindex) {
  const std::string what = "RTM_GETLINK of ifindex " + std::to_string(ifindex);
  ifinfomsg link{};
  link.ifi_family = AF_UNSPEC;
  link.ifi_index = static_cast<int>(ifindex);
  const uint32_t sequence = sendQuery(RTM_GETLINK, NLM_F_REQUEST, &link, sizeof link, what);
  std::optional<LinkInfo> found;
  for (bool answered = false; !answered;) {
    Datagram datagram = receiveFromKernel();
    forEachMessage(datagram.bytes, [&](const nlmsghdr& message) {
      if (message.nlmsg_seq != sequence || message.nlmsg_pid != portId_) return true;
      answered = true;
      if (message.nlmsg_type == NLMSG_ERROR) {
        Ack ack = parseAck(message);
        if (ack.error != 0 && ack.error != ENODEV) {
          throw NetlinkError(what, ack.error, ack.extackMessage);
        }
      } else {
        found = parseLink(message);
      }
      return false;
    });
  }
  return found;
}

std::vector<AddressInfo> Session::dumpAddresses() {
  ifaddrmsg request{};
  request.ifa_family = AF_UNSPEC;
  std::vector<AddressInfo> addresses;
  dump(RTM_GETADDR, &request, sizeof request, [&](const nlmsghdr& message) {
    if (auto address = parseAddress(message)) addresses.push_back(*address);
  });
  return addresses;
}

std::vector<RouteInfo> Session::dumpRoutes() {
  rtmsg request{};
  request.rtm_family = AF_UNSPEC;
  std::vector<RouteInfo> routes;
  dump(RTM_GETROUTE, &request, sizeof request, [&](const nlmsghdr& message) {
    if (auto route = parseRoute(message)) routes.push_back(std::move(*route));
  });
  return routes;
}

void Session::subscribeLinkEvents() {
  transport_->joinGroup(RTNLGRP_LINK);
}

bool Session::waitForLinkRemoval(uint32_t ifindex, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    if (!transport_->waitReadable(left)) continue;
    Datagram datagram = transport_->receive();
    if (datagram.senderPort != 0u) continue;
    bool removed = false;
    forEachMessage(datagram.bytes, [&](const nlmsghdr& message) {
      if (message.nlmsg_type != RTM_DELLINK) return true;
      auto link = parseLink(message);
      removed = link && link->ifindex == ifindex;
      return !removed;
    });
    if (removed) return true;
  }
}

}  // namespace netlab::netlink
