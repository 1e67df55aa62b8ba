#include "netlink/session.hpp"

#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstring>

namespace netlab::netlink {
namespace {

// Acks wait in the socket's receive buffer until read, and the kernel drops an ack that does
// not fit (the socket then reports ENOBUFS). Each ack costs about a kilobyte of buffer
// (skb overhead), so requests go out in chunks whose acks fit with room to spare.
constexpr int kReceiveBufferBytes = 1 << 20;
constexpr size_t kMaxRequestsPerSend = 256;
constexpr size_t kMaxBytesPerSend = 64 * 1024;
constexpr size_t kReceiveBytes = 64 * 1024;

void setOption(int fd, int level, int option, int value, const char* name) {
  if (::setsockopt(fd, level, option, &value, sizeof value) < 0) {
    throw SystemError("setsockopt", name);
  }
}

std::string describe(const RequestBatch& batch, const RequestBatch::Request& request) {
  const auto* header = reinterpret_cast<const nlmsghdr*>(batch.bytes().data() + request.offset);
  return messageTypeName(header->nlmsg_type) + " " + request.description;
}

}  // namespace

NetlinkError::NetlinkError(const std::string& request, int errnoValue, const std::string& extack)
    : Error(request + ": " + errnoText(errnoValue) + (extack.empty() ? "" : " (" + extack + ")"),
            errnoValue),
      extack_(extack) {}

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
  Session session(std::move(fd));
  session.portId_ = address.nl_pid;
  return session;
}

void Session::execute(const RequestBatch& batch) {
  const auto& requests = batch.requests();
  size_t first = 0;
  while (first < requests.size()) {
    size_t end = first + 1;
    size_t startOffset = requests[first].offset;
    while (end < requests.size() && end - first < kMaxRequestsPerSend &&
           requests[end].offset - startOffset < kMaxBytesPerSend) {
      ++end;
    }
    sendChunk(batch, first, end);
    collectAcks(batch, end - first);
    first = end;
  }
}

void Session::sendChunk(const RequestBatch& batch, size_t firstRequest, size_t endRequest) {
  const auto& requests = batch.requests();
  size_t from = requests[firstRequest].offset;
  size_t to = endRequest < requests.size() ? requests[endRequest].offset : batch.bytes().size();
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  for (;;) {
    ssize_t sent = ::sendto(fd_.get(), batch.bytes().data() + from, to - from, 0,
                            reinterpret_cast<sockaddr*>(&kernel), sizeof kernel);
    if (sent >= 0) return;
    if (errno != EINTR) throw SystemError("sendto", describe(batch, requests[firstRequest]));
  }
}

// Reads acks until every request of the chunk has one. The first failure (requests are
// acked in order) is thrown once the chunk is drained, so no stale ack is left on the socket.
void Session::collectAcks(const RequestBatch& batch, size_t expected) {
  std::vector<uint8_t> buffer(kReceiveBytes);
  std::optional<NetlinkError> failure;
  while (expected > 0) {
    size_t length = receive(buffer);
    forEachMessage({buffer.data(), length}, [&](const nlmsghdr& message) {
      if (message.nlmsg_type != NLMSG_ERROR) return true;
      Ack ack = parseAck(message);
      const RequestBatch::Request* request = batch.find(ack.sequence);
      if (!request) return true;
      --expected;
      if (ack.error != 0 && !failure) {
        failure.emplace(describe(batch, *request), ack.error, ack.extackMessage);
      }
      return true;
    });
  }
  if (failure) throw *failure;
}

size_t Session::receive(std::vector<uint8_t>& buffer) {
  for (;;) {
    ssize_t got = ::recv(fd_.get(), buffer.data(), buffer.size(), 0);
    if (got >= 0) return static_cast<size_t>(got);
    if (errno != EINTR) throw SystemError("recv", "netlink socket");
  }
}

void Session::dump(uint16_t type, const void* fixedHeader, size_t fixedHeaderSize,
                   const std::function<void(const nlmsghdr&)>& onReply) {
  std::vector<uint8_t> request(NLMSG_SPACE(fixedHeaderSize));
  nlmsghdr* header = mnl_nlmsg_put_header(request.data());
  header->nlmsg_type = type;
  header->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  header->nlmsg_seq = nextDumpSequence_++;
  std::memcpy(mnl_nlmsg_put_extra_header(header, fixedHeaderSize), fixedHeader, fixedHeaderSize);
  if (::send(fd_.get(), header, header->nlmsg_len, 0) < 0) {
    throw SystemError("send", messageTypeName(type) + " dump");
  }
  std::vector<uint8_t> buffer(kReceiveBytes);
  bool done = false;
  while (!done) {
    size_t length = receive(buffer);
    forEachMessage({buffer.data(), length}, [&](const nlmsghdr& message) {
      if (message.nlmsg_seq != header->nlmsg_seq) return true;
      if (message.nlmsg_type == NLMSG_DONE) {
        done = true;
        return false;
      }
      if (message.nlmsg_type == NLMSG_ERROR) {
        Ack ack = parseAck(message);
        throw NetlinkError("dump " + messageTypeName(type), ack.error, ack.extackMessage);
      }
      onReply(message);
      return true;
    });
  }
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
  setOption(fd_.get(), SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, RTNLGRP_LINK, "NETLINK_ADD_MEMBERSHIP");
}

bool Session::waitForLinkRemoval(uint32_t ifindex, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<uint8_t> buffer(kReceiveBytes);
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd ready{fd_.get(), POLLIN, 0};
    int polled = ::poll(&ready, 1, static_cast<int>(left.count()));
    if (polled < 0 && errno != EINTR) throw SystemError("poll", "netlink socket");
    if (polled <= 0) continue;
    size_t length = receive(buffer);
    bool removed = false;
    forEachMessage({buffer.data(), length}, [&](const nlmsghdr& message) {
      if (message.nlmsg_type != RTM_DELLINK) return true;
      auto link = parseLink(message);
      removed = link && link->ifindex == ifindex;
      return !removed;
    });
    if (removed) return true;
  }
}

}  // namespace netlab::netlink
