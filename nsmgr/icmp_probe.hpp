// Reachability from inside nodes, in process: ICMP echo requests sent from datagram ICMP
// sockets opened in each source node's network namespace (what unprivileged `ping` uses; the
// node's net.ipv4.ping_group_range admits every group, as `up` sets it), and their replies
// awaited in one poll loop for many sources at once. No process is started per address or per
// node.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/ip.hpp"
#include "nsmgr/state_file.hpp"

namespace netlab::nsmgr {

// One source node and the addresses it is to reach.
struct ProbeRequest {
  std::string node;
  std::vector<IpAddress> addresses;
};

struct ProbeOutcome {
  std::vector<bool> answered;  // per address of the request
  std::string error;           // why the source could not probe at all (its node is gone); empty
  // Echo requests the kernel refused to queue (ENOBUFS): its neighbour table was full, or the
  // device's queue.
  size_t refused = 0;
};

// What `refused` echo requests most likely mean, and the host setting that helps.
std::string refusedEchoesCause(size_t refused);

struct ProbeOptions {
  uint32_t tries = 1;                       // echo requests per address, 200 ms apart
  std::chrono::milliseconds timeout{2000};  // after the last try, for the replies
};

// Each address answers when one of its tries gets an echo reply from it. A source that cannot
// probe (not running, its sockets refused) fails alone, with the reason; the others go on.
std::vector<ProbeOutcome> probeReachability(const LabState& state,
                                            const std::vector<ProbeRequest>& requests,
                                            const ProbeOptions& options);

// The hops from a node to an address, as traceroute finds them, in process: one echo request
// at a time from a datagram ICMP socket in the node's network namespace, with hop limits 1, 2,
// and so on; each hop is the address that sent back "time exceeded" (read from the socket's
// error queue, IP_RECVERR), the last the destination's echo reply.
struct TraceOutcome {
  std::vector<std::optional<IpAddress>> hops;  // nullopt: nothing came back within the wait
  bool reached = false;                        // the last hop is the destination's reply
  // Set when a hop answered "destination unreachable" (the last hop), which ends the trace.
  bool unreachable = false;
};
TraceOutcome tracePath(const LabState& state, const std::string& node, const IpAddress& destination,
                       size_t maxHops, std::chrono::milliseconds waitPerHop);

}  // namespace netlab::nsmgr
