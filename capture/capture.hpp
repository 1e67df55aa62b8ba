// Packet capture on a running lab's interfaces, in process, with libpcap: each interface is
// opened from inside its node's network namespace (the socket stays bound to it afterwards),
// filtered in the kernel by a compiled pcap filter, and read by one loop that merges the
// interfaces' packets in time order.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nsmgr/state_file.hpp"

namespace netlab::capture {

struct CaptureOptions {
  std::string filter;  // a pcap filter expression ("ospf or arp"); empty takes every packet
  uint32_t snapLength = 262144;   // bytes kept of each packet, tcpdump's default
  std::optional<uint64_t> count;  // ends the capture after this many packets in all
  std::optional<std::chrono::milliseconds> duration;
};

// One captured frame.
struct CapturedPacket {
  size_t interface = 0;      // its index in LiveCapture::interfaces()
  uint64_t timestampNs = 0;  // since the epoch
  uint32_t originalLength = 0;
  std::string_view data;  // as captured: at most snapLength bytes; valid during the callback
};

struct CapturedInterface {
  std::string end;        // "r1:eth0"
  uint16_t linkType = 0;  // LINKTYPE_ of its frames (1: Ethernet)
  uint64_t packets = 0;   // delivered
  uint64_t dropped = 0;   // lost by the kernel's buffer or the interface (pcap_stats)
  std::string stopped;    // why it stopped before the capture did; "" if it did not
};

// The lab's interfaces ("NODE:IF") that the patterns name, each "NODE:IF" with either part a
// glob ('r*:eth*'), in plan order; `all` names every interface of every node but the switches'
// ports (which repeat what the nodes' own ends see). Throws for a pattern that names nothing.
std::vector<std::string> matchingEnds(const nsmgr::LabState& state,
                                      const std::vector<std::string>& patterns, bool all);

// The filter with the routing protocols pcap has no name for written out as what carries them:
// `ospf` (IP protocol 89, v4 and v6), `bgp` (TCP port 179), `rip` (UDP 520, and 521 for RIPng)
// and `bfd` (UDP 3784, 3785, 4784); `ospf or arp` then means what a teacher means. A word
// after `proto` or `port` (a name pcap knows there) is left as it is.
std::string expandFilterAliases(const std::string& filter);

// Compiles the filter for Ethernet frames, throwing an Error that names the expression and
// libpcap's reason when it is not one.
void checkFilter(const std::string& filter, uint32_t snapLength);

class LiveCapture {
 public:
  // Opens every end; throws (with nothing left open) when the lab, a node or an interface is
  // not there, the filter is bad, or the kernel refuses.
  LiveCapture(const nsmgr::LabState& state, const std::vector<std::string>& ends,
              const CaptureOptions& options);
  ~LiveCapture();
  LiveCapture(const LiveCapture&) = delete;
  LiveCapture& operator=(const LiveCapture&) = delete;

  const std::vector<CapturedInterface>& interfaces() const { return interfaces_; }

  // Captures until the count or the duration is reached, `stopFd` (a signalfd, say) becomes
  // readable, or every interface has stopped (its node ended, or the interface went away),
  // handing each packet to `deliver` in time order across the interfaces. `tick`, if given,
  // runs about once a second (a live count).
  void run(const std::function<void(const CapturedPacket&)>& deliver, int stopFd = -1,
           const std::function<void()>& tick = {});

 private:
  struct Source;
  struct Pending;
  void readSource(size_t index, std::vector<Pending>& pending);
  void stopSource(size_t index, const std::string& reason);

  CaptureOptions options_;
  std::vector<std::unique_ptr<Source>> sources_;
  std::vector<CapturedInterface> interfaces_;
};

}  // namespace netlab::capture
