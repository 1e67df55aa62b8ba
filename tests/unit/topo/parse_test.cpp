// The format's forms and shorthands, defaults merging and impairment directions.
#include <gtest/gtest.h>

#include <fstream>

#include "test_support.hpp"

namespace netlab::topo {
namespace {

using testing::addressesOf;
using testing::dump;
using testing::interfaceOf;
using testing::load;
using testing::nodeOf;

TEST(Parse, MinimalTopology) {
  auto result = load(R"({"nodes": {"a": {}, "b": {}}, "links": [["a", "b"]]})");
  ASSERT_TRUE(result.ok()) << dump(result);
  const Plan& plan = *result.plan;
  EXPECT_EQ(plan.name, "test");
  EXPECT_EQ(plan.sourceFile, (testing::scratchDir() / "test.json").string());
  ASSERT_EQ(plan.nodes.size(), 2u);
  EXPECT_EQ(plan.nodes[0].kind, NodeKind::Host);
  EXPECT_EQ(plan.nodes[0].hostname, "a");
  const Interface& a = interfaceOf(plan, "a", "eth0");
  EXPECT_EQ(a.peerNode, "b");
  EXPECT_EQ(a.peerInterface, "eth0");
  EXPECT_EQ(a.mtu, 1500u);
  EXPECT_TRUE(a.egress.empty());
  EXPECT_TRUE(result.diagnostics.empty()) << dump(result);
}

TEST(Parse, EndpointForms) {
  auto result = load(R"({
    "nodes": {"r1": {"kind": "router"}, "r2": {"kind": "router"}, "r3": {"kind": "router"}},
    "links": [
      ["r1:eth3", "r2"],
      {"endpoints": [
        {"node": "r2", "interface": "up0", "addresses": "10.9.0.1/24",
         "mac": "02:00:00:00:00:01"},
        {"node": "r3", "addresses": ["10.9.0.2/24", "fd00:9::2/64"]}
      ]}
    ]})");
  ASSERT_TRUE(result.ok()) << dump(result);
  const Plan& plan = *result.plan;
  EXPECT_EQ(interfaceOf(plan, "r1", "eth3").peerInterface, "eth0");
  const Interface& up0 = interfaceOf(plan, "r2", "up0");
  EXPECT_EQ(addressesOf(up0), "10.9.0.1/24");
  EXPECT_EQ(toString(up0.mac), "02:00:00:00:00:01");
  EXPECT_EQ(addressesOf(interfaceOf(plan, "r3", "eth0")), "10.9.0.2/24 fd00:9::2/64");
}

TEST(Parse, AutomaticNamesSkipNamesUsedExplicitlyOnTheNode) {
  auto result = load(R"({
    "nodes": {"a": {}, "b": {}, "c": {}},
    "links": [["a", "b"], ["a", "c"], ["a:eth0", "c:eth7"]]})");
  ASSERT_TRUE(result.ok()) << dump(result);
  const Node& a = nodeOf(*result.plan, "a");
  ASSERT_EQ(a.interfaces.size(), 3u);
  EXPECT_EQ(a.interfaces[0].name, "eth1");
  EXPECT_EQ(a.interfaces[1].name, "eth2");
  EXPECT_EQ(a.interfaces[2].name, "eth0");
  EXPECT_EQ(nodeOf(*result.plan, "c").interfaces[0].name, "eth0");
}

TEST(Parse, LanLinksCreateSwitchesAfterTheNodes) {
  auto result = load(R"({
    "nodes": {"a": {}, "b": {}, "c": {}, "lan1": {"kind": "switch"}, "d": {}},
    "links": [["a", "lan1"], ["a", "b", "c"], ["b", "c", "d"]]})");
  ASSERT_TRUE(result.ok()) << dump(result);
  const Plan& plan = *result.plan;
  ASSERT_EQ(plan.nodes.size(), 7u);
  EXPECT_EQ(plan.nodes[5].name, "lan1_1");
  EXPECT_EQ(plan.nodes[6].name, "lan2");
  const Node& lan = plan.nodes[5];
  EXPECT_EQ(lan.kind, NodeKind::Switch);
  ASSERT_EQ(lan.interfaces.size(), 3u);
  EXPECT_EQ(lan.interfaces[0].peerNode, "a");
  EXPECT_EQ(lan.interfaces[2].name, "eth2");
  EXPECT_EQ(lan.interfaces[2].peerNode, "c");
  EXPECT_EQ(interfaceOf(plan, "c", "eth0").peerNode, "lan1_1");
}

