#include "netlink/qdisc.hpp"

#include <libmnl/libmnl.h>
#include <linux/gen_stats.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/netem.h>
#include <netlink/route/qdisc/tbf.h>
#include <netlink/route/tc.h>
#include <sys/socket.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>

#include "base/error.hpp"

namespace netlab::netlink {
namespace {

struct QdiscDeleter {
  void operator()(rtnl_qdisc* qdisc) const { rtnl_qdisc_put(qdisc); }
};
struct MessageDeleter {
  void operator()(nl_msg* message) const { nlmsg_free(message); }
};
using QdiscPtr = std::unique_ptr<rtnl_qdisc, QdiscDeleter>;
using MessagePtr = std::unique_ptr<nl_msg, MessageDeleter>;

constexpr uint64_t kEthernetHeaderBytes = 14;  // counted in a packet's length at the qdisc
constexpr uint64_t kMicrosecondsPerSecond = 1'000'000;
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
// libnl takes sizes and rates as int.
constexpr uint64_t kMaxLibnlValue = INT_MAX;
// libnl sends netem times in 32-bit ticks of 64 ns (it has no TCA_NETEM_LATENCY64): ~274 s.
constexpr uint64_t kMaxNetemTimeUs = 274'000'000;
// The most bucket libnl is given, in seconds at the rate (see configureTbf).
constexpr uint64_t kMaxLibnlBucketSeconds = 200;
// The kernel's packet scheduler tick (PSCHED_SHIFT 6), the second word of /proc/net/psched.
constexpr uint64_t kNanosecondsPerTick = 64;

uint64_t frameBytes(uint32_t mtu) {
  return mtu + kEthernetHeaderBytes;
}

uint64_t bytesIn(uint64_t bytesPerSecond, uint64_t microseconds) {
  return bytesPerSecond * microseconds / kMicrosecondsPerSecond;
}

bool hasNetemField(const topo::Impairment& impairment) {
  return impairment.delayUs || impairment.jitterUs || impairment.jitterCorrelationPercent ||
         impairment.lossPercent || impairment.corruptPercent || impairment.duplicatePercent ||
         impairment.reorderPercent || impairment.limitPackets;
}

// The delay line holds what the link carries during delay and jitter, and the shaper below it
// holds its own queue; both count against netem's packet limit.
uint32_t defaultNetemLimit(const topo::Impairment& impairment, const QueueSizes& sizes,
                           uint32_t mtu) {
  if (!impairment.rateBitsPerSecond) return kNetemDefaultLimit;
  uint64_t heldUs = uint64_t{impairment.delayUs.value_or(0)} + impairment.jitterUs.value_or(0);
  uint64_t heldBytes = bytesIn(*impairment.rateBitsPerSecond / 8, heldUs) + sizes.shaperLimitBytes;
  uint64_t frames = (heldBytes + frameBytes(mtu) - 1) / frameBytes(mtu);
  return static_cast<uint32_t>(std::clamp<uint64_t>(frames, kNetemDefaultLimit, kMaxLibnlValue));
}

[[noreturn]] void throwLibnl(const std::string& operation, const std::string& what, int error) {
  throw Error(operation + "(" + what + "): " + nl_geterror(error));
}

[[noreturn]] void throwUnsupported(const std::string& description, const std::string& reason) {
  throw Error("impairment on " + description + ": " + reason, EINVAL);
}

// The combinations netem refuses, named before libnl reduces them to "Missing attribute".
void checkExpressible(const topo::Impairment& impairment, const std::string& description) {
  uint32_t delay = impairment.delayUs.value_or(0);
  uint32_t jitter = impairment.jitterUs.value_or(0);
  if (impairment.reorderPercent.value_or(0) > 0 && delay == 0) {
    throwUnsupported(description, "reorder needs a delay (reordered packets skip it)");
  }
  if (impairment.jitterCorrelationPercent.value_or(0) > 0 && (delay == 0 || jitter == 0)) {
    throwUnsupported(description, "jitter correlation needs a delay and a jitter");
  }
  if (delay > kMaxNetemTimeUs || jitter > kMaxNetemTimeUs) {
    throwUnsupported(description, "delay and jitter are limited to 274 s");
  }
  if (impairment.rateBitsPerSecond && *impairment.rateBitsPerSecond < 8) {
    throwUnsupported(description, "a rate needs at least 8 bit/s");
  }
}

// netem's probabilities are 32-bit fractions, 0 never and UINT32_MAX always, as tc writes
// them. libnl's setters take them as int and store the bits unchanged in uint32 fields.
int probability(double percent) {
  double fraction = std::clamp(percent, 0.0, 100.0) / 100.0;
  // Rounded half to even, as tc does, so the same percentage gives the same bits.
  auto scaled = static_cast<uint32_t>(std::nearbyint(fraction * UINT32_MAX));
  return static_cast<int>(scaled);  // modular in C++20; libnl converts it back
}

QdiscPtr newQdisc(uint32_t ifindex, uint32_t parent, uint32_t handle, const char* kind) {
  QdiscPtr qdisc(rtnl_qdisc_alloc());
  if (!qdisc) throw std::bad_alloc();
  rtnl_tc* tc = TC_CAST(qdisc.get());
  rtnl_tc_set_ifindex(tc, static_cast<int>(ifindex));
  rtnl_tc_set_parent(tc, parent);
  rtnl_tc_set_handle(tc, handle);
  if (int error = rtnl_tc_set_kind(tc, kind); error < 0)
    throwLibnl("rtnl_tc_set_kind", kind, error);
  return qdisc;
}

void configureNetem(rtnl_qdisc* qdisc, const topo::Impairment& impairment, uint32_t limit) {
  if (impairment.delayUs) rtnl_netem_set_delay(qdisc, static_cast<int>(*impairment.delayUs));
  if (impairment.jitterUs) rtnl_netem_set_jitter(qdisc, static_cast<int>(*impairment.jitterUs));
  if (impairment.jitterCorrelationPercent) {
    rtnl_netem_set_delay_correlation(qdisc, probability(*impairment.jitterCorrelationPercent));
  }
  if (impairment.lossPercent) rtnl_netem_set_loss(qdisc, probability(*impairment.lossPercent));
  if (impairment.corruptPercent) {
    rtnl_netem_set_corruption_probability(qdisc, probability(*impairment.corruptPercent));
  }
  if (impairment.duplicatePercent) {
    rtnl_netem_set_duplicate(qdisc, probability(*impairment.duplicatePercent));
  }
  // libnl then sends gap 1, as tc does: every packet may be the one sent ahead.
  if (impairment.reorderPercent) {
    rtnl_netem_set_reorder_probability(qdisc, probability(*impairment.reorderPercent));
  }
  rtnl_netem_set_limit(qdisc, static_cast<int>(limit));
}

void configureTbf(rtnl_qdisc* qdisc, uint64_t bytesPerSecond, const QueueSizes& sizes,
                  uint32_t mtu) {
  // The rate table libnl computes is sized by the MTU (the kernel reads it only to detect
  // ATM link layers). libnl turns the bucket into 32-bit ticks, which overflow beyond ~274 s
  // of traffic, so it gets at most 200 s; the kernel takes the bucket from TCA_TBF_BURST.
  uint64_t rate = std::min(bytesPerSecond, kMaxLibnlValue);
  uint64_t bucket = std::min(sizes.burstBytes, rate * kMaxLibnlBucketSeconds);
  rtnl_tc_set_mtu(TC_CAST(qdisc), mtu);
  rtnl_qdisc_tbf_set_rate(qdisc, static_cast<int>(rate), static_cast<int>(bucket), 0);
  rtnl_qdisc_tbf_set_limit(qdisc, static_cast<int>(sizes.shaperLimitBytes));
}

// libnl-route-3.7 fills only tbf's TCA_TBF_PARMS, whose 32-bit fields cap the rate (libnl's
// int: ~17 Gbit/s) and hold the bucket as a time, which the kernel caps at 2^32 ns: too short
// for a two-frame bucket below ~6 kbit/s. The kernel reads two more attributes that lift both
// limits, TCA_TBF_BURST (the bucket in bytes, which wins over the time) and TCA_TBF_RATE64;
// they belong inside TCA_OPTIONS, which libnl writes last.
void addTbfAttributes(nl_msg* message, uint64_t bytesPerSecond, uint64_t burstBytes,
                      const std::string& what) {
  nlmsghdr* header = nlmsg_hdr(message);
  nlattr* options = nlmsg_find_attr(header, sizeof(tcmsg), TCA_OPTIONS);
  if (!options || reinterpret_cast<char*>(options) + NLA_ALIGN(options->nla_len) !=
                      static_cast<char*>(nlmsg_tail(header))) {
    throw Error("tbf request for " + what + ": libnl did not write TCA_OPTIONS last");
  }
  size_t optionsOffset = reinterpret_cast<char*>(options) - reinterpret_cast<char*>(header);
  int error = nla_put_u32(message, TCA_TBF_BURST, static_cast<uint32_t>(burstBytes));
  if (error == 0 && bytesPerSecond > kMaxLibnlValue) {
    error = nla_put_u64(message, TCA_TBF_RATE64, bytesPerSecond);
  }
  if (error < 0) throwLibnl("nla_put", what, error);
  header = nlmsg_hdr(message);
  auto* grown = reinterpret_cast<nlattr*>(reinterpret_cast<char*>(header) + optionsOffset);
  grown->nla_len = static_cast<uint16_t>(header->nlmsg_len - optionsOffset);
}

// libnl 3.7's netem counts its attributes after the fixed options twice in nlmsg_len, so the
// message ends in zero bytes, which the kernel logs as "bytes leftover after parsing
// attributes". The message ends where its last attribute does.
void trimAfterLastAttribute(nl_msg* message) {
  nlmsghdr* header = nlmsg_hdr(message);
  const auto* start = reinterpret_cast<const char*>(header);
  const auto* attribute =
      static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(header, sizeof(tcmsg)));
  int remaining = static_cast<int>(header->nlmsg_len) -
                  static_cast<int>(reinterpret_cast<const char*>(attribute) - start);
  while (mnl_attr_ok(attribute, remaining)) {
    remaining -= static_cast<int>(NLA_ALIGN(attribute->nla_len));
    attribute = mnl_attr_next(attribute);
  }
  header->nlmsg_len = static_cast<uint32_t>(reinterpret_cast<const char*>(attribute) - start);
}

// `flags` NLM_F_CREATE | NLM_F_EXCL adds a qdisc; none changes the one with the same handle
// in place, keeping the packets it holds.
MessagePtr buildRequest(rtnl_qdisc* qdisc, int flags, const std::string& what) {
  nl_msg* raw = nullptr;
  int error = rtnl_qdisc_build_add_request(qdisc, flags, &raw);
  MessagePtr message(raw);
  if (error < 0) throwLibnl("rtnl_qdisc_build_add_request", what, error);
  trimAfterLastAttribute(message.get());
  return message;
}

void append(RequestBatch& batch, nl_msg* message, std::string description) {
  const nlmsghdr* header = nlmsg_hdr(message);
  batch.appendRaw(header, header->nlmsg_len, std::move(description));
}

}  // namespace

