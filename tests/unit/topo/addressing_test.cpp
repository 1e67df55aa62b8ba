// Automatic addressing: pools, segments, numbering order, and determinism.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "test_support.hpp"
#include "topo/plan_json.hpp"

namespace netlab::topo {
namespace {

using testing::addressesOf;
using testing::dump;
using testing::interfaceOf;
using testing::load;
using testing::nodeOf;

std::string loopbacksOf(const Plan& plan, std::string_view node) {
  std::string text;
  for (const IpPrefix& address : nodeOf(plan, node).loopbackAddresses) {
    text += (text.empty() ? "" : " ") + toString(address);
  }
  return text;
}

TEST(Addressing, PointToPointLansAndLoopbacksFromTheDefaultPools) {
  auto result = load(R"({
    "nodes": {"r1": {"kind": "router"}, "r2": {"kind": "router"}, "a": {}, "b": {}},
    "links": [["r1", "r2"], ["r2", "a", "b"], ["r1", "a"]]})");
  ASSERT_TRUE(result.ok()) << dump(result);
  const Plan& plan = *result.plan;
  EXPECT_EQ(addressesOf(interfaceOf(plan, "r1", "eth0")), "10.0.0.1/30");
  EXPECT_EQ(addressesOf(interfaceOf(plan, "r2", "eth0")), "10.0.0.2/30");
  EXPECT_EQ(addressesOf(interfaceOf(plan, "r2", "eth1")), "172.16.0.1/24");
  EXPECT_EQ(addressesOf(interfaceOf(plan, "a", "eth0")), "172.16.0.2/24");
  EXPECT_EQ(addressesOf(interfaceOf(plan, "b", "eth0")), "172.16.0.3/24");
  EXPECT_EQ(addressesOf(interfaceOf(plan, "r1", "eth1")), "10.0.0.5/30");
  EXPECT_EQ(addressesOf(interfaceOf(plan, "a", "eth1")), "10.0.0.6/30");
  EXPECT_EQ(loopbacksOf(plan, "r1"), "10.255.0.1/32");
  EXPECT_EQ(loopbacksOf(plan, "r2"), "10.255.0.2/32");
  EXPECT_EQ(loopbacksOf(plan, "a"), "");
  EXPECT_TRUE(addressesOf(interfaceOf(plan, "lan1", "eth0")).empty());
}

TEST(Addressing, Ipv6WhenEnabled) {
  auto result = load(R"({
    "addressing": {"ipv6": true},
    "nodes": {"r1": {"kind": "router"}, "a": {}, "b": {}, "c": {}},
    "links": [["r1", "a"], ["r1", "b", "c"]]})");
  ASSERT_TRUE(result.ok()) << dump(result);
  const Plan& plan = *result.plan;
  EXPECT_EQ(addressesOf(interfaceOf(plan, "r1", "eth0")), "10.0.0.1/30 fd00:10::1/64");
  EXPECT_EQ(addressesOf(interfaceOf(plan, "a", "eth0")), "10.0.0.2/30 fd00:10::2/64");
  EXPECT_EQ(addressesOf(interfaceOf(plan, "c", "eth0")), "172.16.0.3/24 fd00:20::3/64");
  EXPECT_EQ(loopbacksOf(plan, "r1"), "10.255.0.1/32 fd00:ff::1/128");
}

TEST(Addressing, Ipv6Only) {
  auto result = load(R"({"addressing": {"ipv4": false, "ipv6": true},
    "nodes": {"a": {}, "b": {}}, "links": [["a", "b"]]})");
  ASSERT_TRUE(result.ok()) << dump(result);
  EXPECT_EQ(addressesOf(interfaceOf(*result.plan, "b", "eth0")), "fd00:10::2/64");
}

TEST(Addressing, OffMeansNoAutomaticAddresses) {
  auto result = load(R"({"addressing": false,
    "nodes": {"r1": {"kind": "router"}, "b": {}, "c": {}, "d": {}},
    "links": [["r1", "b"], {"endpoints": ["c", "d"], "prefix": "10.5.0.0/24"}]})");
  ASSERT_TRUE(result.ok()) << dump(result);
  const Plan& plan = *result.plan;
  EXPECT_EQ(addressesOf(interfaceOf(plan, "r1", "eth0")), "");
  EXPECT_EQ(loopbacksOf(plan, "r1"), "");
  // A link prefix still numbers its endpoints.
  EXPECT_EQ(addressesOf(interfaceOf(plan, "d", "eth0")), "10.5.0.2/24");
}

TEST(Addressing, PoolsSkipEverythingWrittenInTheTopology) {
  auto result = load(R"({
    "nodes": {"a": {}, "b": {}, "c": {"loopback": "10.0.0.9"}, "r": {"kind": "router"}},
    "links": [
      ["a", "b"],
      {"endpoints": ["b", "c"], "prefix": "10.0.0.0/30"},
      ["a", "c"],
      {"endpoints": [{"node": "r", "addresses": "10.255.0.1/24"}, "a"]}
    ]})");
  ASSERT_TRUE(result.ok()) << dump(result);
  const Plan& plan = *result.plan;
  EXPECT_EQ(addressesOf(interfaceOf(plan, "a", "eth0")), "10.0.0.5/30");
  EXPECT_EQ(addressesOf(interfaceOf(plan, "b", "eth1")), "10.0.0.1/30");
  // 10.0.0.8/30 holds c's loopback.
  EXPECT_EQ(addressesOf(interfaceOf(plan, "a", "eth1")), "10.0.0.13/30");
  EXPECT_EQ(addressesOf(interfaceOf(plan, "a", "eth2")), "10.255.0.2/24");
  // The segment 10.255.0.0/24 is taken, so the loopback pool continues after it.
  EXPECT_EQ(loopbacksOf(plan, "r"), "10.255.1.0/32");
}