TEST(Parse, DefaultsMergeKindDefaultsAndNodeSettings) {
  auto result = load(R"({
    "defaults": {
      "env": {"A": "default", "B": "default"},
      "exec": ["echo default"],
      "sysctls": {"net.ipv4.ip_forward": 0, "net.core.somaxconn": 64},
      "kinds": {"router": {"env": {"B": "router"}, "exec": ["echo router"], "hostname": "rt"}}
    },
    "nodes": {
      "r1": {"kind": "router", "env": {"C": "node"}, "exec": "echo node", "hostname": "edge"},
      "r2": {"kind": "router"},
      "h1": {}
    },
    "links": [["r1", "r2", "h1"]]})");
  ASSERT_TRUE(result.ok()) << dump(result);
  const Node& r1 = nodeOf(*result.plan, "r1");
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(r1.env, (Pairs{{"A", "default"}, {"B", "router"}, {"C", "node"}}));
  EXPECT_EQ(r1.exec, (std::vector<std::string>{"echo default", "echo router", "echo node"}));
  EXPECT_EQ(r1.hostname, "edge");
  EXPECT_EQ(nodeOf(*result.plan, "r2").hostname, "rt");
  // Automatic router sysctls first; an explicit value replaces them in place.
  EXPECT_EQ(r1.sysctls, (Pairs{{"net.ipv4.ip_forward", "0"},
                               {"net.ipv6.conf.all.forwarding", "1"},
                               {"net.core.somaxconn", "64"}}));
  const Node& h1 = nodeOf(*result.plan, "h1");
  EXPECT_EQ(h1.hostname, "h1");
  EXPECT_EQ(h1.exec, (std::vector<std::string>{"echo default"}));
  EXPECT_EQ(h1.sysctls, (Pairs{{"net.ipv4.ip_forward", "0"}, {"net.core.somaxconn", "64"}}));
}

TEST(Parse, SwitchesGetOnlyTheDefaultsThatApplyToThem) {
  auto result = load(R"({
    "defaults": {"routes": [{"to": "default", "dev": "eth0"}], "loopback": true,
                 "env": {"X": "1"}},
    "nodes": {"a": {}, "b": {}, "c": {}},
    "links": [["a", "b", "c"]]})");
  ASSERT_TRUE(result.ok()) << dump(result);
  const Node& lan = nodeOf(*result.plan, "lan0");
  EXPECT_TRUE(lan.routes.empty());
  EXPECT_TRUE(lan.loopbackAddresses.empty());
  EXPECT_EQ(lan.env.size(), 1u);
  EXPECT_EQ(nodeOf(*result.plan, "a").loopbackAddresses.size(), 1u);
}

TEST(Parse, UsernsLayersLikeRoutingAndGivesEachIsolatedNodeItsOwnIds) {
  auto result = load(R"({
    "userns": "isolated",
    "defaults": {"kinds": {"router": {"userns": "host"}}},
    "nodes": {"h1": {}, "r1": {"kind": "router"}, "h2": {"userns": "host"},
              "r2": {"kind": "router", "userns": "isolated"}},
    "links": [["h1", "r1", "h2"], ["r1", "r2"]]})");
  ASSERT_TRUE(result.ok()) << dump(result);
  const Plan& plan = *result.plan;
  EXPECT_EQ(nodeOf(plan, "h1").isolatedIds, (IdRange{kIsolatedFirstHostId, kIsolatedIdsPerNode}));
  EXPECT_FALSE(nodeOf(plan, "r1").isolatedIds);
  EXPECT_FALSE(nodeOf(plan, "h2").isolatedIds);
  // The block follows the node's place in the plan: r2 is the fourth node.
  EXPECT_EQ(nodeOf(plan, "r2").isolatedIds,
            (IdRange{kIsolatedFirstHostId + 3 * kIsolatedIdsPerNode, kIsolatedIdsPerNode}));
  // The switch made for the LAN takes the lab-wide mode, after the nodes.
  EXPECT_EQ(nodeOf(plan, "lan0").isolatedIds,
            (IdRange{kIsolatedFirstHostId + 4 * kIsolatedIdsPerNode, kIsolatedIdsPerNode}));
}

TEST(Parse, UsernsDefaultsToHost) {
  auto result = load(R"({"nodes": {"a": {}}})");
  ASSERT_TRUE(result.ok()) << dump(result);
  EXPECT_FALSE(nodeOf(*result.plan, "a").isolatedIds);
}