QueueSizes queueSizes(const topo::Impairment& impairment, uint32_t mtu) {
  QueueSizes sizes;
  if (impairment.rateBitsPerSecond) {
    uint64_t bytesPerSecond = *impairment.rateBitsPerSecond / 8;
    uint64_t burst = std::max(bytesPerSecond / kBurstsPerSecond, kMinBurstFrames * frameBytes(mtu));
    sizes.burstBytes = std::min(burst, kMaxLibnlValue);
    uint64_t queueUs = impairment.delayUs.value_or(0) + kQueueHeadroomUs;
    uint64_t limit = std::max(bytesIn(bytesPerSecond, queueUs) + sizes.burstBytes,
                              kMinQueueFrames * frameBytes(mtu));
    sizes.shaperLimitBytes = std::min(limit, kMaxLibnlValue);
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
void appendImpairment(RequestBatch& batch, uint32_t ifindex, const topo::Impairment& impairment,
                      const std::string& description, uint32_t mtu, int flags) {
  checkExpressible(impairment, description);
  const QueueSizes sizes = queueSizes(impairment, mtu);
  const bool netem = hasNetemField(impairment);
  if (netem) {
    std::string what = "netem 1: root on " + description;
    QdiscPtr qdisc = newQdisc(ifindex, TC_H_ROOT, kImpairmentRootHandle, "netem");
    configureNetem(qdisc.get(), impairment, sizes.netemLimitPackets);
    append(batch, buildRequest(qdisc.get(), flags, what).get(), what);
  }
  if (impairment.rateBitsPerSecond) {
    uint64_t bytesPerSecond = *impairment.rateBitsPerSecond / 8;
    std::string what =
        netem ? "tbf 10: parent 1:1 on " + description : "tbf 1: root on " + description;
    QdiscPtr qdisc = netem ? newQdisc(ifindex, kNetemChildClass, kShaperChildHandle, "tbf")
                           : newQdisc(ifindex, TC_H_ROOT, kImpairmentRootHandle, "tbf");
    configureTbf(qdisc.get(), bytesPerSecond, sizes, mtu);
    MessagePtr message = buildRequest(qdisc.get(), flags, what);
    addTbfAttributes(message.get(), bytesPerSecond, sizes.burstBytes, what);
    append(batch, message.get(), what);
  }
}

// Which qdiscs an impairment needs, and where (see the layout in qdisc.hpp).
struct Layout {
  bool netem = false;
  bool shaper = false;
  bool operator==(const Layout&) const = default;
};

Layout layoutOf(const topo::Impairment& impairment) {
  return {hasNetemField(impairment), impairment.rateBitsPerSecond.has_value()};
}

}  // namespace

void addImpairment(RequestBatch& batch, uint32_t ifindex, const topo::Impairment& impairment,
                   const std::string& description, uint32_t mtu) {
  if (impairment.empty()) return;
  appendImpairment(batch, ifindex, impairment, description, mtu, NLM_F_CREATE | NLM_F_EXCL);
}

void changeImpairment(RequestBatch& batch, uint32_t ifindex, const topo::Impairment& current,
                      const topo::Impairment& wanted, const std::string& description,
                      uint32_t mtu) {
  if (current == wanted) return;
  if (wanted.empty()) {
    removeImpairment(batch, ifindex, description);
  } else if (!current.empty() && layoutOf(current) == layoutOf(wanted)) {
    appendImpairment(batch, ifindex, wanted, description, mtu, 0);
  } else {
    // The kernel changes a qdisc in place only into one of its own kind: a new layout replaces
    // the old one, and what the old qdiscs held is dropped, as with any new queue.
    if (!current.empty()) removeImpairment(batch, ifindex, description);
    addImpairment(batch, ifindex, wanted, description, mtu);
  }
}

void removeImpairment(RequestBatch& batch, uint32_t ifindex, const std::string& description) {
  std::string what = "root qdisc on " + description;
  QdiscPtr qdisc(rtnl_qdisc_alloc());
  if (!qdisc) throw std::bad_alloc();
  rtnl_tc_set_ifindex(TC_CAST(qdisc.get()), static_cast<int>(ifindex));
  rtnl_tc_set_parent(TC_CAST(qdisc.get()), TC_H_ROOT);
  nl_msg* raw = nullptr;
  int error = rtnl_qdisc_build_delete_request(qdisc.get(), &raw);
  MessagePtr message(raw);
  if (error < 0) throwLibnl("rtnl_qdisc_build_delete_request", what, error);
  append(batch, message.get(), what);
}

namespace {

double percentOf(uint32_t probability) {
  return probability * 100.0 / UINT32_MAX;
}

uint64_t ticksToMicroseconds(uint64_t ticks) {
  return ticks * kNanosecondsPerTick / 1000;
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
      if (readPayload(attribute, nanoseconds)) netem.delayUs = uint64_t(nanoseconds) / 1000;
      break;
    }
    case TCA_NETEM_JITTER64: {
      int64_t nanoseconds = 0;
      if (readPayload(attribute, nanoseconds)) netem.jitterUs = uint64_t(nanoseconds) / 1000;
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
  mnl_attr_parse_nested(options, storeTbfAttribute, &found);
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
  if (mnl_attr_get_type(attribute) == TCA_KIND) top->kind = attribute;
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
  mnl_attr_parse(&message, sizeof(tcmsg), storeTopAttribute, &top);
  if (!top.kind) return std::nullopt;
  const char* kind = static_cast<const char*>(mnl_attr_get_payload(top.kind));
  info.kind.assign(kind, strnlen(kind, mnl_attr_get_payload_len(top.kind)));
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
