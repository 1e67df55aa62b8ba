// Impairments applied by the kernel and read back: by our own dump, and cross-checked with
// tc, which decodes the same qdiscs independently. Each test works on a thread of its own in
// a scratch namespace, so the test binary's namespace never changes.
#include <gtest/gtest.h>
#include <linux/pkt_sched.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <thread>

#include "netlink/qdisc.hpp"
#include "netlink/session.hpp"
#include "netns_support.hpp"
#include "nsmgr/namespaces.hpp"

namespace netlab {
namespace {

using netlink::QdiscInfo;
using netlink::RequestBatch;
using netlink::Session;

using testing::onOwnThread;

constexpr uint32_t kIfindex = 3;
constexpr uint32_t kPeerIfindex = 4;

// A scratch namespace holding a veth pair x0 (ifindex 3, up) <-> x1 (ifindex 4).
Session sessionWithVeth() {
  nsmgr::enterScratchNetworkNamespace();
  Session session = Session::openInCurrentNamespace();
  RequestBatch batch;
  batch.newVethPair({"x0", kIfindex, {}, 1500, -1, 0, true},
                    {"x1", kPeerIfindex, {}, 1500, -1, 0, false}, "veth x0 <-> x1");
  session.execute(batch);
  return session;
}

void apply(Session& session, const netlink::QdiscSettings& impairment) {
  RequestBatch batch;
  netlink::addImpairment(batch, kIfindex, impairment, "x0");
  session.execute(batch);
}

// netem is a module in Debian's kernels, and left out of some VM kernels: the kernel then
// refuses the kind with ENOENT, and the tests that need netem skip rather than fail.
bool kernelHasNetem(Session& session) {
  RequestBatch probe;
  netlink::QdiscSettings delay;
  delay.delayUs = 1'000;
  netlink::addImpairment(probe, kPeerIfindex, delay, "x1");
  try {
    session.execute(probe);
  } catch (const netlink::NetlinkError& error) {
    if (error.errnoValue() == ENOENT) return false;
    throw;
  }
  RequestBatch reset;
  netlink::removeImpairment(reset, kPeerIfindex, "x1");
  session.execute(reset);
  return true;
}

constexpr const char* kNoNetem = "this kernel has no netem qdisc (CONFIG_NET_SCH_NETEM)";

const QdiscInfo* findKind(const std::vector<QdiscInfo>& qdiscs, const std::string& kind) {
  auto found = std::find_if(qdiscs.begin(), qdiscs.end(),
                            [&](const QdiscInfo& qdisc) { return qdisc.kind == kind; });
  return found == qdiscs.end() ? nullptr : &*found;
}

// What tc says about the device, run in this thread's namespace (a child inherits it).
std::string tcShow(const std::string& device) {
  std::string command = "tc qdisc show dev " + device + " 2>&1";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), ::pclose);
  if (!pipe) return "popen failed";
  std::string output;
  char chunk[512];
  while (size_t got = std::fread(chunk, 1, sizeof chunk, pipe.get())) output.append(chunk, got);
  return output;
}