TEST(Parse, ResourcesLayerLimitByLimit) {
  auto result = load(R"({
    "defaults": {"resources": {"memory": "256M", "pids": 100},
                 "kinds": {"router": {"resources": {"cpus": 0.5}}}},
    "nodes": {"h1": {"resources": {"memory": 67108864}}, "r1": {"kind": "router"},
              "h2": {"resources": {"cpus": 2, "pids": 64}}},
    "links": [["h1", "r1", "h2"]]})");
  ASSERT_TRUE(result.ok()) << dump(result);
  const Plan& plan = *result.plan;
  EXPECT_EQ(nodeOf(plan, "h1").resources, (Resources{std::nullopt, 64u << 20, 100}));
  EXPECT_EQ(nodeOf(plan, "r1").resources, (Resources{0.5, 256u << 20, 100}));
  EXPECT_EQ(nodeOf(plan, "h2").resources, (Resources{2.0, 256u << 20, 64}));
  EXPECT_EQ(nodeOf(plan, "lan0").resources, (Resources{std::nullopt, 256u << 20, 100}));
}

TEST(Parse, BadResourcesAreLocatedErrors) {
  auto result = load(R"({"nodes": {"a": {"resources": {"cpus": 0, "memory": "12X", "pids": 0,
                                                       "disk": 1}},
                                   "b": {"resources": {"cpus": "1", "memory": 1000}}}})");
  EXPECT_TRUE(
      testing::hasDiagnostic(result, "cpus 0 is outside 0.01..1024", "nodes.a.resources.cpus", 1));
  EXPECT_TRUE(
      testing::hasDiagnostic(result, "unknown unit `X` in `12X`", "nodes.a.resources.memory", 1));
  EXPECT_TRUE(
      testing::hasDiagnostic(result, "pids 0 is outside 1..4194304", "nodes.a.resources.pids", 1));
  EXPECT_TRUE(testing::hasDiagnostic(result, "unknown key `disk`", "nodes.a.resources.disk", 2));
  EXPECT_TRUE(
      testing::hasDiagnostic(result, "expected a number of CPUs", "nodes.b.resources.cpus", 3));
  EXPECT_TRUE(
      testing::hasDiagnostic(result, "memory 1000 is less than 1M", "nodes.b.resources.memory", 3));
  EXPECT_EQ(testing::errorCount(result), 6u) << dump(result);
}

TEST(Parse, RootsAreOverlaysOfTheHostsUnlessToldOtherwise) {
  auto result = load(R"({
    "defaults": {"kinds": {"switch": {"root": "host"}}},
    "nodes": {"h1": {}, "h2": {"root": "host"}, "h3": {"image": "debian-12.1"},
              "h4": {"image": "/"}},
    "links": [["h1", "h2", "h3", "h4"]]})");
  ASSERT_TRUE(result.ok()) << dump(result);
  const Plan& plan = *result.plan;
  EXPECT_EQ(nodeOf(plan, "h1").root, (RootFilesystem{RootMode::Overlay, ""}));
  EXPECT_EQ(nodeOf(plan, "h2").root, (RootFilesystem{RootMode::Host, ""}));
  EXPECT_EQ(nodeOf(plan, "h3").root, (RootFilesystem{RootMode::Overlay, "debian-12.1"}));
  EXPECT_EQ(nodeOf(plan, "h4").root, (RootFilesystem{RootMode::Overlay, "/"}));
  EXPECT_EQ(nodeOf(plan, "lan0").root, (RootFilesystem{RootMode::Host, ""}));
}

TEST(Parse, BadRootsAndImagesAreLocatedErrors) {
  auto result = load(R"({"nodes": {"a": {"root": "overlayfs"}, "b": {"image": "Debian:12"},
                                   "c": {"image": "./no/such/root"}, "d": {"image": "/a,b"},
                                   "e": {"root": "host", "image": "busybox"}}})");
  EXPECT_TRUE(testing::hasDiagnostic(result, "unknown root `overlayfs`", "nodes.a.root", 1));
  EXPECT_TRUE(testing::hasDiagnostic(result, "`Debian:12` is not an image name", "nodes.b.image", 1));
  EXPECT_TRUE(
      testing::hasDiagnostic(result, "image `./no/such/root` is not a directory", "nodes.c.image", 2));
  EXPECT_TRUE(testing::hasDiagnostic(result, "image path `/a,b` holds", "nodes.d.image", 2));
  EXPECT_TRUE(testing::hasDiagnostic(result, "node e has an image but \"root\": \"host\"",
                                     "nodes.e.image", 3));
  EXPECT_EQ(testing::errorCount(result), 5u) << dump(result);
}

