// Impairment requests checked as bytes: the qdiscs, where they hang, and what their options
// say once decoded the way the kernel reads them.
#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>

#include <climits>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "base/error.hpp"
#include "netlink/qdisc.hpp"

namespace netlab::netlink {
namespace {

const nlmsghdr* messageAt(const RequestBatch& batch, size_t index) {
  return reinterpret_cast<const nlmsghdr*>(batch.bytes().data() + batch.requests()[index].offset);
}

const tcmsg& tcOf(const nlmsghdr* message) {
  return *static_cast<const tcmsg*>(mnl_nlmsg_get_payload(message));
}

QdiscInfo parsed(const RequestBatch& batch, size_t index) {
  auto info = parseQdisc(*messageAt(batch, index));
  EXPECT_TRUE(info.has_value());
  return info.value_or(QdiscInfo{});
}

int storeIfType(const nlattr* attribute, void* data) {
  auto* wanted = static_cast<std::pair<uint16_t, const nlattr*>*>(data);
  if (mnl_attr_get_type(attribute) == wanted->first) wanted->second = attribute;
  return MNL_CB_OK;
}

const nlattr* findAttribute(const nlmsghdr* message, uint16_t type) {
  std::pair<uint16_t, const nlattr*> wanted{type, nullptr};
  mnl_attr_parse(message, sizeof(tcmsg), storeIfType, &wanted);
  return wanted.second;
}

// netem's TCA_OPTIONS starts with its fixed options, as the kernel reads them.
tc_netem_qopt netemFixedOptions(const nlmsghdr* message) {
  tc_netem_qopt options{};
  const nlattr* attribute = findAttribute(message, TCA_OPTIONS);
  EXPECT_NE(attribute, nullptr);
  if (attribute) std::memcpy(&options, mnl_attr_get_payload(attribute), sizeof options);
  return options;
}

const nlattr* tbfAttribute(const nlmsghdr* message, uint16_t type) {
  const nlattr* options = findAttribute(message, TCA_OPTIONS);
  if (!options) return nullptr;
  std::pair<uint16_t, const nlattr*> wanted{type, nullptr};
  mnl_attr_parse_nested(options, storeIfType, &wanted);
  return wanted.second;
}

TEST(Impairment, DelayOnlyIsANetemRoot) {
  RequestBatch batch(40);
  QdiscSettings impairment;
  impairment.delayUs = 100'000;
  addImpairment(batch, 7, impairment, "r1:eth0");

  ASSERT_EQ(batch.size(), 1u);
  const nlmsghdr* message = messageAt(batch, 0);
  EXPECT_EQ(message->nlmsg_type, RTM_NEWQDISC);
  EXPECT_EQ(message->nlmsg_seq, 40u);
  EXPECT_EQ(message->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
  EXPECT_EQ(batch.requests()[0].description, "netem 1: root on r1:eth0");
  EXPECT_EQ(tcOf(message).tcm_ifindex, 7);

  QdiscInfo netem = parsed(batch, 0);
  EXPECT_EQ(netem.kind, "netem");
  EXPECT_EQ(netem.parent, TC_H_ROOT);
  EXPECT_EQ(netem.handle, 0x00010000u);
  ASSERT_TRUE(netem.netem);
  EXPECT_EQ(netem.netem->delayUs, 100'000u);
  EXPECT_EQ(netem.netem->lossPercent, 0.0);
  EXPECT_EQ(netem.netem->limitPackets, 1000u) << "netem's own default without a rate";
  // The delay in the kernel's 64 ns scheduler ticks (15.625 per microsecond).
  EXPECT_EQ(netemFixedOptions(message).latency, 1'562'500u);
}

TEST(Impairment, ProbabilitiesAreThirtyTwoBitFractions) {
  RequestBatch batch;
  QdiscSettings impairment;
  impairment.delayUs = 20'000;
  impairment.jitterUs = 5'000;
  impairment.jitterCorrelationPercent = 25;
  impairment.lossPercent = 1;
  impairment.duplicatePercent = 100;
  impairment.corruptPercent = 0.5;
  addImpairment(batch, 3, impairment, "a:eth1");

  ASSERT_EQ(batch.size(), 1u);
  tc_netem_qopt fixed = netemFixedOptions(messageAt(batch, 0));
  EXPECT_EQ(fixed.loss, 42'949'673u) << "1% of 2^32-1, rounded, as tc writes it";
  EXPECT_EQ(fixed.duplicate, UINT32_MAX);
  EXPECT_EQ(fixed.jitter, 78'125u);

  QdiscInfo netem = parsed(batch, 0);
  ASSERT_TRUE(netem.netem);
  EXPECT_EQ(netem.netem->delayUs, 20'000u);
  EXPECT_EQ(netem.netem->jitterUs, 5'000u);
  EXPECT_NEAR(netem.netem->lossPercent, 1.0, 1e-6);
  EXPECT_NEAR(netem.netem->delayCorrelationPercent, 25.0, 1e-6);
  EXPECT_NEAR(netem.netem->corruptPercent, 0.5, 1e-6);
  EXPECT_NEAR(netem.netem->duplicatePercent, 100.0, 1e-6);
  EXPECT_EQ(netem.netem->reorderPercent, 0.0);
}

// The options tc (iproute2 6.1) sends for `tc qdisc add dev lo root handle 1: netem delay
// 100ms 10ms 25% loss 1% corrupt 0.5% duplicate 100% reorder 30% limit 500`, captured with
// strace: the same units and scales, byte for byte.
TEST(Impairment, NetemOptionsMatchWhatTcSends) {
  const uint8_t fromTc[] = {0x84, 0xd7, 0x17, 0x00, 0xf4, 0x01, 0x00, 0x00, 0x29, 0x5c, 0x8f,
                            0x02, 0x01, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x5a, 0x62,
                            0x02, 0x00, 0x10, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x40, 0x00,
                            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x03, 0x00,
                            0xcc, 0xcc, 0xcc, 0x4c, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x04,
                            0x00, 0x14, 0xae, 0x47, 0x01, 0x00, 0x00, 0x00, 0x00};
  RequestBatch batch;
  QdiscSettings impairment;
  impairment.delayUs = 100'000;
  impairment.jitterUs = 10'000;
  impairment.jitterCorrelationPercent = 25;
  impairment.lossPercent = 1;
  impairment.corruptPercent = 0.5;
  impairment.duplicatePercent = 100;
  impairment.reorderPercent = 30;
  impairment.limitPackets = 500;
  addImpairment(batch, 1, impairment, "lo");
  const nlattr* options = findAttribute(messageAt(batch, 0), TCA_OPTIONS);
  ASSERT_NE(options, nullptr);
  EXPECT_EQ(messageAt(batch, 0)->nlmsg_len, 116u) << "tc's length";
  const auto* ours = static_cast<const uint8_t*>(mnl_attr_get_payload(options));
  EXPECT_EQ(std::vector<uint8_t>(ours, ours + mnl_attr_get_payload_len(options)),
            std::vector<uint8_t>(std::begin(fromTc), std::end(fromTc)));
}

TEST(Impairment, RateOnlyIsATbfRoot) {
  RequestBatch batch;
  QdiscSettings impairment;
  impairment.rateBitsPerSecond = 10'000'000;
  addImpairment(batch, 4, impairment, "r2:eth0");

  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(batch.requests()[0].description, "tbf 1: root on r2:eth0");
  QdiscInfo tbf = parsed(batch, 0);
  EXPECT_EQ(tbf.kind, "tbf");
  EXPECT_EQ(tbf.parent, TC_H_ROOT);
  EXPECT_EQ(tbf.handle, 0x00010000u);
  ASSERT_TRUE(tbf.tbf);
  EXPECT_EQ(tbf.tbf->rateBitsPerSecond, 10'000'000u);
  // 1.25 MB/s: the bucket holds 4 ms of it, the queue 50 ms more plus the bucket.
  EXPECT_EQ(tbf.tbf->burstBytes, 5'000u);
  EXPECT_EQ(tbf.tbf->limitBytes, 62'500u + 5'000u);
  EXPECT_EQ(tbfAttribute(messageAt(batch, 0), TCA_TBF_RATE64), nullptr);
}

TEST(Impairment, DelayAndRateHangTbfBelowNetem) {
  RequestBatch batch;
  QdiscSettings impairment;
  impairment.delayUs = 100'000;
  impairment.lossPercent = 2;
  impairment.rateBitsPerSecond = 1'000'000'000;
  addImpairment(batch, 9, impairment, "r1:eth2");

  ASSERT_EQ(batch.size(), 2u);
  QdiscInfo netem = parsed(batch, 0);
  QdiscInfo tbf = parsed(batch, 1);
  EXPECT_EQ(netem.kind, "netem");
  EXPECT_EQ(netem.parent, TC_H_ROOT);
  EXPECT_EQ(netem.handle, 0x00010000u);
  EXPECT_EQ(tbf.kind, "tbf");
  EXPECT_EQ(tbf.parent, 0x00010001u) << "netem's class 1:1";
  EXPECT_EQ(tbf.handle, 0x00100000u) << "10: as tc writes it, in hex";
  EXPECT_EQ(batch.requests()[1].description, "tbf 10: parent 1:1 on r1:eth2");
  EXPECT_EQ(handleName(tbf.handle), "10:");
  EXPECT_EQ(handleName(tbf.parent), "1:1");

  // 125 MB/s: a 500 kB bucket; the queue holds 150 ms at the rate plus the bucket; netem
  // holds the 100 ms delay line and the shaper's queue, in full frames.
  ASSERT_TRUE(tbf.tbf);
  EXPECT_EQ(tbf.tbf->burstBytes, 500'000u);
  EXPECT_EQ(tbf.tbf->limitBytes, 18'750'000u + 500'000u);
  ASSERT_TRUE(netem.netem);
  EXPECT_EQ(netem.netem->limitPackets, (12'500'000u + 19'250'000u + 1513u) / 1514u);
  EXPECT_NEAR(netem.netem->lossPercent, 2.0, 1e-6);
}

TEST(Impairment, ExplicitLimitWins) {
  RequestBatch batch;
  QdiscSettings impairment;
  impairment.delayUs = 100'000;
  impairment.rateBitsPerSecond = 1'000'000'000;
  impairment.limitPackets = 50;
  addImpairment(batch, 9, impairment, "x");
  EXPECT_EQ(parsed(batch, 0).netem->limitPackets, 50u);
}

TEST(Impairment, RatesBeyondThirtyTwoBitsGoAsRate64) {
  RequestBatch batch;
  QdiscSettings impairment;
  impairment.rateBitsPerSecond = 40'000'000'000;
  addImpairment(batch, 2, impairment, "fast");
  const nlattr* rate64 = tbfAttribute(messageAt(batch, 0), TCA_TBF_RATE64);
  ASSERT_NE(rate64, nullptr);
  EXPECT_EQ(mnl_attr_get_u64(rate64), 5'000'000'000u);
  EXPECT_EQ(parsed(batch, 0).tbf->rateBitsPerSecond, 40'000'000'000u);
  // An Ethernet link layer: the kernel needs no rate table, and none is sent.
  tc_tbf_qopt fixed{};
  std::memcpy(&fixed, mnl_attr_get_payload(tbfAttribute(messageAt(batch, 0), TCA_TBF_PARMS)),
              sizeof fixed);
  EXPECT_EQ(fixed.rate.linklayer, TC_LINKLAYER_ETHERNET);
  EXPECT_EQ(fixed.rate.rate, UINT32_MAX);
  EXPECT_EQ(tbfAttribute(messageAt(batch, 0), TCA_TBF_RTAB), nullptr);
}

TEST(Impairment, DelaysBeyondThirtyTwoBitTicksGoAsLatency64) {
  RequestBatch batch;
  QdiscSettings impairment;
  impairment.delayUs = 600'000'000;  // 600 s: more than 2^32 ticks of 64 ns
  impairment.jitterUs = 1'000;
  addImpairment(batch, 2, impairment, "far");
  const nlmsghdr* message = messageAt(batch, 0);
  EXPECT_EQ(netemFixedOptions(message).latency, UINT32_MAX);
  QdiscInfo info = parsed(batch, 0);
  ASSERT_TRUE(info.netem);
  EXPECT_EQ(info.netem->delayUs, 600'000'000u) << "read back from TCA_NETEM_LATENCY64";
  EXPECT_EQ(info.netem->jitterUs, 1'000u) << "short enough for ticks alone";
}

TEST(Impairment, SlowRatesStillPassAFullFrame) {
  RequestBatch batch;
  QdiscSettings impairment;
  impairment.rateBitsPerSecond = 1'000;
  addImpairment(batch, 2, impairment, "slow", 9000);
  // Two 9014-byte frames: 144 s at 125 B/s, far beyond the 4.3 s a bucket time can hold.
  const nlattr* burst = tbfAttribute(messageAt(batch, 0), TCA_TBF_BURST);
  ASSERT_NE(burst, nullptr);
  EXPECT_EQ(mnl_attr_get_u32(burst), 18'028u);
}

TEST(Impairment, ReorderSendsGapOneAndNeedsADelay) {
  RequestBatch batch;
  QdiscSettings impairment;
  impairment.reorderPercent = 25;
  EXPECT_THROW(addImpairment(batch, 2, impairment, "r1:eth0"), Error);
  EXPECT_TRUE(batch.empty());

  impairment.delayUs = 10'000;
  addImpairment(batch, 2, impairment, "r1:eth0");
  QdiscInfo netem = parsed(batch, 0);
  ASSERT_TRUE(netem.netem);
  EXPECT_NEAR(netem.netem->reorderPercent, 25.0, 1e-6);
  EXPECT_EQ(netem.netem->reorderGap, 1u);
}

TEST(Impairment, EmptyImpairmentAddsNothing) {
  RequestBatch batch;
  addImpairment(batch, 2, QdiscSettings{}, "r1:eth0");
  EXPECT_TRUE(batch.empty());
}

TEST(Impairment, RemovalDeletesTheRoot) {
  RequestBatch batch(5);
  removeImpairment(batch, 12, "r1:eth0");
  ASSERT_EQ(batch.size(), 1u);
  const nlmsghdr* message = messageAt(batch, 0);
  EXPECT_EQ(message->nlmsg_type, RTM_DELQDISC);
  EXPECT_EQ(message->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
  EXPECT_EQ(tcOf(message).tcm_ifindex, 12);
  EXPECT_EQ(tcOf(message).tcm_parent, TC_H_ROOT);
  EXPECT_EQ(tcOf(message).tcm_handle, 0u);
  EXPECT_EQ(batch.requests()[0].description, "root qdisc on r1:eth0");
}

QdiscSettings rateOf(uint64_t bitsPerSecond) {
  QdiscSettings impairment;
  impairment.rateBitsPerSecond = bitsPerSecond;
  return impairment;
}

TEST(ChangeImpairment, SameLayoutChangesInPlace) {
  RequestBatch batch;
  changeImpairment(batch, 9, rateOf(10'000'000), rateOf(20'000'000), "r1:eth0");
  ASSERT_EQ(batch.size(), 1u);
  const nlmsghdr* message = messageAt(batch, 0);
  EXPECT_EQ(message->nlmsg_type, RTM_NEWQDISC);
  EXPECT_EQ(message->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK) << "no CREATE: a change in place";
  QdiscInfo tbf = parsed(batch, 0);
  EXPECT_EQ(tbf.handle, kImpairmentRootHandle);
  ASSERT_TRUE(tbf.tbf);
  EXPECT_EQ(tbf.tbf->rateBitsPerSecond, 20'000'000u);
}

TEST(ChangeImpairment, NewLayoutReplacesTheQdiscs) {
  RequestBatch batch;
  QdiscSettings wanted = rateOf(10'000'000);
  wanted.delayUs = 20'000;
  changeImpairment(batch, 9, rateOf(10'000'000), wanted, "r1:eth0");
  // No deletion first: the new root takes the other handle and is grafted over the old one in
  // one request, which the kernel refuses (netem missing, say) with the old one untouched.
  ASSERT_EQ(batch.size(), 2u);
  EXPECT_EQ(batch.requests()[0].description, "netem 2: root on r1:eth0");
  EXPECT_EQ(batch.requests()[1].description, "tbf 10: parent 2:1 on r1:eth0");
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(messageAt(batch, i)->nlmsg_flags,
              NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE);
  }
  EXPECT_EQ(parsed(batch, 0).handle, kAlternateRootHandle);
  EXPECT_EQ(parsed(batch, 1).parent, kAlternateRootHandle | 1);
  // And back: from a root at 2:, the next layout takes 1:.
  RequestBatch back;
  changeImpairment(back, 9, asHeld(wanted), rateOf(5'000'000), "r1:eth0", 1500,
                   kAlternateRootHandle);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back.requests()[0].description, "tbf 1: root on r1:eth0");
  // A change in place addresses the root where it is.
  QdiscSettings other = wanted;
  other.delayUs = 30'000;
  RequestBatch inPlace;
  changeImpairment(inPlace, 9, asHeld(wanted), other, "r1:eth0", 1500, kAlternateRootHandle);
  EXPECT_EQ(inPlace.requests()[0].description, "netem 2: root on r1:eth0");
  EXPECT_EQ(parsed(inPlace, 0).handle, kAlternateRootHandle);
}

TEST(ChangeImpairment, FromNothingAddsAndToNothingRemoves) {
  RequestBatch added;
  changeImpairment(added, 4, QdiscSettings{}, rateOf(1'000'000), "h1:eth0", 1500, 0);
  ASSERT_EQ(added.size(), 1u);
  EXPECT_EQ(messageAt(added, 0)->nlmsg_flags,
            NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE);
  EXPECT_EQ(added.requests()[0].description, "tbf 1: root on h1:eth0");

  RequestBatch removed;
  changeImpairment(removed, 4, rateOf(1'000'000), {}, "h1:eth0");
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_EQ(messageAt(removed, 0)->nlmsg_type, RTM_DELQDISC);

  RequestBatch unchanged;
  changeImpairment(unchanged, 4, rateOf(1'000'000), rateOf(1'000'000), "h1:eth0");
  EXPECT_TRUE(unchanged.empty());
}

// netem keeps what a change leaves out, so a change says every field: a corruption set before
// and not wanted now goes as a zero, not as nothing.
TEST(ChangeImpairment, ANetemChangeSendsEveryFieldZeroWhenUnset) {
  QdiscSettings before;
  before.delayUs = 10'000;
  before.corruptPercent = 5;
  before.jitterUs = 1'000;
  before.jitterCorrelationPercent = 25;
  before.reorderPercent = 10;
  QdiscSettings wanted;
  wanted.delayUs = 20'000;
  RequestBatch batch;
  changeImpairment(batch, 9, asHeld(before), wanted, "r1:eth0");
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(messageAt(batch, 0)->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK) << "in place";
  QdiscInfo netem = parsed(batch, 0);
  ASSERT_TRUE(netem.netem);
  EXPECT_EQ(netem.netem->delayUs, 20'000u);
  EXPECT_EQ(netem.netem->reorderGap, 0u);
  for (uint16_t type : {TCA_NETEM_CORR, TCA_NETEM_REORDER, TCA_NETEM_CORRUPT}) {
    const nlattr* options = findAttribute(messageAt(batch, 0), TCA_OPTIONS);
    ASSERT_NE(options, nullptr);
    // The attributes after netem's fixed options, as the kernel walks them.
    const auto* first = reinterpret_cast<const nlattr*>(
        static_cast<const char*>(mnl_attr_get_payload(options)) + NLA_ALIGN(sizeof(tc_netem_qopt)));
    int remaining =
        static_cast<int>(mnl_attr_get_payload_len(options) - NLA_ALIGN(sizeof(tc_netem_qopt)));
    const nlattr* found = nullptr;
    for (const nlattr* attribute = first; mnl_attr_ok(attribute, remaining);
         attribute = mnl_attr_next(attribute)) {
      remaining -= NLA_ALIGN(attribute->nla_len);
      if (mnl_attr_get_type(attribute) == type) found = attribute;
    }
    ASSERT_NE(found, nullptr) << "attribute " << type << " is sent";
    uint32_t probability = 1;
    std::memcpy(&probability, mnl_attr_get_payload(found), sizeof probability);
    EXPECT_EQ(probability, 0u) << "attribute " << type;
  }
}

TEST(ChangeImpairment, QdiscsNetlabDidNotLayOutAreReplaced) {
  RequestBatch batch;
  changeImpairment(batch, 9, std::nullopt, rateOf(10'000'000), "r1:eth0", 1500, 0x80010000);
  ASSERT_EQ(batch.size(), 1u);
  EXPECT_EQ(messageAt(batch, 0)->nlmsg_flags,
            NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE);
}

TEST(ChangeImpairment, WhatTheKernelHoldsAlreadyIsNotSentAgain) {
  QdiscSettings wanted;
  wanted.delayUs = 1;  // 15 ticks, 960 ns: held as 1 us
  wanted.lossPercent = 20;
  wanted.rateBitsPerSecond = 1'001;  // held in bytes per second: 1000 bit/s
  RequestBatch batch;
  changeImpairment(batch, 9, asHeld(wanted), wanted, "r1:eth0");
  EXPECT_TRUE(batch.empty());
}

QdiscInfo qdisc(std::string kind, uint32_t handle, uint32_t parent) {
  QdiscInfo info;
  info.kind = std::move(kind);
  info.handle = handle;
  info.parent = parent;
  return info;
}

// Each of netlab's layouts, as built, reads back as the settings that made it.
TEST(SettingsInForce, NetlabsLayoutsReadBack) {
  QdiscSettings everything;
  everything.delayUs = 40'000;
  everything.jitterUs = 1;
  everything.jitterCorrelationPercent = 25;
  everything.lossPercent = 0.5;
  everything.corruptPercent = 1;
  everything.duplicatePercent = 2;
  everything.reorderPercent = 3;
  everything.rateBitsPerSecond = 8'000'000;
  QdiscSettings delayOnly;
  delayOnly.delayUs = 300'000'000'000;  // beyond 32-bit ticks: LATENCY64
  QdiscSettings limitOnly;
  limitOnly.limitPackets = 77;
  for (const QdiscSettings& settings : {everything, delayOnly, limitOnly, rateOf(1'000'000)}) {
    QdiscSettings held = asHeld(settings);
    EXPECT_EQ(held.delayUs, settings.delayUs);
    EXPECT_EQ(held.jitterUs, settings.jitterUs);
    EXPECT_EQ(held.rateBitsPerSecond, settings.rateBitsPerSecond);
    EXPECT_EQ(held.limitPackets, settings.limitPackets) << "netlab's own limit is no setting";
    EXPECT_EQ(held.lossPercent.has_value(), settings.lossPercent.has_value());
    if (held.lossPercent) {
      EXPECT_NEAR(*held.lossPercent, *settings.lossPercent, 1e-6);
    }
    EXPECT_EQ(held.reorderPercent.has_value(), settings.reorderPercent.has_value());
  }
  EXPECT_EQ(asHeld(QdiscSettings{}), QdiscSettings{});
}

TEST(SettingsInForce, TheKernelsDefaultsAreNoImpairment) {
  std::vector<QdiscInfo> defaults = {qdisc("noqueue", 0, TC_H_ROOT),
                                     qdisc("ingress", 0xffff0000, TC_H_INGRESS)};
  EXPECT_EQ(settingsInForce(defaults), QdiscSettings{});
  EXPECT_EQ(settingsInForce({}), QdiscSettings{});
}

TEST(SettingsInForce, OtherQdiscsAreNotNetlabs) {
  EXPECT_FALSE(settingsInForce({qdisc("fq_codel", 0x80010000, TC_H_ROOT)}));
  QdiscInfo netem = qdisc("netem", kImpairmentRootHandle, TC_H_ROOT);
  netem.netem = NetemOptions{};
  netem.netem->delayUs = 1'000;
  netem.netem->limitPackets = 1000;
  ASSERT_TRUE(settingsInForce({netem}));
  EXPECT_FALSE(settingsInForce({netem, qdisc("pfifo", 0x00100000, kNetemChildClass)}))
      << "a child that is not a tbf";
  QdiscInfo elsewhere = netem;
  elsewhere.handle = 0x80010000;
  EXPECT_FALSE(settingsInForce({elsewhere})) << "netem, but not under netlab's handle";
  // The alternate root, with its child under its own class.
  QdiscInfo alternate = netem;
  alternate.handle = kAlternateRootHandle;
  QdiscInfo shaper = qdisc("tbf", kShaperChildHandle, kAlternateRootHandle | 1);
  shaper.tbf = TbfOptions{};
  shaper.tbf->rateBitsPerSecond = 8'000;
  auto read = settingsInForce({alternate, shaper});
  ASSERT_TRUE(read);
  EXPECT_EQ(read->rateBitsPerSecond, 8'000u);
  shaper.parent = kNetemChildClass;
  EXPECT_FALSE(settingsInForce({alternate, shaper})) << "a child under the other root's class";
  EXPECT_EQ(rootHandleOf({alternate, shaper}), kAlternateRootHandle);
  EXPECT_EQ(rootHandleOf({qdisc("noqueue", 0, TC_H_ROOT)}), 0u);
}

// A netem dump as the kernel writes it: the fixed options (times capped in ticks), then the
// exact nanoseconds, which win.
TEST(ParseQdisc, KernelNetemDumpPrefersNanoseconds) {
  alignas(4) uint8_t buffer[512] = {};
  nlmsghdr* message = mnl_nlmsg_put_header(buffer);
  message->nlmsg_type = RTM_NEWQDISC;
  auto* tc = static_cast<tcmsg*>(mnl_nlmsg_put_extra_header(message, sizeof(tcmsg)));
  tc->tcm_ifindex = 3;
  tc->tcm_handle = 0x00010000;
  tc->tcm_parent = TC_H_ROOT;
  mnl_attr_put_strz(message, TCA_KIND, "netem");
  nlattr* options = mnl_attr_nest_start(message, TCA_OPTIONS);
  tc_netem_qopt fixed{};
  fixed.latency = UINT32_MAX;
  fixed.limit = 1000;
  fixed.loss = UINT32_MAX / 2;
  std::memcpy(mnl_nlmsg_get_payload_tail(message), &fixed, sizeof fixed);
  message->nlmsg_len += MNL_ALIGN(sizeof fixed);
  mnl_attr_put_u64(message, TCA_NETEM_LATENCY64, 300'000'000'000ull);  // 300 s
  mnl_attr_nest_end(message, options);

  auto info = parseQdisc(*message);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->ifindex, 3u);
  EXPECT_EQ(handleName(info->parent), "root");
  ASSERT_TRUE(info->netem);
  EXPECT_EQ(info->netem->delayUs, 300'000'000u);
  EXPECT_NEAR(info->netem->lossPercent, 50.0, 1e-6);
  EXPECT_FALSE(info->tbf);
}

// A reply cut short inside netem's and tbf's options: nothing is read beyond it.
TEST(ParseQdisc, TruncatedOptionsAreNotRead) {
  RequestBatch batch;
  QdiscSettings impairment;
  impairment.delayUs = 1'000;
  impairment.reorderPercent = 5;
  impairment.rateBitsPerSecond = 1'000'000;
  addImpairment(batch, 2, impairment, "cut");
  for (size_t index = 0; index < 2; ++index) {
    const nlmsghdr* message = messageAt(batch, index);
    std::vector<uint8_t> copy(reinterpret_cast<const uint8_t*>(message),
                              reinterpret_cast<const uint8_t*>(message) + message->nlmsg_len);
    auto* header = reinterpret_cast<nlmsghdr*>(copy.data());
    auto* options = const_cast<nlattr*>(findAttribute(header, TCA_OPTIONS));
    ASSERT_NE(options, nullptr);
    // The options claim fewer bytes than their fixed part: a short attribute.
    options->nla_len = sizeof(nlattr) + 8;
    header->nlmsg_len =
        static_cast<uint32_t>(reinterpret_cast<uint8_t*>(options) + 12 - copy.data());
    copy.resize(header->nlmsg_len);
    auto info = parseQdisc(*header);
    ASSERT_TRUE(info) << "the kind is intact";
    EXPECT_FALSE(info->netem) << index;
    EXPECT_FALSE(info->tbf) << index;
  }
}

TEST(ParseQdisc, AKindThatIsNotAStringRejectsTheMessage) {
  alignas(4) uint8_t buffer[128] = {};
  nlmsghdr* message = mnl_nlmsg_put_header(buffer);
  message->nlmsg_type = RTM_NEWQDISC;
  mnl_nlmsg_put_extra_header(message, sizeof(tcmsg));
  const char notTerminated[4] = {'t', 'b', 'f', 'x'};
  mnl_attr_put(message, TCA_KIND, sizeof notTerminated, notTerminated);
  EXPECT_FALSE(parseQdisc(*message));
}

TEST(ParseQdisc, IgnoresOtherMessages) {
  alignas(4) uint8_t buffer[64] = {};
  nlmsghdr* message = mnl_nlmsg_put_header(buffer);
  message->nlmsg_type = RTM_NEWLINK;
  EXPECT_FALSE(parseQdisc(*message));
}

}  // namespace
}  // namespace netlab::netlink
