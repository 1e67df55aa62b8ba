// Egress impairments as queueing disciplines: netem for delay, jitter, loss, corruption,
// duplication and reordering, and tbf for a rate. Requests are built with libmnl, as iproute2's
// tc/q_netem.c and q_tbf.c lay them out (64-bit delays and rates included), and queued in a
// RequestBatch, so a Session sends them and keeps the kernel's errno and extack.
//
// Layout on the device (the root is handle 1:, or 2: after a change of layout):
//   netem fields only        netem 1: root
//   rate only                tbf 1: root
//   netem fields and a rate  netem 1: root, tbf 10: parent 1:1
// A new layout takes the root handle the device's root does not have, so it replaces the old
// one in a single request: the kernel will not give a handle a qdisc of another kind, and
// deleting the old root first would lose it (and its counters) when the new one is refused.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "netlink/requests.hpp"
#include "netlink/session.hpp"

namespace netlab::netlink {

// What a device's egress qdiscs are to do, in the kernel's units; absent fields are not
// applied. (nsmgr maps the topology's impairments onto it.)
struct QdiscSettings {
  std::optional<uint64_t> delayUs;
  std::optional<uint64_t> jitterUs;
  std::optional<double> jitterCorrelationPercent;
  std::optional<double> lossPercent;
  std::optional<double> corruptPercent;
  std::optional<double> duplicatePercent;
  std::optional<double> reorderPercent;
  std::optional<uint64_t> rateBitsPerSecond;
  std::optional<uint32_t> limitPackets;  // netem's limit: alone, it makes a netem qdisc

  bool empty() const { return *this == QdiscSettings{}; }
  bool operator==(const QdiscSettings&) const = default;
};

// Handles as tc writes them, in hex: "1:" is major 1, "10:" is major 0x10.
inline constexpr uint32_t kImpairmentRootHandle = 0x00010000;  // 1:
inline constexpr uint32_t kAlternateRootHandle = 0x00020000;   // 2:
inline constexpr uint32_t kNetemChildClass = 0x00010001;       // 1:1, netem's one class
inline constexpr uint32_t kShaperChildHandle = 0x00100000;     // 10:

// The queue sizes chosen for an impairment on a device of this MTU (see qdisc.cpp for why).
struct QueueSizes {
  uint64_t burstBytes = 0;        // tbf bucket; 0 without a rate
  uint64_t shaperLimitBytes = 0;  // tbf queue; 0 without a rate
  uint32_t netemLimitPackets = 0;
};
QueueSizes queueSizes(const QdiscSettings& impairment, uint32_t mtu);

// Appends the requests that make the egress of a device with no qdisc of its own yet (a fresh
// veth) behave as described; nothing for an empty impairment. `description` names the
// interface ("r1:eth0"); each request's description adds the qdisc ("netem 1: root on r1:eth0").
// Throws Error when the impairment cannot be expressed (reorder without a delay, say).
// `limitPackets` is netem's limit, so it alone makes a netem qdisc.
void addImpairment(RequestBatch& batch, uint32_t ifindex, const QdiscSettings& impairment,
                   const std::string& description, uint32_t mtu = 1500);

// Appends the requests that turn a device's impairment `current` (as settingsInForce read it
// from the kernel; nullopt for qdiscs netlab did not lay out), under the root qdisc
// `currentRoot` (rootHandleOf; 0 for the device's default), into `wanted`: qdiscs of the same
// layout are changed in place, so the packets they hold stay and traffic sees only the new
// values; a different layout (or a foreign one) replaces the root in one request.
void changeImpairment(RequestBatch& batch, uint32_t ifindex,
                      const std::optional<QdiscSettings>& current, const QdiscSettings& wanted,
                      const std::string& description, uint32_t mtu = 1500,
                      uint32_t currentRoot = kImpairmentRootHandle);

// Deletes the root qdisc (and with it any child), back to the device's default. The kernel
// refuses with ENOENT when there is nothing to delete.
void removeImpairment(RequestBatch& batch, uint32_t ifindex, const std::string& description);

// Decoded netem options. Probabilities are percentages; times are what the kernel holds.
struct NetemOptions {
  uint64_t delayUs = 0;
  uint64_t jitterUs = 0;
  double delayCorrelationPercent = 0;
  double lossPercent = 0;
  double corruptPercent = 0;
  double duplicatePercent = 0;
  double reorderPercent = 0;
  uint32_t reorderGap = 0;
  uint32_t limitPackets = 0;
};

struct TbfOptions {
  uint64_t rateBitsPerSecond = 0;
  uint64_t burstBytes = 0;  // derived from the bucket time, so it may be off by a byte
  uint32_t limitBytes = 0;
};

struct QdiscInfo {
  uint32_t ifindex = 0;
  std::string kind;     // "netem", "tbf", "noqueue", ...
  uint32_t handle = 0;  // major in the upper 16 bits: 1: is 0x00010000
  uint32_t parent = 0;  // TC_H_ROOT for a root qdisc
  std::optional<NetemOptions> netem;
  std::optional<TbfOptions> tbf;
  uint64_t drops = 0;  // packets the qdisc dropped (netem's loss, a full queue)
};

// An RTM_NEWQDISC message (a dump reply, or a request built above) as a QdiscInfo.
std::optional<QdiscInfo> parseQdisc(const nlmsghdr& message);

// The qdiscs of one device, in the order the kernel lists them (root first).
std::vector<QdiscInfo> dumpQdiscs(Session& session, uint32_t ifindex);
// The qdiscs of every device in the Session's namespace.
std::vector<QdiscInfo> dumpAllQdiscs(Session& session);

// What a device's qdiscs (dumpQdiscs) do, as the settings addImpairment takes: empty for the
// kernel's defaults, nullopt for qdiscs netlab does not lay out (a `tc` run in the node, say).
// Read in the kernel's units, so a value comes back as the kernel holds it (asHeld).
std::optional<QdiscSettings> settingsInForce(const std::vector<QdiscInfo>& deviceQdiscs,
                                             uint32_t mtu = 1500);

// The handle of the device's root qdisc; 0 when it has the kernel's default.
uint32_t rootHandleOf(const std::vector<QdiscInfo>& deviceQdiscs);

// The settings as settingsInForce reads them back from a device that holds exactly this
// impairment: probabilities in 32-bit fractions, times in 64 ns ticks, rates in bytes per
// second. Two settings the kernel cannot tell apart are equal here.
QdiscSettings asHeld(const QdiscSettings& settings, uint32_t mtu = 1500);

// "root", "1:", "1:1", as tc writes handles.
std::string handleName(uint32_t handle);

}  // namespace netlab::netlink