TEST(Parse, UnknownUsernsIsAnError) {
  auto result = load(R"({"nodes": {"a": {"userns": "isolate"}}, "userns": 1})");
  EXPECT_TRUE(testing::hasDiagnostic(result, "unknown userns `isolate`", "nodes.a.userns", 1));
  EXPECT_NE(dump(result).find("isolated"), std::string::npos) << dump(result);
  EXPECT_EQ(testing::errorCount(result), 2u) << dump(result);
}

TEST(Parse, SysctlValuesBecomeStrings) {
  auto result = load(R"({"nodes": {"a": {"sysctls": {
      "net.ipv4.conf.all.rp_filter": 2, "net.ipv6.conf.all.disable_ipv6": true,
      "net.ipv4.ping_group_range": "0 2147483647"}}}})");
  ASSERT_TRUE(result.ok()) << dump(result);
  using Pairs = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(nodeOf(*result.plan, "a").sysctls,
            (Pairs{{"net.ipv4.conf.all.rp_filter", "2"},
                   {"net.ipv6.conf.all.disable_ipv6", "1"},
                   {"net.ipv4.ping_group_range", "0 2147483647"}}));
}

TEST(Parse, RoutesResolveDefaultByFamily) {
  auto result = load(R"({
    "nodes": {
      "a": {"routes": [
        {"to": "default", "via": "10.0.0.2"},
        {"to": "default", "via": "fd00::2", "metric": 10},
        {"to": "default", "dev": "eth0", "metric": 20},
        {"to": "192.168.0.0/16", "via": "10.0.0.2", "dev": "eth0"}
      ]},
      "b": {}},
    "links": [{"endpoints": ["a", "b"], "prefix": ["10.0.0.0/30", "fd00::/64"]}]})");
  ASSERT_TRUE(result.ok()) << dump(result);
  const auto& routes = nodeOf(*result.plan, "a").routes;
  ASSERT_EQ(routes.size(), 4u);
  EXPECT_EQ(toString(routes[0].destination), "0.0.0.0/0");
  EXPECT_EQ(toString(*routes[0].gateway), "10.0.0.2");
  EXPECT_EQ(toString(routes[1].destination), "::/0");
  EXPECT_EQ(routes[1].metric, 10u);
  EXPECT_EQ(toString(routes[2].destination), "0.0.0.0/0");
  EXPECT_FALSE(routes[2].gateway);
  EXPECT_EQ(routes[2].device, "eth0");
  EXPECT_EQ(toString(routes[3].destination), "192.168.0.0/16");
}

TEST(Parse, MountsAndFiles) {
  std::ofstream(testing::scratchDir() / "data" / "motd") << "hello\n";
  auto result = load(R"({"nodes": {"a": {
      "mounts": ["data:/srv/data:ro", {"source": "data/motd", "target": "/etc/motd/"},
                 {"source": "/tmp", "target": "/mnt/tmp", "readonly": true}],
      "files": {"/etc/hosts.extra": "10.0.0.1 a\n"}},
    "b": {"files": [{"path": "/run/x", "content": "x", "mode": "0600"}]}}})");
  ASSERT_TRUE(result.ok()) << dump(result);
  const Node& a = nodeOf(*result.plan, "a");
  ASSERT_EQ(a.mounts.size(), 3u);
  EXPECT_EQ(a.mounts[0], (Mount{(testing::scratchDir() / "data").string(), "/srv/data", true}));
  EXPECT_EQ(a.mounts[1],
            (Mount{(testing::scratchDir() / "data" / "motd").string(), "/etc/motd", false}));
  EXPECT_EQ(a.mounts[2], (Mount{"/tmp", "/mnt/tmp", true}));
  EXPECT_EQ(a.files, (std::vector<File>{{"/etc/hosts.extra", "10.0.0.1 a\n", 0644}}));
  EXPECT_EQ(nodeOf(*result.plan, "b").files, (std::vector<File>{{"/run/x", "x", 0600}}));
}

