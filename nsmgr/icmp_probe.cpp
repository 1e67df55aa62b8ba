#include "nsmgr/icmp_probe.hpp"

#include <linux/errqueue.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <thread>

#include "base/error.hpp"
#include "base/fd.hpp"
#include "nsmgr/lab.hpp"
#include "nsmgr/namespaces.hpp"

namespace netlab::nsmgr {
namespace {

constexpr auto kTryInterval = std::chrono::milliseconds(200);
// Sources probed in one poll loop: two sockets each, well inside the default open-file limit.
constexpr size_t kSourcesAtOnce = 256;
// Echo sequence numbers are 16 bits: one per address of a source and family.
constexpr size_t kMaxAddressesPerFamily = 65536;

using Clock = std::chrono::steady_clock;

// One source's socket of one family, and the addresses it probes (indexes into the request).
struct Probe {
  Fd socket;
  Family family = Family::V4;
  size_t source = 0;
  std::vector<size_t> targets;  // the echo sequence number is the position here
  size_t nextToSend = 0;        // of the current try
};

Fd openIcmpSocket(Family family) {
  const int domain = family == Family::V4 ? AF_INET : AF_INET6;
  const int protocol = family == Family::V4 ? int{IPPROTO_ICMP} : int{IPPROTO_ICMPV6};
  Fd socket(::socket(domain, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol));
  if (!socket) {
    throw SystemError("socket", family == Family::V4 ? "ICMP datagram socket (ping_group_range?)"
                                                     : "ICMPv6 datagram socket");
  }
  return socket;
}

// The sockets of one source, opened inside its node's network namespace (they stay there).
std::vector<Probe> openProbes(const LabState& state, const ProbeRequest& request, size_t source) {
  std::vector<Probe> probes;
  NodeHandle node = openNode(state, request.node);
  NetworkNamespaceVisit visit(node.pidfd, "node " + request.node);
  for (Family family : {Family::V4, Family::V6}) {
    Probe probe;
    probe.family = family;
    probe.source = source;
    for (size_t i = 0; i < request.addresses.size(); ++i) {
      if (request.addresses[i].family == family) probe.targets.push_back(i);
    }
    if (probe.targets.empty()) continue;
    if (probe.targets.size() > kMaxAddressesPerFamily) {
      throw Error("node " + request.node + ": too many addresses to probe at once", E2BIG);
    }
    probe.socket = openIcmpSocket(family);
    probes.push_back(std::move(probe));
  }
  return probes;
}

struct Echo {
  uint8_t type = 0;
  uint8_t code = 0;
  uint16_t checksum = 0;    // the kernel fills it for datagram ICMP sockets
  uint16_t identifier = 0;  // the kernel sets the socket's own
  uint16_t sequence = 0;
  uint8_t payload[8] = {'n', 'e', 't', 'l', 'a', 'b', 0, 0};
};

// The system call's result: -1 with errno when the kernel did not take it.
ssize_t sendEcho(const Fd& socket, const IpAddress& target, uint16_t sequence) {
  Echo echo;
  echo.type = target.family == Family::V4 ? ICMP_ECHO : ICMP6_ECHO_REQUEST;
  echo.sequence = htons(sequence);
  sockaddr_storage address{};
  socklen_t length = 0;
  if (target.family == Family::V4) {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
    v4->sin_family = AF_INET;
    std::memcpy(&v4->sin_addr, target.bytes.data(), 4);
    length = sizeof *v4;
  } else {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
    v6->sin6_family = AF_INET6;
    std::memcpy(&v6->sin6_addr, target.bytes.data(), 16);
    length = sizeof *v6;
  }
  return ::sendto(socket.get(), &echo, sizeof echo, 0, reinterpret_cast<sockaddr*>(&address),
                  length);
}

IpAddress addressOf(const sockaddr* address) {
  IpAddress ip;
  if (address->sa_family == AF_INET) {
    ip.family = Family::V4;
    std::memcpy(ip.bytes.data(), &reinterpret_cast<const sockaddr_in*>(address)->sin_addr, 4);
  } else {
    ip.family = Family::V6;
    std::memcpy(ip.bytes.data(), &reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr, 16);
  }
  return ip;
}

// Sends the current try's requests until the socket would block; false once all are sent.
bool sendSome(Probe& probe, const ProbeRequest& request, ProbeOutcome& outcome) {
  const std::vector<bool>& answered = outcome.answered;
  while (probe.nextToSend < probe.targets.size()) {
    const size_t index = probe.targets[probe.nextToSend];
    if (answered[index]) {
      ++probe.nextToSend;
      continue;
    }
    if (sendEcho(probe.socket, request.addresses[index], static_cast<uint16_t>(probe.nextToSend)) <
        0) {
      if (errno == EAGAIN) return true;  // full for now: the poll loop comes back when it has room
      if (errno == ENOBUFS) ++outcome.refused;
    }
    // Sent, or refused at once (no route): this try of this address is over either way.
    ++probe.nextToSend;
  }
  return false;
}

// Reads every reply waiting on the socket; an echo reply from the address the sequence names
// answers it. Returns how many addresses answered for the first time.
size_t receiveReplies(Probe& probe, const ProbeRequest& request, std::vector<bool>& answered) {
  size_t newly = 0;
  for (;;) {
    Echo echo;
    sockaddr_storage from{};
    socklen_t length = sizeof from;
    const ssize_t got = ::recvfrom(probe.socket.get(), &echo, sizeof echo, 0,
                                   reinterpret_cast<sockaddr*>(&from), &length);
    if (got < 0) return newly;  // EAGAIN: nothing more for now
    const uint8_t reply = probe.family == Family::V4 ? ICMP_ECHOREPLY : ICMP6_ECHO_REPLY;
    if (got < 8 || echo.type != reply) continue;
    const size_t position = ntohs(echo.sequence);
    if (position >= probe.targets.size()) continue;
    const size_t index = probe.targets[position];
    const IpAddress& target = request.addresses[index];
    const void* source =
        probe.family == Family::V4
            ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(&from)->sin_addr)
            : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(&from)->sin6_addr);
    if (std::memcmp(source, target.bytes.data(), target.size()) == 0 && !answered[index]) {
      answered[index] = true;
      ++newly;
    }
  }
}

