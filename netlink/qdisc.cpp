#include "netlink/qdisc.hpp"

#include <libmnl/libmnl.h>
#include <linux/gen_stats.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "base/error.hpp"

namespace netlab::netlink {
namespace {

constexpr uint64_t kEthernetHeaderBytes = 14;  // counted in a packet's length at the qdisc
constexpr uint64_t kMicrosecondsPerSecond = 1'000'000;
constexpr uint64_t kNanosecondsPerMicrosecond = 1'000;
// The bucket refills on an hrtimer, but the softirq that dequeues can run a scheduler tick
// late, and tokens earned beyond a full bucket are lost: a bucket smaller than a tick's worth
// of traffic makes the link slower than its rate. tc-tbf(8)'s rule is rate/HZ; Debian's
// kernels run at HZ=250, hence rate/250, 4 ms of traffic.
constexpr uint64_t kBurstsPerSecond = 250;
// tbf drops (or, for GSO, splits) any packet larger than its bucket; two full frames also let
// a back-to-back pair (an ACK-clocked TCP burst) leave together after an idle moment.
constexpr uint64_t kMinBurstFrames = 2;
// The shaper's queue holds the bandwidth-delay product plus 50 ms of standing queue: enough
// for TCP to keep the link busy, little enough that the queue does not add seconds of delay.
constexpr uint64_t kQueueHeadroomUs = 50'000;
// A queue below a few frames drops nearly everything that arrives in a burst.
constexpr uint64_t kMinQueueFrames = 4;
// netem's own default; a smaller limit would drop packets the topology did not ask to lose.
constexpr uint32_t kNetemDefaultLimit = 1000;
// The kernel's packet scheduler tick (PSCHED_SHIFT 6), the second word of /proc/net/psched.
constexpr uint64_t kNanosecondsPerTick = 64;
// Room for the largest qdisc request (a tcmsg, the kind, netem's options and five attributes).
constexpr size_t kRequestBytes = 512;

uint64_t frameBytes(uint32_t mtu) {
  return mtu + kEthernetHeaderBytes;
}

uint64_t bytesIn(uint64_t bytesPerSecond, uint64_t microseconds) {
  return bytesPerSecond * microseconds / kMicrosecondsPerSecond;
}

uint32_t clampToU32(uint64_t value) {
  return static_cast<uint32_t>(std::min<uint64_t>(value, UINT32_MAX));
}

bool hasNetemField(const QdiscSettings& impairment) {
  return impairment.delayUs || impairment.jitterUs || impairment.jitterCorrelationPercent ||
         impairment.lossPercent || impairment.corruptPercent || impairment.duplicatePercent ||
         impairment.reorderPercent || impairment.limitPackets;
}

// The delay line holds what the link carries during delay and jitter, and the shaper below it
// holds its own queue; both count against netem's packet limit.
uint32_t defaultNetemLimit(const QdiscSettings& impairment, const QueueSizes& sizes, uint32_t mtu) {
  if (!impairment.rateBitsPerSecond) return kNetemDefaultLimit;
  uint64_t heldUs = impairment.delayUs.value_or(0) + impairment.jitterUs.value_or(0);
  uint64_t heldBytes = bytesIn(*impairment.rateBitsPerSecond / 8, heldUs) + sizes.shaperLimitBytes;
  uint64_t frames = (heldBytes + frameBytes(mtu) - 1) / frameBytes(mtu);
  return clampToU32(std::max<uint64_t>(frames, kNetemDefaultLimit));
}

[[noreturn]] void throwUnsupported(const std::string& description, const std::string& reason) {
  throw Error("impairment on " + description + ": " + reason, EINVAL);
}

// The combinations netem refuses, named here rather than left to the kernel's EINVAL.
void checkExpressible(const QdiscSettings& impairment, const std::string& description) {
  const uint64_t delay = impairment.delayUs.value_or(0);
  const uint64_t jitter = impairment.jitterUs.value_or(0);
  if (impairment.reorderPercent.value_or(0) > 0 && delay == 0) {
    throwUnsupported(description, "reorder needs a delay (reordered packets skip it)");
  }
  if (impairment.jitterCorrelationPercent.value_or(0) > 0 && (delay == 0 || jitter == 0)) {
    throwUnsupported(description, "jitter correlation needs a delay and a jitter");
  }
  // TCA_NETEM_LATENCY64 is signed nanoseconds.
  constexpr uint64_t kMaxUs = static_cast<uint64_t>(INT64_MAX) / kNanosecondsPerMicrosecond;
  if (delay > kMaxUs || jitter > kMaxUs) throwUnsupported(description, "delay out of range");
  if (impairment.rateBitsPerSecond && *impairment.rateBitsPerSecond < 8) {
    throwUnsupported(description, "a rate needs at least 8 bit/s");
  }
}

// netem's probabilities are 32-bit fractions, 0 never and UINT32_MAX always, as tc writes them.
uint32_t probability(double percent) {
  double fraction = std::clamp(percent, 0.0, 100.0) / 100.0;
  // Rounded half to even, as tc does, so the same percentage gives the same bits.
  return static_cast<uint32_t>(std::nearbyint(fraction * UINT32_MAX));
}

// One qdisc request being built in a buffer of its own, every put bounded: one that does not
// fit throws, naming the request, and nothing is written past the buffer.
class QdiscRequest {
 public:
  QdiscRequest(uint16_t type, uint16_t flags, uint32_t ifindex, uint32_t parent, uint32_t handle,
               std::string what)
      : what_(std::move(what)) {
    header_ = mnl_nlmsg_put_header(buffer_.data());
    header_->nlmsg_type = type;
    header_->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
    auto* tc = static_cast<tcmsg*>(mnl_nlmsg_put_extra_header(header_, sizeof(tcmsg)));
    tc->tcm_family = AF_UNSPEC;
    tc->tcm_ifindex = static_cast<int>(ifindex);
    tc->tcm_parent = parent;
    tc->tcm_handle = handle;
  }