TEST(Parse, LinkImpairmentsApplyToEachEndpointsEgress) {
  auto result = load(R"({
    "nodes": {"a": {}, "b": {}},
    "links": [{"endpoints": ["a", "b"], "delay": "40ms", "loss": "1%", "rate": "10mbit",
               "limit": 1000}]})");
  ASSERT_TRUE(result.ok()) << dump(result);
  for (const char* node : {"a", "b"}) {
    const Impairment& egress = interfaceOf(*result.plan, node, "eth0").egress;
    EXPECT_EQ(egress.delayUs, 40'000u);
    EXPECT_EQ(egress.lossPercent, 1.0);
    EXPECT_EQ(egress.rateBitsPerSecond, 10'000'000u);
    EXPECT_EQ(egress.limitPackets, 1000u);
  }
}

TEST(Parse, EndpointOutAndInShapeOneDirection) {
  auto result = load(R"({
    "nodes": {"a": {}, "b": {}},
    "links": [{"endpoints": [
        {"node": "a", "out": {"delay": "10ms", "jitter": "1ms"}, "in": {"loss": 2}},
        {"node": "b"}],
      "delay": "1ms", "corrupt": "0.1%"}]})");
  ASSERT_TRUE(result.ok()) << dump(result);
  const Impairment& aOut = interfaceOf(*result.plan, "a", "eth0").egress;
  EXPECT_EQ(aOut.delayUs, 10'000u);
  EXPECT_EQ(aOut.jitterUs, 1'000u);
  EXPECT_EQ(aOut.corruptPercent, 0.1);
  EXPECT_FALSE(aOut.lossPercent);
  const Impairment& bOut = interfaceOf(*result.plan, "b", "eth0").egress;
  EXPECT_EQ(bOut.delayUs, 1'000u);
  EXPECT_EQ(bOut.lossPercent, 2.0);
}

TEST(Parse, OnALanInShapesTheSwitchPort) {
  auto result = load(R"({
    "nodes": {"a": {}, "b": {}, "c": {}},
    "links": [{"endpoints": [{"node": "a", "in": {"delay": "5ms"}}, "b", "c"],
               "delay": "1ms"}]})");
  ASSERT_TRUE(result.ok()) << dump(result);
  EXPECT_EQ(interfaceOf(*result.plan, "a", "eth0").egress.delayUs, 1'000u);
  EXPECT_EQ(interfaceOf(*result.plan, "lan0", "eth0").egress.delayUs, 5'000u);
  EXPECT_TRUE(interfaceOf(*result.plan, "lan0", "eth1").egress.empty());
}

TEST(Parse, LinkMtuAppliesToBothEndsAndSwitchPorts) {
  auto result = load(R"({"nodes": {"a": {}, "b": {}, "c": {}},
    "links": [{"endpoints": ["a", "b", "c"], "mtu": 9000}]})");
  ASSERT_TRUE(result.ok()) << dump(result);
  EXPECT_EQ(interfaceOf(*result.plan, "a", "eth0").mtu, 9000u);
  EXPECT_EQ(interfaceOf(*result.plan, "lan0", "eth2").mtu, 9000u);
}

TEST(Parse, LabNameComesFromTheOverrideTheDocumentOrTheFile) {
  const char* json = R"({"name": "mylab", "nodes": {"a": {}}})";
  EXPECT_EQ(load(json).plan->name, "mylab");
  EXPECT_EQ(load(json, {"other"}).plan->name, "other");
  EXPECT_EQ(load(R"({"nodes": {"a": {}}})").plan->name, "test");
}

TEST(Parse, MacsAreStableAndDependOnTheLab) {
  const char* json = R"({"nodes": {"a": {}, "b": {}}, "links": [["a", "b"]]})";
  const Mac first = interfaceOf(*load(json).plan, "a", "eth0").mac;
  EXPECT_EQ(interfaceOf(*load(json).plan, "a", "eth0").mac, first);
  EXPECT_NE(interfaceOf(*load(json, {"other"}).plan, "a", "eth0").mac, first);
  EXPECT_EQ(first[0], 0x02);
  EXPECT_NE(interfaceOf(*load(json).plan, "b", "eth0").mac, first);
}

TEST(Parse, WarningsDoNotPreventAPlan) {
  auto result = load(R"({"nodes": {"a": {}, "b": {}, "lonely": {}}, "links": [["a", "b"]]})");
  ASSERT_TRUE(result.ok()) << dump(result);
  EXPECT_TRUE(testing::hasDiagnostic(result, "node lonely has no links", "nodes.lonely", 1,
                                     Severity::Warning));
}

}  // namespace
}  // namespace netlab::topo