TEST(Qdisc, DelayJitterLossAndRateReadBack) {
  onOwnThread([] {
    Session session = sessionWithVeth();
    if (!kernelHasNetem(session)) GTEST_SKIP() << kNoNetem;
    netlink::QdiscSettings impairment;
    impairment.delayUs = 100'000;
    impairment.jitterUs = 10'000;
    impairment.lossPercent = 1;
    impairment.rateBitsPerSecond = 10'000'000;
    apply(session, impairment);

    auto qdiscs = netlink::dumpQdiscs(session, kIfindex);
    const QdiscInfo* netem = findKind(qdiscs, "netem");
    const QdiscInfo* tbf = findKind(qdiscs, "tbf");
    ASSERT_TRUE(netem && netem->netem);
    ASSERT_TRUE(tbf && tbf->tbf);
    EXPECT_EQ(netem->parent, TC_H_ROOT);
    EXPECT_EQ(netem->handle, netlink::kImpairmentRootHandle);
    EXPECT_EQ(netem->netem->delayUs, 100'000u);
    EXPECT_EQ(netem->netem->jitterUs, 10'000u);
    EXPECT_NEAR(netem->netem->lossPercent, 1.0, 1e-6);
    EXPECT_EQ(netem->netem->limitPackets, 1000u);
    EXPECT_EQ(tbf->parent, netlink::kNetemChildClass);
    EXPECT_EQ(tbf->handle, netlink::kShaperChildHandle);
    EXPECT_EQ(tbf->tbf->rateBitsPerSecond, 10'000'000u);
    EXPECT_NEAR(static_cast<double>(tbf->tbf->burstBytes), 5'000.0, 2.0);
    EXPECT_EQ(tbf->tbf->limitBytes, 62'500u + 125'000u + 5'000u);

    std::string shown = tcShow("x0");
    EXPECT_NE(shown.find("qdisc netem 1: root"), std::string::npos) << shown;
    EXPECT_NE(shown.find("limit 1000"), std::string::npos) << shown;
    EXPECT_NE(shown.find("delay 100ms  10ms"), std::string::npos) << shown;
    EXPECT_NE(shown.find("loss 1%"), std::string::npos) << shown;
    EXPECT_NE(shown.find("qdisc tbf 10: parent 1:1 rate 10Mbit burst 5000b"), std::string::npos)
        << shown;
  });
}

TEST(Qdisc, RateOnlyIsTheRoot) {
  onOwnThread([] {
    Session session = sessionWithVeth();
    netlink::QdiscSettings impairment;
    impairment.rateBitsPerSecond = 100'000'000;
    apply(session, impairment);
    auto qdiscs = netlink::dumpQdiscs(session, kIfindex);
    ASSERT_EQ(qdiscs.size(), 1u) << "tbf's own fifo is not listed";
    EXPECT_EQ(qdiscs[0].kind, "tbf");
    EXPECT_EQ(qdiscs[0].parent, TC_H_ROOT);
    ASSERT_TRUE(qdiscs[0].tbf);
    EXPECT_EQ(qdiscs[0].tbf->rateBitsPerSecond, 100'000'000u);
    EXPECT_NEAR(static_cast<double>(qdiscs[0].tbf->burstBytes), 50'000.0, 2.0);
    std::string shown = tcShow("x0");
    EXPECT_NE(shown.find("qdisc tbf 1: root"), std::string::npos) << shown;
    EXPECT_NE(shown.find("rate 100Mbit burst 50000b lat 50ms"), std::string::npos) << shown;
  });
}

// The bucket in bytes (TCA_TBF_BURST) and a rate above 32 bits (TCA_TBF_RATE64) are taken.
TEST(Qdisc, ExtremeRatesKeepTheirBucketAndRate) {
  onOwnThread([] {
    Session session = sessionWithVeth();
    netlink::QdiscSettings slow;
    slow.rateBitsPerSecond = 1'000;
    apply(session, slow);
    auto qdiscs = netlink::dumpQdiscs(session, kIfindex);
    ASSERT_EQ(qdiscs.size(), 1u);
    ASSERT_TRUE(qdiscs[0].tbf);
    EXPECT_EQ(qdiscs[0].tbf->rateBitsPerSecond, 1'000u);
    EXPECT_NEAR(static_cast<double>(qdiscs[0].tbf->burstBytes), 3'028.0, 2.0)
        << "24 s of traffic: more than a bucket time of 2^32 ns holds";

    RequestBatch reset;
    netlink::removeImpairment(reset, kIfindex, "x0");
    session.execute(reset);
    netlink::QdiscSettings fast;
    fast.rateBitsPerSecond = 40'000'000'000;
    apply(session, fast);
    qdiscs = netlink::dumpQdiscs(session, kIfindex);
    ASSERT_EQ(qdiscs.size(), 1u);
    ASSERT_TRUE(qdiscs[0].tbf);
    EXPECT_EQ(qdiscs[0].tbf->rateBitsPerSecond, 40'000'000'000u);
    // The kernel keeps the bucket as a time, rounded by its rate arithmetic.
    EXPECT_NEAR(static_cast<double>(qdiscs[0].tbf->burstBytes), 20'000'000.0, 2'000.0);
  });
}

TEST(Qdisc, EveryNetemFieldReadsBack) {
  onOwnThread([] {
    Session session = sessionWithVeth();
    if (!kernelHasNetem(session)) GTEST_SKIP() << kNoNetem;
    netlink::QdiscSettings impairment;
    impairment.delayUs = 5'000;
    impairment.jitterUs = 1'000;
    impairment.jitterCorrelationPercent = 25;
    impairment.corruptPercent = 0.1;
    impairment.duplicatePercent = 2;
    impairment.reorderPercent = 30;
    impairment.limitPackets = 500;
    impairment.rateBitsPerSecond = 50'000'000;
    apply(session, impairment);
    auto qdiscs = netlink::dumpQdiscs(session, kIfindex);
    const QdiscInfo* netem = findKind(qdiscs, "netem");
    ASSERT_TRUE(netem && netem->netem);
    EXPECT_EQ(netem->netem->delayUs, 5'000u);
    EXPECT_EQ(netem->netem->jitterUs, 1'000u);
    EXPECT_NEAR(netem->netem->delayCorrelationPercent, 25.0, 1e-6);
    EXPECT_NEAR(netem->netem->corruptPercent, 0.1, 1e-6);
    EXPECT_NEAR(netem->netem->duplicatePercent, 2.0, 1e-6);
    EXPECT_NEAR(netem->netem->reorderPercent, 30.0, 1e-6);
    EXPECT_EQ(netem->netem->reorderGap, 1u);
    EXPECT_EQ(netem->netem->limitPackets, 500u);
    std::string shown = tcShow("x0");
    EXPECT_NE(shown.find("limit 500"), std::string::npos) << shown;
    EXPECT_NE(shown.find("reorder 30%"), std::string::npos) << shown;
    EXPECT_NE(shown.find("duplicate 2%"), std::string::npos) << shown;
  });
}

// What the kernel holds reads back as the settings that made it (asHeld): the kernel's default
// and a rate here, netem with a shaper below it in the next test.
TEST(Qdisc, ARateReadsBackAsItsSettings) {
  onOwnThread([] {
    Session session = sessionWithVeth();
    EXPECT_EQ(netlink::settingsInForce(netlink::dumpQdiscs(session, kIfindex)),
              netlink::QdiscSettings{})
        << "a fresh veth's own qdisc is no impairment";
    netlink::QdiscSettings rate;
    rate.rateBitsPerSecond = 12'345'678;
    apply(session, rate);
    EXPECT_EQ(netlink::settingsInForce(netlink::dumpQdiscs(session, kIfindex)),
              netlink::asHeld(rate));
  });
}

TEST(Qdisc, NetemAndARateReadBackAsTheirSettings) {
  onOwnThread([] {
    Session session = sessionWithVeth();
    if (!kernelHasNetem(session)) GTEST_SKIP() << kNoNetem;
    netlink::QdiscSettings rate;
    rate.rateBitsPerSecond = 12'345'678;
    apply(session, rate);
    netlink::QdiscSettings everything = rate;
    everything.delayUs = 40'001;
    everything.jitterUs = 3;
    everything.lossPercent = 12.5;
    everything.reorderPercent = 7;
    RequestBatch change;
    netlink::changeImpairment(change, kIfindex, netlink::asHeld(rate), everything, "x0");
    session.execute(change);
    EXPECT_EQ(netlink::settingsInForce(netlink::dumpQdiscs(session, kIfindex)),
              netlink::asHeld(everything));
  });
}

// netem keeps what a change leaves out: a change from corruption and reordering to a plain
// delay must leave neither behind.
TEST(Qdisc, ANetemChangeInPlaceDropsTheFieldsLeftOut) {
  onOwnThread([] {
    Session session = sessionWithVeth();
    if (!kernelHasNetem(session)) GTEST_SKIP() << kNoNetem;
    netlink::QdiscSettings before;
    before.delayUs = 10'000;
    before.jitterUs = 2'000;
    before.jitterCorrelationPercent = 25;
    before.corruptPercent = 5;
    before.reorderPercent = 10;
    apply(session, before);
    netlink::QdiscSettings after;
    after.delayUs = 20'000;
    RequestBatch change;
    netlink::changeImpairment(change, kIfindex, netlink::asHeld(before), after, "x0");
    session.execute(change);
    auto qdiscs = netlink::dumpQdiscs(session, kIfindex);
    const QdiscInfo* netem = findKind(qdiscs, "netem");
    ASSERT_TRUE(netem && netem->netem);
    EXPECT_EQ(netem->handle, netlink::kImpairmentRootHandle) << "changed in place";
    EXPECT_EQ(netem->netem->delayUs, 20'000u);
    EXPECT_EQ(netem->netem->corruptPercent, 0.0);
    EXPECT_EQ(netem->netem->delayCorrelationPercent, 0.0);
    EXPECT_EQ(netem->netem->reorderPercent, 0.0);
    EXPECT_EQ(netlink::settingsInForce(qdiscs), netlink::asHeld(after));
    std::string shown = tcShow("x0");
    EXPECT_EQ(shown.find("corrupt"), std::string::npos) << shown;
    EXPECT_EQ(shown.find("reorder"), std::string::npos) << shown;
  });
}

// A change of layout takes the root handle the device's root does not have (the kernel gives
// no handle a qdisc of another kind), grafted over the old root in one request; a change of
// values keeps the layout's handle.
TEST(Qdisc, ALayoutChangeGraftsTheOtherRootAndBack) {
  onOwnThread([] {
    Session session = sessionWithVeth();
    if (!kernelHasNetem(session)) GTEST_SKIP() << kNoNetem;
    auto change = [&](const netlink::QdiscSettings& wanted) {
      const auto qdiscs = netlink::dumpQdiscs(session, kIfindex);
      RequestBatch batch;
      netlink::changeImpairment(batch, kIfindex, netlink::settingsInForce(qdiscs), wanted, "x0",
                                1500, netlink::rootHandleOf(qdiscs));
      session.execute(batch);
      const auto after = netlink::dumpQdiscs(session, kIfindex);
      EXPECT_EQ(netlink::settingsInForce(after), netlink::asHeld(wanted));
      return netlink::rootHandleOf(after);
    };
    netlink::QdiscSettings rate;
    rate.rateBitsPerSecond = 12'345'678;
    EXPECT_EQ(change(rate), 0u + netlink::kImpairmentRootHandle) << "the first layout is 1:";
    netlink::QdiscSettings delayed = rate;
    delayed.delayUs = 10'000;
    EXPECT_EQ(change(delayed), 0u + netlink::kAlternateRootHandle) << "a new layout, at 2:";
    delayed.delayUs = 20'000;
    EXPECT_EQ(change(delayed), 0u + netlink::kAlternateRootHandle) << "changed in place";
    EXPECT_EQ(change(rate), 0u + netlink::kImpairmentRootHandle) << "a new layout, back at 1:";
    EXPECT_EQ(change(netlink::QdiscSettings{}), 0u) << "removed: the kernel's default";
  });
}

TEST(Qdisc, RemovalRestoresTheDefaultAndRefusesTwice) {
  onOwnThread([] {
    Session session = sessionWithVeth();
    netlink::QdiscSettings impairment;
    impairment.rateBitsPerSecond = 1'000'000;
    apply(session, impairment);
    try {
      apply(session, impairment);
      FAIL() << "a second root qdisc was accepted";
    } catch (const netlink::NetlinkError& error) {
      EXPECT_EQ(error.errnoValue(), EEXIST);
      EXPECT_NE(std::string(error.what()).find("RTM_NEWQDISC tbf 1: root on x0"), std::string::npos)
          << error.what();
    }

    RequestBatch reset;
    netlink::removeImpairment(reset, kIfindex, "x0");
    session.execute(reset);
    auto qdiscs = netlink::dumpQdiscs(session, kIfindex);
    EXPECT_FALSE(findKind(qdiscs, "tbf"));
    ASSERT_EQ(qdiscs.size(), 1u);
    EXPECT_EQ(qdiscs[0].handle, 0u) << "the device's default, " << qdiscs[0].kind;

    try {
      session.execute(reset);
      FAIL() << "deleting the default qdisc was accepted";
    } catch (const netlink::NetlinkError& error) {
      EXPECT_EQ(error.errnoValue(), ENOENT) << error.what();
      EXPECT_NE(std::string(error.what()).find("RTM_DELQDISC root qdisc on x0"), std::string::npos)
          << error.what();
    }
    // The socket is clean after a dump and a failure: the next batch is acked normally.
    apply(session, impairment);
  });
}

}  // namespace
}  // namespace netlab