  void putString(uint16_t type, const char* value) {
    check(mnl_attr_put_strz_check(header_, buffer_.size(), type, value));
  }
  void putU32(uint16_t type, uint32_t value) {
    check(mnl_attr_put_u32_check(header_, buffer_.size(), type, value));
  }
  void putU64(uint16_t type, uint64_t value) {
    check(mnl_attr_put_u64_check(header_, buffer_.size(), type, value));
  }
  template <typename T>
  void putStruct(uint16_t type, const T& value) {
    check(mnl_attr_put_check(header_, buffer_.size(), type, sizeof value, &value));
  }
  // A struct written straight into the open nest's payload, as netem's TCA_OPTIONS begins.
  template <typename T>
  void putRaw(const T& value) {
    if (header_->nlmsg_len + MNL_ALIGN(sizeof value) > buffer_.size()) check(false);
    std::memcpy(mnl_nlmsg_get_payload_tail(header_), &value, sizeof value);
    header_->nlmsg_len += MNL_ALIGN(sizeof value);
  }
  nlattr* beginNest(uint16_t type) {
    nlattr* nest = mnl_attr_nest_start_check(header_, buffer_.size(), type);
    check(nest != nullptr);
    return nest;
  }
  void endNest(nlattr* nest) { mnl_attr_nest_end(header_, nest); }

  void appendTo(RequestBatch& batch) { batch.appendRaw(header_, header_->nlmsg_len, what_); }

 private:
  void check(bool fitted) {
    if (!fitted)
      throw Error(
          what_ + ": the request does not fit in " + std::to_string(buffer_.size()) + " bytes",
          EMSGSIZE);
  }