// Every try of every probe, and the replies, in one loop: a try starts for all sockets at once
// every kTryInterval; the loop ends when every address has answered, or when no new reply has
// come for the timeout after the last try. (A first pingall of a big flat LAN resolves every
// neighbour at once, and the replies only start after seconds of ARP floods: they are waited
// for while they keep coming.)
void runProbes(std::vector<Probe>& probes, const std::vector<ProbeRequest>& requests,
               std::vector<ProbeOutcome>& outcomes, const ProbeOptions& options) {
  const auto start = Clock::now();
  auto deadline = start + kTryInterval * (options.tries - 1) + options.timeout;
  uint32_t tries = 0;
  auto nextTry = start;
  size_t unanswered = 0;
  for (const auto& probe : probes) unanswered += probe.targets.size();
  std::vector<pollfd> polls(probes.size());
  while (unanswered > 0) {
    auto now = Clock::now();
    if (tries < options.tries && now >= nextTry) {
      for (auto& probe : probes) probe.nextToSend = 0;
      ++tries;
      nextTry += kTryInterval;
    }
    bool sent = false;
    for (size_t i = 0; i < probes.size(); ++i) {
      const auto& request = requests[probes[i].source];
      const size_t before = probes[i].nextToSend;
      const bool more = sendSome(probes[i], request, outcomes[probes[i].source]);
      sent = sent || probes[i].nextToSend != before;
      polls[i] = {probes[i].socket.get(), static_cast<short>(POLLIN | (more ? POLLOUT : 0)), 0};
    }
    now = Clock::now();
    // The timeout counts from the last request sent, as ping's: sending to thousands of
    // unresolved neighbours takes the kernel seconds of ARP.
    if (sent) deadline = std::max(deadline, now + options.timeout);
    if (now >= deadline) break;
    auto until = tries < options.tries ? std::min(nextTry, deadline) : deadline;
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count();
    if (::poll(polls.data(), polls.size(), static_cast<int>(std::max<int64_t>(wait, 1))) < 0 &&
        errno != EINTR) {
      throw SystemError("poll", "ICMP sockets");
    }
    size_t newly = 0;
    for (size_t i = 0; i < probes.size(); ++i) {
      if (polls[i].revents & POLLIN) {
        newly += receiveReplies(probes[i], requests[probes[i].source],
                                outcomes[probes[i].source].answered);
      }
    }
    unanswered -= newly;
    if (newly > 0) deadline = std::max(deadline, Clock::now() + options.timeout);
  }
}