TEST(Addressing, ExplicitAddressesKeepOnlyTheirsAndOthersAreNumberedAroundThem) {
  auto result = load(R"({
    "addressing": {"ipv6": true},
    "nodes": {"a": {}, "b": {}, "c": {}, "d": {}},
    "links": [{"endpoints": ["a", {"node": "b", "addresses": "192.168.7.1/24"}, "c", "d"]}]})");
  ASSERT_TRUE(result.ok()) << dump(result);
  const Plan& plan = *result.plan;
  EXPECT_EQ(addressesOf(interfaceOf(plan, "a", "eth0")), "192.168.7.2/24 fd00:20::1/64");
  EXPECT_EQ(addressesOf(interfaceOf(plan, "b", "eth0")), "192.168.7.1/24");
  EXPECT_EQ(addressesOf(interfaceOf(plan, "c", "eth0")), "192.168.7.3/24 fd00:20::2/64");
}

TEST(Addressing, SwitchesJoinLinksIntoOneSegment) {
  auto result = load(R"({
    "nodes": {"s1": {"kind": "switch"}, "s2": {"kind": "switch"}, "a": {}, "b": {}, "c": {}},
    "links": [["a", "s1"], ["s1", "s2"], ["b", "s2"], ["c", "s2"], ["a", "b"]]})");
  ASSERT_TRUE(result.ok()) << dump(result);
  const Plan& plan = *result.plan;
  EXPECT_EQ(addressesOf(interfaceOf(plan, "a", "eth0")), "172.16.0.1/24");
  EXPECT_EQ(addressesOf(interfaceOf(plan, "b", "eth0")), "172.16.0.2/24");
  EXPECT_EQ(addressesOf(interfaceOf(plan, "c", "eth0")), "172.16.0.3/24");
  EXPECT_EQ(addressesOf(interfaceOf(plan, "a", "eth1")), "10.0.0.1/30");
  EXPECT_TRUE(addressesOf(interfaceOf(plan, "s1", "eth1")).empty());
}

TEST(Addressing, TwoHostsOnASwitchUseThePointToPointPool) {
  auto result = load(R"({"nodes": {"s": {"kind": "switch"}, "a": {}, "b": {}},
    "links": [["a", "s"], ["s", "b"]]})");
  ASSERT_TRUE(result.ok()) << dump(result);
  EXPECT_EQ(addressesOf(interfaceOf(*result.plan, "b", "eth0")), "10.0.0.2/30");
}

TEST(Addressing, ALargeLanGetsALargerSubnet) {
  std::string nodes;
  std::string endpoints;
  for (int i = 0; i < 300; ++i) {
    nodes += fmt::format("{}\"h{}\": {{}}", i ? ", " : "", i);
    endpoints += fmt::format("{}\"h{}\"", i ? ", " : "", i);
  }
  auto result =
      load(fmt::format(R"({{"nodes": {{{}}}, "links": [[{}], ["h0", "h1"]]}})", nodes, endpoints));
  ASSERT_TRUE(result.ok()) << dump(result);
  EXPECT_EQ(addressesOf(interfaceOf(*result.plan, "h299", "eth0")), "172.16.1.44/23");
}

TEST(Addressing, PointToPointLengthIsConfigurable) {
  auto result = load(R"({"addressing": {"p2p": {"ipv4": "192.168.0.0/24", "ipv4_length": 31}},
    "nodes": {"a": {}, "b": {}}, "links": [["a", "b"], ["a", "b"]]})");
  ASSERT_TRUE(result.ok()) << dump(result);
  EXPECT_EQ(addressesOf(interfaceOf(*result.plan, "a", "eth0")), "192.168.0.0/31");
  EXPECT_EQ(addressesOf(interfaceOf(*result.plan, "b", "eth1")), "192.168.0.3/31");
}

TEST(Addressing, HostsCanAskForALoopbackAndRoutersCanRefuseOne) {
  auto result =
      load(R"({"nodes": {"h": {"loopback": true}, "r": {"kind": "router", "loopback": false}}})");
  ASSERT_TRUE(result.ok()) << dump(result);
  EXPECT_EQ(loopbacksOf(*result.plan, "h"), "10.255.0.1/32");
  EXPECT_EQ(loopbacksOf(*result.plan, "r"), "");
}

TEST(Addressing, IsDeterministic) {
  const char* json = R"({"addressing": {"ipv6": true},
    "nodes": {"r1": {"kind": "router"}, "r2": {"kind": "router"}, "a": {}, "b": {}, "c": {}},
    "links": [["r1", "r2"], ["r1", "a", "b"], ["r2", "c"], ["a", "c"]]})";
  const std::string first = planToJson(*load(json).plan);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(planToJson(*load(json).plan), first);
}

}  // namespace
}  // namespace netlab::topo