  alignas(nlmsghdr) std::array<char, kRequestBytes> buffer_{};
  nlmsghdr* header_ = nullptr;
  std::string what_;
};

uint32_t ticksOf(uint64_t nanoseconds) {
  return clampToU32(nanoseconds / kNanosecondsPerTick);
}

// tc_netem_qopt, then the attributes netem reads after it, inside one TCA_OPTIONS, as tc sends
// them; a time beyond the 32-bit ticks (about 274 s) also in 64-bit nanoseconds
// (TCA_NETEM_LATENCY64, JITTER64), which the kernel takes over the ticks.
// A change in place keeps every attribute it leaves out (netem_change reads the correlation,
// reorder and corrupt attributes only when present), so a change sends them all, zero when
// unset; an addition sends only those set, as tc does.
void putNetemOptions(QdiscRequest& request, const QdiscSettings& impairment, uint32_t limit,
                     bool everyAttribute) {
  const uint64_t delayNs = impairment.delayUs.value_or(0) * kNanosecondsPerMicrosecond;
  const uint64_t jitterNs = impairment.jitterUs.value_or(0) * kNanosecondsPerMicrosecond;
  tc_netem_qopt fixed{};
  fixed.latency = ticksOf(delayNs);
  fixed.jitter = ticksOf(jitterNs);
  fixed.limit = limit;
  fixed.loss = probability(impairment.lossPercent.value_or(0));
  fixed.duplicate = probability(impairment.duplicatePercent.value_or(0));
  // As tc: with a reorder probability, every packet may be the one sent ahead.
  fixed.gap = impairment.reorderPercent ? 1 : 0;
  nlattr* options = request.beginNest(TCA_OPTIONS);
  request.putRaw(fixed);
  if (impairment.jitterCorrelationPercent || everyAttribute) {
    tc_netem_corr correlation{};
    correlation.delay_corr = probability(impairment.jitterCorrelationPercent.value_or(0));
    request.putStruct(TCA_NETEM_CORR, correlation);
  }
  if (impairment.reorderPercent || everyAttribute) {
    tc_netem_reorder reorder{};
    reorder.probability = probability(impairment.reorderPercent.value_or(0));
    request.putStruct(TCA_NETEM_REORDER, reorder);
  }
  if (impairment.corruptPercent || everyAttribute) {
    tc_netem_corrupt corrupt{};
    corrupt.probability = probability(impairment.corruptPercent.value_or(0));
    request.putStruct(TCA_NETEM_CORRUPT, corrupt);
  }
  if (delayNs / kNanosecondsPerTick > UINT32_MAX) request.putU64(TCA_NETEM_LATENCY64, delayNs);
  if (jitterNs / kNanosecondsPerTick > UINT32_MAX) request.putU64(TCA_NETEM_JITTER64, jitterNs);
  request.endNest(options);
}

// tc_tbf_qopt with an Ethernet link layer (so the kernel needs no rate table), the bucket in
// bytes (TCA_TBF_BURST, which the kernel takes over the time in the fixed options) and, above
// 32 bits of bytes per second, TCA_TBF_RATE64.
void putTbfOptions(QdiscRequest& request, uint64_t bytesPerSecond, const QueueSizes& sizes) {
  tc_tbf_qopt fixed{};
  fixed.rate.rate = clampToU32(bytesPerSecond);
  fixed.rate.linklayer = TC_LINKLAYER_ETHERNET;
  fixed.limit = clampToU32(sizes.shaperLimitBytes);
  fixed.buffer = ticksOf(sizes.burstBytes * 1'000'000'000 / bytesPerSecond);
  nlattr* options = request.beginNest(TCA_OPTIONS);
  request.putStruct(TCA_TBF_PARMS, fixed);
  if (bytesPerSecond > UINT32_MAX) request.putU64(TCA_TBF_RATE64, bytesPerSecond);
  request.putU32(TCA_TBF_BURST, clampToU32(sizes.burstBytes));
  request.endNest(options);
}

}  // namespace

QueueSizes queueSizes(const QdiscSettings& impairment, uint32_t mtu) {
  QueueSizes sizes;
  if (impairment.rateBitsPerSecond) {
    uint64_t bytesPerSecond = *impairment.rateBitsPerSecond / 8;
    uint64_t burst = std::max(bytesPerSecond / kBurstsPerSecond, kMinBurstFrames * frameBytes(mtu));
    sizes.burstBytes = clampToU32(burst);  // TCA_TBF_BURST is 32 bits
    uint64_t queueUs = impairment.delayUs.value_or(0) + kQueueHeadroomUs;
    uint64_t limit = std::max(bytesIn(bytesPerSecond, queueUs) + sizes.burstBytes,
                              kMinQueueFrames * frameBytes(mtu));
    sizes.shaperLimitBytes = clampToU32(limit);  // tc_tbf_qopt's limit is 32 bits
  }
  sizes.netemLimitPackets = impairment.limitPackets ? *impairment.limitPackets
                                                    : defaultNetemLimit(impairment, sizes, mtu);
  return sizes;
}

namespace {

// netem can limit a rate itself, but it does so by pushing each packet's send time further
// back in its delay line: there is no queue that fills and drops, only a delay that grows up
// to the packet limit, which TCP handles badly. tbf, a token bucket in front of a byte-limited
// FIFO with a burst suited to the rate, behaves like the bottleneck link TCP is built for.
// `flags` NLM_F_CREATE | NLM_F_EXCL adds the qdiscs, NLM_F_CREATE | NLM_F_REPLACE grafts them
// in place of the device's root, none changes those with the same handles in place, keeping
// the packets they hold. `root` is the root's handle (kImpairmentRootHandle or
// kAlternateRootHandle).
void appendImpairment(RequestBatch& batch, uint32_t ifindex, const QdiscSettings& impairment,
                      const std::string& description, uint32_t mtu, uint16_t flags, uint32_t root) {
  checkExpressible(impairment, description);
  const QueueSizes sizes = queueSizes(impairment, mtu);
  const bool netem = hasNetemField(impairment);
  if (netem) {
    QdiscRequest request(RTM_NEWQDISC, flags, ifindex, TC_H_ROOT, root,
                         "netem " + handleName(root) + " root on " + description);
    request.putString(TCA_KIND, "netem");
    putNetemOptions(request, impairment, sizes.netemLimitPackets, flags == 0);
    request.appendTo(batch);
  }
  if (impairment.rateBitsPerSecond) {
    // netem's one class, under whichever root it is.
    const uint32_t netemClass = TC_H_MAJ(root) | TC_H_MIN(kNetemChildClass);
    QdiscRequest request(RTM_NEWQDISC, flags, ifindex, netem ? netemClass : TC_H_ROOT,
                         netem ? kShaperChildHandle : root,
                         (netem ? "tbf 10: parent " + handleName(netemClass) + " on "
                                : "tbf " + handleName(root) + " root on ") +
                             description);
    request.putString(TCA_KIND, "tbf");
    putTbfOptions(request, *impairment.rateBitsPerSecond / 8, sizes);
    request.appendTo(batch);
  }
}

// Which qdiscs an impairment needs, and where (see the layout in qdisc.hpp).
struct Layout {
  bool netem = false;
  bool shaper = false;
  bool operator==(const Layout&) const = default;
};

Layout layoutOf(const QdiscSettings& impairment) {
  return {hasNetemField(impairment), impairment.rateBitsPerSecond.has_value()};
}

}  // namespace

void addImpairment(RequestBatch& batch, uint32_t ifindex, const QdiscSettings& impairment,
                   const std::string& description, uint32_t mtu) {
  if (impairment.empty()) return;
  appendImpairment(batch, ifindex, impairment, description, mtu, NLM_F_CREATE | NLM_F_EXCL,
                   kImpairmentRootHandle);
}

void changeImpairment(RequestBatch& batch, uint32_t ifindex,
                      const std::optional<QdiscSettings>& current, const QdiscSettings& wanted,
                      const std::string& description, uint32_t mtu, uint32_t currentRoot) {
  checkExpressible(wanted, description);
  if (current && *current == asHeld(wanted, mtu)) return;
  if (wanted.empty()) {
    removeImpairment(batch, ifindex, description);
  } else if (current && !current->empty() && layoutOf(*current) == layoutOf(wanted)) {
    appendImpairment(batch, ifindex, wanted, description, mtu, 0, currentRoot);
  } else {
    // The kernel changes a qdisc in place only into one of its own kind: a new layout replaces
    // the old one, and what the old qdiscs held is dropped, as with any new queue. It takes the
    // other handle, so the kernel grafts it over the old root in one request, or refuses it
    // with the old root untouched.
    const uint32_t root =
        currentRoot == kImpairmentRootHandle ? kAlternateRootHandle : kImpairmentRootHandle;
    appendImpairment(batch, ifindex, wanted, description, mtu, NLM_F_CREATE | NLM_F_REPLACE, root);
  }
}

void removeImpairment(RequestBatch& batch, uint32_t ifindex, const std::string& description) {
  QdiscRequest request(RTM_DELQDISC, 0, ifindex, TC_H_ROOT, 0, "root qdisc on " + description);
  request.appendTo(batch);
}

namespace {

double percentOf(uint32_t probability) {
  return probability * 100.0 / UINT32_MAX;
}

// To the nearest microsecond: a whole number of microseconds is sent as ticks, which may fall
// short of it by up to one tick (64 ns), and must read back as itself.
uint64_t nanosecondsToMicroseconds(uint64_t nanoseconds) {
  return (nanoseconds + kNanosecondsPerMicrosecond / 2) / kNanosecondsPerMicrosecond;
}

uint64_t ticksToMicroseconds(uint64_t ticks) {
  return nanosecondsToMicroseconds(ticks * kNanosecondsPerTick);
}

template <typename T>
bool readPayload(const nlattr* attribute, T& out) {
  if (mnl_attr_get_payload_len(attribute) < sizeof(T)) return false;
  std::memcpy(&out, mnl_attr_get_payload(attribute), sizeof(T));
  return true;
}

// The attributes netem puts after its fixed options, inside the same TCA_OPTIONS.
void readNetemAttribute(const nlattr* attribute, NetemOptions& netem) {
  switch (mnl_attr_get_type(attribute)) {
    case TCA_NETEM_CORR: {
      tc_netem_corr correlation{};
      if (readPayload(attribute, correlation)) {
        netem.delayCorrelationPercent = percentOf(correlation.delay_corr);
      }
      break;
    }
    case TCA_NETEM_REORDER: {
      tc_netem_reorder reorder{};
      if (readPayload(attribute, reorder)) netem.reorderPercent = percentOf(reorder.probability);
      break;
    }
    case TCA_NETEM_CORRUPT: {
      tc_netem_corrupt corrupt{};
      if (readPayload(attribute, corrupt)) netem.corruptPercent = percentOf(corrupt.probability);
      break;
    }
    // Exact nanoseconds, which the kernel sends beside the 32-bit ticks.
    case TCA_NETEM_LATENCY64: {
      int64_t nanoseconds = 0;
      if (readPayload(attribute, nanoseconds))
        netem.delayUs = nanosecondsToMicroseconds(nanoseconds);
      break;
    }
    case TCA_NETEM_JITTER64: {
      int64_t nanoseconds = 0;
      if (readPayload(attribute, nanoseconds))
        netem.jitterUs = nanosecondsToMicroseconds(nanoseconds);
      break;
    }
    default:
      break;
  }
}

// netem's TCA_OPTIONS is not a plain nest: a tc_netem_qopt, then attributes.
std::optional<NetemOptions> decodeNetem(const nlattr* options) {
  tc_netem_qopt fixed{};
  if (!readPayload(options, fixed)) return std::nullopt;
  NetemOptions netem;
  netem.delayUs = ticksToMicroseconds(fixed.latency);
  netem.jitterUs = ticksToMicroseconds(fixed.jitter);
  netem.lossPercent = percentOf(fixed.loss);
  netem.duplicatePercent = percentOf(fixed.duplicate);
  netem.reorderGap = fixed.gap;
  netem.limitPackets = fixed.limit;
  size_t skip = NLA_ALIGN(sizeof fixed);
  size_t length = mnl_attr_get_payload_len(options);
  if (length <= skip) return netem;
  const auto* first = reinterpret_cast<const nlattr*>(
      static_cast<const char*>(mnl_attr_get_payload(options)) + skip);
  int remaining = static_cast<int>(length - skip);
  for (const nlattr* attribute = first; mnl_attr_ok(attribute, remaining);
       attribute = mnl_attr_next(attribute)) {
    remaining -= NLA_ALIGN(attribute->nla_len);
    readNetemAttribute(attribute, netem);
  }
  return netem;
}

struct TbfAttributes {
  const nlattr* parameters = nullptr;
  const nlattr* rate64 = nullptr;
  const nlattr* burst = nullptr;
};

int storeTbfAttribute(const nlattr* attribute, void* data) {
  auto* found = static_cast<TbfAttributes*>(data);
  switch (mnl_attr_get_type(attribute)) {
    case TCA_TBF_PARMS:
      found->parameters = attribute;
      break;
    case TCA_TBF_RATE64:
      found->rate64 = attribute;
      break;
    case TCA_TBF_BURST:
      found->burst = attribute;
      break;
    default:
      break;
  }
  return MNL_CB_OK;
}

std::optional<TbfOptions> decodeTbf(const nlattr* options) {
  TbfAttributes found;
  if (mnl_attr_parse_nested(options, storeTbfAttribute, &found) != MNL_CB_OK) return std::nullopt;
  uint64_t rate64 = 0;
  if (found.rate64) readPayload(found.rate64, rate64);
  uint32_t burst = 0;
  bool hasBurst = found.burst && readPayload(found.burst, burst);
  tc_tbf_qopt fixed{};
  if (!found.parameters || !readPayload(found.parameters, fixed)) return std::nullopt;
  TbfOptions tbf;
  uint64_t bytesPerSecond = std::max<uint64_t>(fixed.rate.rate, rate64);
  tbf.rateBitsPerSecond = bytesPerSecond * 8;
  tbf.limitBytes = fixed.limit;
  // Requests carry the bucket in bytes; the kernel reports it as the time it takes at the rate.
  tbf.burstBytes =
      hasBurst ? burst
               : static_cast<uint64_t>(std::llround(double(fixed.buffer) * kNanosecondsPerTick *
                                                    double(bytesPerSecond) / 1e9));
  return tbf;
}

struct TopAttributes {
  const nlattr* kind = nullptr;
  const nlattr* options = nullptr;
  const nlattr* statistics = nullptr;
};

int storeTopAttribute(const nlattr* attribute, void* data) {
  auto* top = static_cast<TopAttributes*>(data);
  if (mnl_attr_get_type(attribute) == TCA_KIND) {
    if (mnl_attr_validate(attribute, MNL_TYPE_NUL_STRING) < 0) return MNL_CB_ERROR;
    top->kind = attribute;
  }
  if (mnl_attr_get_type(attribute) == TCA_OPTIONS) top->options = attribute;
  if (mnl_attr_get_type(attribute) == TCA_STATS2) top->statistics = attribute;
  return MNL_CB_OK;
}

int storeQueueStatistics(const nlattr* attribute, void* data) {
  if (mnl_attr_get_type(attribute) == TCA_STATS_QUEUE) {
    gnet_stats_queue queue{};
    if (readPayload(attribute, queue)) *static_cast<uint64_t*>(data) = queue.drops;
  }
  return MNL_CB_OK;
}

}  // namespace

std::optional<QdiscInfo> parseQdisc(const nlmsghdr& message) {
  if (message.nlmsg_type != RTM_NEWQDISC || message.nlmsg_len < NLMSG_LENGTH(sizeof(tcmsg))) {
    return std::nullopt;
  }
  const auto* header = static_cast<const tcmsg*>(mnl_nlmsg_get_payload(&message));
  QdiscInfo info;
  info.ifindex = static_cast<uint32_t>(header->tcm_ifindex);
  info.handle = header->tcm_handle;
  info.parent = header->tcm_parent;
  TopAttributes top;
  // Every attribute is checked before it is read: a malformed one (or a kind that is not a
  // string) rejects the message.
  if (mnl_attr_parse(&message, sizeof(tcmsg), storeTopAttribute, &top) != MNL_CB_OK || !top.kind) {
    return std::nullopt;
  }
  info.kind = mnl_attr_get_str(top.kind);
  if (top.options && info.kind == "netem") info.netem = decodeNetem(top.options);
  if (top.options && info.kind == "tbf") info.tbf = decodeTbf(top.options);
  if (top.statistics) mnl_attr_parse_nested(top.statistics, storeQueueStatistics, &info.drops);
  return info;
}

// The kernel dumps the qdiscs of every device (tcm_ifindex does not filter), so a device's
// are picked from them. Read on the Session's socket to its NLMSG_DONE, so nothing is left for
// the Session's next request.
std::vector<QdiscInfo> dumpAllQdiscs(Session& session) {
  tcmsg request{};
  request.tcm_family = AF_UNSPEC;
  std::vector<QdiscInfo> qdiscs;
  session.dump(RTM_GETQDISC, &request, sizeof request, [&](const nlmsghdr& message) {
    if (auto qdisc = parseQdisc(message)) qdiscs.push_back(std::move(*qdisc));
  });
  return qdiscs;
}

std::vector<QdiscInfo> dumpQdiscs(Session& session, uint32_t ifindex) {
  std::vector<QdiscInfo> qdiscs = dumpAllQdiscs(session);
  std::erase_if(qdiscs, [&](const QdiscInfo& qdisc) { return qdisc.ifindex != ifindex; });
  return qdiscs;
}

std::optional<QdiscSettings> settingsInForce(const std::vector<QdiscInfo>& deviceQdiscs,
                                             uint32_t mtu) {
  const QdiscInfo* root = nullptr;
  const QdiscInfo* child = nullptr;
  for (const auto& qdisc : deviceQdiscs) {
    // The kernel's own qdiscs (noqueue, pfifo_fast, mq) have no handle; ingress is not egress.
    if (qdisc.handle == 0 || qdisc.parent == TC_H_INGRESS) continue;
    const QdiscInfo*& slot = qdisc.parent == TC_H_ROOT ? root : child;
    if (slot) return std::nullopt;
    slot = &qdisc;
  }
  QdiscSettings settings;
  if (!root) return child ? std::nullopt : std::optional(settings);
  if (root->handle != kImpairmentRootHandle && root->handle != kAlternateRootHandle) {
    return std::nullopt;
  }
  if (root->kind == "tbf" && root->tbf && !child) {
    settings.rateBitsPerSecond = root->tbf->rateBitsPerSecond;
    return settings;
  }
  if (root->kind != "netem" || !root->netem) return std::nullopt;
  if (child) {
    if (child->kind != "tbf" || !child->tbf || child->handle != kShaperChildHandle ||
        child->parent != (TC_H_MAJ(root->handle) | TC_H_MIN(kNetemChildClass))) {
      return std::nullopt;
    }
    settings.rateBitsPerSecond = child->tbf->rateBitsPerSecond;
  }
  const NetemOptions& netem = *root->netem;
  auto setUnlessZero = [](auto& field, auto value) {
    if (value != 0) field = value;
  };
  setUnlessZero(settings.delayUs, netem.delayUs);
  setUnlessZero(settings.jitterUs, netem.jitterUs);
  setUnlessZero(settings.jitterCorrelationPercent, netem.delayCorrelationPercent);
  setUnlessZero(settings.lossPercent, netem.lossPercent);
  setUnlessZero(settings.corruptPercent, netem.corruptPercent);
  setUnlessZero(settings.duplicatePercent, netem.duplicatePercent);
  // Reordering happens only with a gap; a probability left behind without one does nothing.
  if (netem.reorderGap != 0) setUnlessZero(settings.reorderPercent, netem.reorderPercent);
  // netem always has a limit: it is a setting where it is not the one netlab would choose, and
  // what makes a netem with no other field.
  if (!hasNetemField(settings) ||
      netem.limitPackets != queueSizes(settings, mtu).netemLimitPackets) {
    settings.limitPackets = netem.limitPackets;
  }
  return settings;
}

QdiscSettings asHeld(const QdiscSettings& settings, uint32_t mtu) {
  RequestBatch batch;
  addImpairment(batch, 0, settings, "", mtu);
  std::vector<QdiscInfo> qdiscs;
  for (const auto& request : batch.requests()) {
    const auto* message = reinterpret_cast<const nlmsghdr*>(batch.bytes().data() + request.offset);
    qdiscs.push_back(parseQdisc(*message).value());
  }
  // Requests addImpairment built are netlab's layout, whatever their values.
  return settingsInForce(qdiscs, mtu).value();
}

uint32_t rootHandleOf(const std::vector<QdiscInfo>& deviceQdiscs) {
  for (const auto& qdisc : deviceQdiscs) {
    if (qdisc.parent == TC_H_ROOT) return qdisc.handle;
  }
  return 0;
}

std::string handleName(uint32_t handle) {
  if (handle == TC_H_ROOT) return "root";
  char text[16];
  if (TC_H_MIN(handle) == 0) {
    std::snprintf(text, sizeof text, "%x:", TC_H_MAJ(handle) >> 16);
  } else {
    std::snprintf(text, sizeof text, "%x:%x", TC_H_MAJ(handle) >> 16, TC_H_MIN(handle));
  }
  return text;
}

}  // namespace netlab::netlink