void probeBatch(const LabState& state, const std::vector<ProbeRequest>& requests, size_t first,
                size_t end, std::vector<ProbeOutcome>& outcomes, const ProbeOptions& options) {
  std::vector<Probe> probes;
  for (size_t source = first; source < end; ++source) {
    try {
      for (auto& probe : openProbes(state, requests[source], source)) {
        probes.push_back(std::move(probe));
      }
    } catch (const Error& error) {
      outcomes[source].error = error.what();  // this source fails alone
    }
  }
  runProbes(probes, requests, outcomes, options);
}

void setSocketOption(const Fd& socket, int level, int option, int value, const char* name) {
  if (::setsockopt(socket.get(), level, option, &value, sizeof value) < 0) {
    throw SystemError("setsockopt", name);
  }
}

// What came back for the probe of hop limit `hop`, if anything yet.
enum class HopAnswer : uint8_t { None, TimeExceeded, Unreachable, Reply };

// One error-queue message: ICMP's answer to a request of ours, the offender being the node that
// sent it, the data the start of our request (its sequence number names the hop).
HopAnswer readError(const Fd& socket, Family family, uint16_t hop, IpAddress& from) {
  Echo echo;
  iovec data{&echo, sizeof echo};
  alignas(cmsghdr) char control[512];
  msghdr message{};
  message.msg_iov = &data;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  if (::recvmsg(socket.get(), &message, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) return HopAnswer::None;
  const int level = family == Family::V4 ? SOL_IP : SOL_IPV6;
  const int type = family == Family::V4 ? IP_RECVERR : IPV6_RECVERR;
  const uint8_t origin = family == Family::V4 ? SO_EE_ORIGIN_ICMP : SO_EE_ORIGIN_ICMP6;
  const uint8_t timeExceeded = family == Family::V4 ? ICMP_TIME_EXCEEDED : ICMP6_TIME_EXCEEDED;
  for (cmsghdr* header = CMSG_FIRSTHDR(&message); header; header = CMSG_NXTHDR(&message, header)) {
    if (header->cmsg_level != level || header->cmsg_type != type) continue;
    const auto* error = reinterpret_cast<const sock_extended_err*>(CMSG_DATA(header));
    if (error->ee_origin != origin || ntohs(echo.sequence) != hop) continue;
    from = addressOf(SO_EE_OFFENDER(error));
    return error->ee_type == timeExceeded ? HopAnswer::TimeExceeded : HopAnswer::Unreachable;
  }
  return HopAnswer::None;
}

HopAnswer readReply(const Fd& socket, Family family, uint16_t hop, IpAddress& from) {
  Echo echo;
  sockaddr_storage source{};
  socklen_t length = sizeof source;
  const ssize_t got = ::recvfrom(socket.get(), &echo, sizeof echo, MSG_DONTWAIT,
                                 reinterpret_cast<sockaddr*>(&source), &length);
  const uint8_t reply = family == Family::V4 ? ICMP_ECHOREPLY : ICMP6_ECHO_REPLY;
  if (got < 8 || echo.type != reply || ntohs(echo.sequence) != hop) return HopAnswer::None;
  from = addressOf(reinterpret_cast<const sockaddr*>(&source));
  return HopAnswer::Reply;
}

// Sends the probe of one hop limit and waits for its answer; late answers to earlier probes are
// left aside by their sequence numbers.
HopAnswer probeHop(const Fd& socket, const IpAddress& destination, uint16_t hop,
                   std::chrono::milliseconds wait, IpAddress& from) {
  const Family family = destination.family;
  if (family == Family::V4) {
    setSocketOption(socket, SOL_IP, IP_TTL, hop, "IP_TTL");
  } else {
    setSocketOption(socket, SOL_IPV6, IPV6_UNICAST_HOPS, hop, "IPV6_UNICAST_HOPS");
  }
  // A request the kernel refuses at once (no route) is answered by nothing: the hop stays
  // unknown and the verdict says so.
  sendEcho(socket, destination, hop);
  const auto deadline = Clock::now() + wait;
  for (auto now = Clock::now(); now < deadline; now = Clock::now()) {
    pollfd polled{socket.get(), POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    if (::poll(&polled, 1, static_cast<int>(std::max<int64_t>(left.count(), 1))) < 0) {
      if (errno == EINTR) continue;
      throw SystemError("poll", "ICMP socket");
    }
    if (polled.revents & POLLERR) {
      if (auto answer = readError(socket, family, hop, from); answer != HopAnswer::None) {
        return answer;
      }
    }
    if (polled.revents & POLLIN) {
      if (auto answer = readReply(socket, family, hop, from); answer != HopAnswer::None) {
        return answer;
      }
    }
  }
  return HopAnswer::None;
}

TraceOutcome traceFromHere(const IpAddress& destination, size_t maxHops,
                           std::chrono::milliseconds waitPerHop) {
  Fd socket = openIcmpSocket(destination.family);
  if (destination.family == Family::V4) {
    setSocketOption(socket, SOL_IP, IP_RECVERR, 1, "IP_RECVERR");
  } else {
    setSocketOption(socket, SOL_IPV6, IPV6_RECVERR, 1, "IPV6_RECVERR");
  }
  // A router sends "time exceeded" to one source about once a second once a burst of six is
  // spent (net.ipv4.icmp_ratelimit, and IPv6's): a hop that stays silent is asked again, as
  // traceroute asks each hop three times, after the second its token takes to come back.
  constexpr int kProbesPerHop = 3;
  TraceOutcome outcome;
  for (size_t hop = 1; hop <= maxHops; ++hop) {
    IpAddress from;
    HopAnswer answer = HopAnswer::None;
    for (int probe = 0; probe < kProbesPerHop && answer == HopAnswer::None; ++probe) {
      answer = probeHop(socket, destination, static_cast<uint16_t>(hop), waitPerHop, from);
    }
    outcome.hops.push_back(answer == HopAnswer::None ? std::nullopt : std::optional(from));
    outcome.reached = answer == HopAnswer::Reply;
    outcome.unreachable = answer == HopAnswer::Unreachable;
    if (outcome.reached || outcome.unreachable) break;
  }
  return outcome;
}

}  // namespace

TraceOutcome tracePath(const LabState& state, const std::string& node, const IpAddress& destination,
                       size_t maxHops, std::chrono::milliseconds waitPerHop) {
  // On a thread of its own, which enters the node's network namespace, where the socket
  // stays: the calling thread never changes namespace.
  TraceOutcome outcome;
  std::exception_ptr failure;
  std::thread([&] {
    try {
      NodeHandle handle = openNode(state, node);
      NetworkNamespaceVisit visit(handle.pidfd, "node " + node);
      outcome = traceFromHere(destination, maxHops, waitPerHop);
    } catch (...) {
      failure = std::current_exception();
    }
  }).join();
  if (failure) std::rethrow_exception(failure);
  return outcome;
}

std::string refusedEchoesCause(size_t refused) {
  return "the kernel refused " + std::to_string(refused) +
         " echo requests (No buffer space available): its neighbour table, shared by every "
         "namespace of the machine, is most likely full: raise "
         "net.ipv4.neigh.default.gc_thresh3 (and gc_thresh2) on the host";
}

std::vector<ProbeOutcome> probeReachability(const LabState& state,
                                            const std::vector<ProbeRequest>& requests,
                                            const ProbeOptions& options) {
  std::vector<ProbeOutcome> outcomes(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    outcomes[i].answered.assign(requests[i].addresses.size(), false);
  }
  // On a thread of its own, which visits the nodes' namespaces to open the sockets: the
  // calling thread never changes namespace.
  std::exception_ptr failure;
  std::thread([&] {
    try {
      for (size_t first = 0; first < requests.size(); first += kSourcesAtOnce) {
        probeBatch(state, requests, first, std::min(requests.size(), first + kSourcesAtOnce),
                   outcomes, options);
      }
    } catch (...) {
      failure = std::current_exception();
    }
  }).join();
  if (failure) std::rethrow_exception(failure);
  return outcomes;
}

}  // namespace netlab::nsmgr
