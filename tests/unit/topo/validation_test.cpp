// One bad topology per validation rule: the message, its location and its line.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "test_support.hpp"
#include "topo/names.hpp"

namespace netlab::topo {
namespace {

using testing::dump;
using testing::errorCount;
using testing::find;
using testing::hasDiagnostic;
using testing::load;

TEST(Validate, JsonSyntax) {
  auto result = load("{\n  \"nodes\": {\n    \"a\": {},,\n  }\n}");
  EXPECT_TRUE(hasDiagnostic(result, "invalid JSON: syntax error", "nodes", 3));
  EXPECT_EQ(result.diagnostics[0].column, 13);
}

TEST(Validate, UnknownKeyWithDidYouMean) {
  auto result = load(R"({
  "nodes": {
    "r1": {"kidn": "router"}
  }
})");
  EXPECT_TRUE(hasDiagnostic(result, "unknown key `kidn`", "nodes.r1.kidn", 3));
  EXPECT_EQ(find(result, "kidn")->hint, "did you mean `kind`?");
  EXPECT_EQ(find(result, "kidn")->column, 12);
}

TEST(Validate, UnknownKeyListsKnownKeysWhenNothingIsClose) {
  auto result = load(R"({"nodes": {"a": {}}, "colour": "red"})");
  EXPECT_TRUE(hasDiagnostic(result, "unknown key `colour`", "colour", 1));
  EXPECT_NE(find(result, "colour")->hint.find("known keys: version, name, nodes"),
            std::string::npos);
}

TEST(Validate, WrongTypesSayWhatWasExpected) {
  auto result = load(R"({
  "nodes": [],
  "links": {}
})");
  EXPECT_TRUE(hasDiagnostic(result, "expected an object, found an array", "nodes", 2));
  EXPECT_TRUE(hasDiagnostic(result, "expected an array, found an object", "links", 3));
}

TEST(Validate, NodesAreRequired) {
  EXPECT_TRUE(hasDiagnostic(load("{}"), "the topology has no `nodes`", "", 1));
  EXPECT_TRUE(hasDiagnostic(load(R"({"nodes": {}})"), "at least one node", "nodes", 1));
  EXPECT_TRUE(hasDiagnostic(load("[]"), "expected an object, found an array", "", 1));
}

TEST(Validate, UnsupportedVersion) {
  EXPECT_TRUE(hasDiagnostic(load(R"({"version": 2, "nodes": {"a": {}}})"),
                            "unsupported format version", "version", 1));
  EXPECT_TRUE(hasDiagnostic(load(R"({"version": 1.5, "nodes": {"a": {}}})"),
                            "unsupported format version", "version", 1));
  EXPECT_TRUE(hasDiagnostic(load(R"({"version": "1", "nodes": {"a": {}}})"),
                            "unsupported format version", "version", 1));
}

// 1.0 is the same JSON number as 1.
TEST(Validate, VersionOnePointZeroIsOne) {
  EXPECT_TRUE(load(R"({"version": 1.0, "nodes": {"a": {}}})").ok());
  EXPECT_TRUE(load(R"({"version": 1e0, "nodes": {"a": {}}})").ok());
}

TEST(Validate, InvalidNodeNames) {
  auto result = load(R"({
  "nodes": {
    "../x": {},
    "a/b": {},
    "1st": {},
    "abcdefghijklmnopqrstuvwxyz0123456": {},
    "ok-name_2": {}
  }
})");
  EXPECT_TRUE(hasDiagnostic(result, "invalid node name `../x`", "nodes[\"../x\"]", 3));
  EXPECT_TRUE(hasDiagnostic(result, "invalid node name `a/b`", "nodes[\"a/b\"]", 4));
  EXPECT_TRUE(hasDiagnostic(result, "invalid node name `1st`", "nodes[\"1st\"]", 5));
  EXPECT_TRUE(hasDiagnostic(result, "invalid node name `abcdefghij",
                            "nodes.abcdefghijklmnopqrstuvwxyz0123456", 6));
  EXPECT_EQ(errorCount(result), 4u) << dump(result);
}

TEST(Validate, InvalidLabNames) {
  EXPECT_TRUE(hasDiagnostic(load(R"({"name": "../evil", "nodes": {"a": {}}})"),
                            "invalid lab name `../evil`", "name", 1));
  EXPECT_TRUE(
      hasDiagnostic(load(R"({"name": ".", "nodes": {"a": {}}})"), "invalid lab name", "name", 1));
  EXPECT_TRUE(
      hasDiagnostic(load(R"({"nodes": {"a": {}}})", {"a/b"}), "invalid lab name `a/b`", "", 0));
  auto fromFile = loadTopologyText(R"({"nodes": {"a": {}}})", "/tmp/my topo.json");
  EXPECT_TRUE(hasDiagnostic(fromFile, "`my topo` is not a valid lab name", "", 0));
  EXPECT_TRUE(isValidLabName("0lab_1-x"));
  EXPECT_FALSE(isValidLabName(".."));
  EXPECT_FALSE(isValidLabName("-x"));
  EXPECT_FALSE(isValidLabName(std::string(33, 'a')));
}

TEST(Validate, UnknownKindWithDidYouMean) {
  auto result = load(R"({"nodes": {"r1": {"kind": "rooter"}}})");
  EXPECT_TRUE(hasDiagnostic(result, "unknown node kind `rooter`", "nodes.r1.kind", 1));
  EXPECT_EQ(find(result, "rooter")->hint, "did you mean `router`?");
}

TEST(Validate, InterfaceNamesTheKernelRefuses) {
  auto result = load(R"({
  "nodes": {"a": {}, "b": {}},
  "links": [
    ["a:abcdefghijklmnop", "b"],
    [{"node": "a", "interface": "x/y"}, "b"],
    ["a:lo", "b"],
    [{"node": "a", "interface": ".."}, "b"],
    [{"node": "a", "interface": ""}, "b"],
    [{"node": "a", "interface": "e th"}, "b"],
    [{"node": "a", "interface": "eth%d"}, "b"],
    ["a:x:y", "b"]
  ]
})");
  EXPECT_TRUE(hasDiagnostic(result, "longer than 15 characters", "links[0][0]", 4));
  EXPECT_TRUE(hasDiagnostic(result, "`x/y` contains `/`", "links[1][0].interface", 5));
  EXPECT_TRUE(hasDiagnostic(result, "`lo` is the node's own loopback", "links[2][0]", 6));
  EXPECT_TRUE(hasDiagnostic(result, "the kernel refuses `..`", "links[3][0].interface", 7));
  EXPECT_TRUE(hasDiagnostic(result, "cannot be empty", "links[4][0].interface", 8));
  EXPECT_TRUE(hasDiagnostic(result, "`e th` contains ` `", "links[5][0].interface", 9));
  EXPECT_TRUE(hasDiagnostic(result, "contains `%`", "links[6][0].interface", 10));
  EXPECT_TRUE(hasDiagnostic(result, "`x:y` contains `:`", "links[7][0]", 11));
  // The 15-character name is the longest the kernel takes.
  EXPECT_TRUE(load(R"({"nodes": {"a": {}, "b": {}}, "links": [["a:abcdefghijklmno", "b"]]})").ok());
}

TEST(Validate, InterfaceUsedTwice) {
  auto result = load(R"({
  "nodes": {"a": {}, "b": {}, "c": {}},
  "links": [
    ["a:eth0", "b"],
    ["a:eth0", "c"],
    ["b:x", "b:x"]
  ]
})");
  EXPECT_TRUE(hasDiagnostic(result, "interface a:eth0 is used twice", "links[1][0]", 5));
  EXPECT_NE(find(result, "a:eth0")->hint.find("links[0][0] (line 4)"), std::string::npos);
  EXPECT_TRUE(hasDiagnostic(result, "interface b:x is used twice", "links[2][1]", 6));
}

TEST(Validate, UnknownNodeWithDidYouMean) {
  auto result = load(R"({
  "nodes": {"r1": {}, "r2": {}},
  "links": [
    ["r1", {"node": "r9"}]
  ]
})");
  EXPECT_TRUE(hasDiagnostic(result, "unknown node `r9`", "links[0][1].node", 4));
  EXPECT_EQ(find(result, "r9")->hint, "did you mean `r1`?");
}

TEST(Validate, LinksNeedTwoEndpoints) {
  auto result = load(R"({
  "nodes": {"a": {}},
  "links": [
    ["a"],
    {"endpoints": []},
    {"mtu": 1500}
  ]
})");
  EXPECT_TRUE(hasDiagnostic(result, "at least 2 endpoints, found 1", "links[0]", 4));
  EXPECT_TRUE(hasDiagnostic(result, "at least 2 endpoints, found 0", "links[1]", 5));
  EXPECT_EQ(errorCount(result), 3u) << dump(result);
}

TEST(Validate, AddressesThatDoNotParse) {
  auto result = load(R"({
  "nodes": {"a": {}, "b": {}},
  "links": [
    {"endpoints": [{"node": "a", "addresses": "10.0.0.300/24"}, "b"]},
    {"endpoints": ["a", "b"], "prefix": "10.1.0.0/99"}
  ]
})");
  EXPECT_TRUE(hasDiagnostic(result, "`10.0.0.300/24` is not an IP address",
                            "links[0].endpoints[0].addresses", 4));
  EXPECT_TRUE(hasDiagnostic(result, "`10.1.0.0/99` is not an IP prefix", "links[1].prefix", 5));
}

TEST(Validate, HostBitsWhereANetworkIsExpected) {
  auto result = load(R"({
  "nodes": {
    "a": {"routes": [{"to": "10.9.0.1/24", "via": "10.0.0.2"}]},
    "b": {}
  },
  "links": [
    {"endpoints": ["a", "b"], "prefix": "10.0.0.1/30"}
  ]
})");
  EXPECT_TRUE(hasDiagnostic(result, "`10.9.0.1/24` has host bits set", "nodes.a.routes[0].to", 3));
  EXPECT_EQ(find(result, "10.9.0.1/24")->hint, "did you mean `10.9.0.0/24`?");
  EXPECT_TRUE(hasDiagnostic(result, "`10.0.0.1/30` has host bits set", "links[0].prefix", 7));
}

TEST(Validate, AddressOutsideItsLinkPrefix) {
  auto result = load(R"({
  "nodes": {"a": {}, "b": {}},
  "links": [
    {"endpoints": [{"node": "a", "addresses": "10.0.1.1/24"}, "b"],
     "prefix": "10.0.0.0/24"}
  ]
})");
  EXPECT_TRUE(hasDiagnostic(result, "10.0.1.1/24 is not in this L2 segment's subnet 10.0.0.0/24",
                            "links[0].endpoints[0].addresses", 4));
  EXPECT_NE(find(result, "10.0.1.1/24")->hint.find("links[0].prefix (line 5)"), std::string::npos);
}

TEST(Validate, AddressWithAnotherLengthThanThePrefix) {
  auto result = load(R"({"nodes": {"a": {}, "b": {}}, "links": [
    {"endpoints": [{"node": "a", "addresses": "10.0.0.1/30"}, "b"], "prefix": "10.0.0.0/24"}]})");
  EXPECT_TRUE(hasDiagnostic(result, "10.0.0.1/30 is not in this L2 segment's subnet",
                            "links[0].endpoints[0].addresses", 2));
}

TEST(Validate, AddressWithoutLengthNeedsAPrefix) {
  auto result = load(R"({"nodes": {"a": {}, "b": {}}, "links": [
    {"endpoints": [{"node": "a", "addresses": "10.0.0.1"}, "b"]}]})");
  EXPECT_TRUE(hasDiagnostic(result, "`10.0.0.1` needs a prefix length",
                            "links[0].endpoints[0].addresses", 2));
  auto withPrefix = load(R"({"nodes": {"a": {}, "b": {}}, "links": [
    {"endpoints": [{"node": "a", "addresses": "10.0.0.2"}, "b"], "prefix": "10.0.0.0/29"}]})");
  ASSERT_TRUE(withPrefix.ok()) << dump(withPrefix);
  EXPECT_EQ(testing::addressesOf(testing::interfaceOf(*withPrefix.plan, "a", "eth0")),
            "10.0.0.2/29");
  EXPECT_EQ(testing::addressesOf(testing::interfaceOf(*withPrefix.plan, "b", "eth0")),
            "10.0.0.1/29");
}

TEST(Validate, AddressRepeatedAcrossTheLab) {
  auto result = load(R"({
  "nodes": {"a": {}, "b": {}, "c": {}},
  "links": [
    {"endpoints": [{"node": "a", "addresses": "10.0.0.1/30"}, "b"]},
    {"endpoints": ["a", {"node": "c", "addresses": "10.0.0.1/30"}]}
  ]
})");
  EXPECT_TRUE(hasDiagnostic(result, "address 10.0.0.1 of c:eth0 is already used by a:eth0",
                            "links[1].endpoints[1].addresses", 5));
}

TEST(Validate, NetworkAndBroadcastAddresses) {
  auto result = load(R"({
  "nodes": {"a": {}, "b": {}, "c": {}, "d": {}},
  "links": [
    {"endpoints": [{"node": "a", "addresses": "10.0.0.0/24"}, "b"]},
    {"endpoints": [{"node": "c", "addresses": "10.0.1.255/24"}, "d"]},
    {"endpoints": [{"node": "a", "addresses": "10.0.2.0/31"},
                   {"node": "b", "addresses": "10.0.2.1/31"}]}
  ]
})");
  EXPECT_TRUE(hasDiagnostic(result, "10.0.0.0 is the network address of 10.0.0.0/24",
                            "links[0].endpoints[0].addresses", 4));
  EXPECT_TRUE(hasDiagnostic(result, "10.0.1.255 is the broadcast address of 10.0.1.0/24",
                            "links[1].endpoints[0].addresses", 5));
  EXPECT_EQ(errorCount(result), 2u) << dump(result);
}

TEST(Validate, OverlappingSegments) {
  auto result = load(R"({
  "nodes": {"a": {}, "b": {}, "c": {}},
  "links": [
    {"endpoints": ["a", "b"], "prefix": "10.0.0.0/16"},
    {"endpoints": ["b", "c"], "prefix": "10.0.5.0/24"}
  ]
})");
  EXPECT_TRUE(
      hasDiagnostic(result, "subnet 10.0.5.0/24 overlaps 10.0.0.0/16", "links[1].prefix", 5));
}

TEST(Validate, TwoPrefixesOnOneSegment) {
  auto result = load(R"({
  "nodes": {"a": {}, "b": {}, "s": {"kind": "switch"}},
  "links": [
    {"endpoints": ["a", "s"], "prefix": "10.0.0.0/24"},
    {"endpoints": ["b", "s"], "prefix": "10.0.1.0/24"}
  ]
})");
  EXPECT_TRUE(hasDiagnostic(result, "already has the prefix 10.0.0.0/24 from links[0].prefix",
                            "links[1].prefix", 5));
}

TEST(Validate, OnePrefixPerFamilyOnALink) {
  auto result = load(R"({"nodes": {"a": {}, "b": {}},
    "links": [{"endpoints": ["a", "b"], "prefix": ["10.1.0.0/30", "10.2.0.0/30"]}]})");
  EXPECT_TRUE(
      hasDiagnostic(result, "at most one prefix per address family", "links[0].prefix[1]", 2));
}

TEST(Validate, GatewayNotOnAConnectedSubnet) {
  auto result = load(R"({
  "nodes": {
    "a": {"routes": [{"to": "default", "via": "10.9.9.9"}]},
    "b": {"routes": [{"to": "default", "via": "10.0.0.1", "dev": "eth1"}]}
  },
  "links": [
    {"endpoints": ["a", "b"], "prefix": "10.0.0.0/30"},
    {"endpoints": ["a", "b:eth1"], "prefix": "10.0.1.0/30"}
  ]
})");
  EXPECT_TRUE(hasDiagnostic(result, "gateway 10.9.9.9 is not on a connected subnet of a",
                            "nodes.a.routes[0]", 3));
  EXPECT_EQ(find(result, "10.9.9.9")->hint, "the subnets there: 10.0.0.0/30, 10.0.1.0/30");
  EXPECT_TRUE(hasDiagnostic(result, "gateway 10.0.0.1 is not on a connected subnet of b:eth1",
                            "nodes.b.routes[0]", 4));
  EXPECT_EQ(find(result, "10.0.0.1 is not")->hint, "the subnets there: 10.0.1.0/30");
}

TEST(Validate, GatewayOfAnotherFamilyThanAnyAddress) {
  auto result = load(R"({"nodes": {"a": {"routes": [{"to": "default", "via": "fd00::1"}]}, "b": {}},
    "links": [["a", "b"]]})");
  EXPECT_TRUE(hasDiagnostic(result, "gateway fd00::1 is not on a connected subnet",
                            "nodes.a.routes[0]", 1));
  EXPECT_EQ(find(result, "fd00::1")->hint, "there is no IPv6 address there");
}

TEST(Validate, GatewayIsTheNodesOwnAddressOrLinkLocal) {
  auto result = load(R"({"nodes": {
      "a": {"routes": [{"to": "10.5.0.0/16", "via": "10.0.0.1"},
                       {"to": "fd00:5::/64", "via": "fe80::1"},
                       {"to": "fd00:6::/64", "via": "fe80::1", "dev": "eth0"}]},
      "b": {}},
    "links": [["a", "b"]]})");
  EXPECT_TRUE(hasDiagnostic(result, "gateway 10.0.0.1 is a's own address", "nodes.a.routes[0]", 2));
  EXPECT_TRUE(hasDiagnostic(result, "a link-local gateway needs `dev`", "nodes.a.routes[1]", 3));
  EXPECT_EQ(errorCount(result), 2u) << dump(result);
}

TEST(Validate, DevNamingNoInterface) {
  auto result = load(R"({
  "nodes": {
    "a": {"routes": [{"to": "default", "dev": "eth1"}]},
    "b": {}
  },
  "links": [["a", "b"]]
})");
  EXPECT_TRUE(hasDiagnostic(result, "a has no interface `eth1`", "nodes.a.routes[0].dev", 3));
  EXPECT_EQ(find(result, "eth1")->hint, "did you mean `eth0`?");
}

TEST(Validate, RouteFamiliesAndRequiredKeys) {
  auto result = load(R"({
  "nodes": {"a": {"routes": [
    {"to": "fd00::/64", "via": "10.0.0.2"},
    {"via": "10.0.0.2"},
    {"to": "default"},
    {"to": "default", "via": "10.0.0.2/30"},
    {"to": "default", "via": "10.0.0.2", "metric": -1}
  ]}}
})");
  EXPECT_TRUE(hasDiagnostic(result, "of different address families", "nodes.a.routes[0]", 3));
  EXPECT_TRUE(hasDiagnostic(result, "a route needs `to`", "nodes.a.routes[1]", 4));
  EXPECT_TRUE(hasDiagnostic(result, "a route needs `via`, `dev` or both", "nodes.a.routes[2]", 5));
  EXPECT_TRUE(
      hasDiagnostic(result, "`10.0.0.2/30` is not an IP address", "nodes.a.routes[3].via", 6));
  EXPECT_TRUE(
      hasDiagnostic(result, "metric -1 is outside 0..4294967295", "nodes.a.routes[4].metric", 7));
}

TEST(Validate, DuplicateRoutesAndSeveralDefaultRoutes) {
  auto result = load(R"({
  "nodes": {
    "a": {"routes": [
      {"to": "default", "via": "10.0.0.2"},
      {"to": "default", "via": "10.0.0.2", "metric": 5}
    ]},
    "b": {"routes": [
      {"to": "10.7.0.0/16", "via": "10.0.0.1"},
      {"to": "10.7.0.0/16", "dev": "eth0"}
    ]}
  },
  "links": [{"endpoints": ["a", "b"], "prefix": "10.0.0.0/30"}]
})");
  EXPECT_TRUE(hasDiagnostic(result, "host a has more than one default route", "nodes.a.routes[1]",
                            5, Severity::Warning));
  EXPECT_TRUE(hasDiagnostic(result, "a second route to 10.7.0.0/16 with the same metric",
                            "nodes.b.routes[1]", 9));
}

TEST(Validate, DefaultRoutesNameTheNodeTheyFailOn) {
  auto result = load(R"({
  "defaults": {"routes": [{"to": "default", "via": "10.0.0.1"}]},
  "nodes": {"a": {}, "b": {}, "c": {}},
  "links": [{"endpoints": ["a", "b"], "prefix": "10.0.0.0/30"}, ["b", "c"]]
})");
  EXPECT_TRUE(
      hasDiagnostic(result, "a: gateway 10.0.0.1 is a's own address", "defaults.routes[0]", 2));
  EXPECT_TRUE(hasDiagnostic(result, "c: gateway 10.0.0.1 is not on a connected subnet of c",
                            "defaults.routes[0]", 2));
}

TEST(Validate, SwitchesHaveNoAddressesLoopbacksOrRoutes) {
  auto result = load(R"({
  "defaults": {"kinds": {"switch": {"routes": [{"to": "default", "dev": "eth0"}]}}},
  "nodes": {
    "s1": {"kind": "switch", "loopback": "10.9.0.1"},
    "a": {}
  },
  "links": [
    {"endpoints": [{"node": "s1", "addresses": "10.0.0.1/24"}, "a"]}
  ]
})");
  EXPECT_TRUE(
      hasDiagnostic(result, "a switch has no routes", "defaults.kinds.switch.routes[0]", 2));
  EXPECT_TRUE(hasDiagnostic(result, "a switch has no loopback addresses", "nodes.s1.loopback", 4));
  EXPECT_TRUE(hasDiagnostic(result, "switch s1 bridges its ports; a port has no addresses",
                            "links[0].endpoints[0].addresses", 8));
}

TEST(Validate, BridgesTakeAtMost1023Ports) {
  std::string json = R"({"nodes": {"s": {"kind": "switch"})";
  std::string links;
  for (int i = 0; i < 1024; ++i) {
    json += fmt::format(", \"h{}\": {{}}", i);
    links += fmt::format("{}[\"h{}\", \"s\"]", i ? ", " : "", i);
  }
  json += "}, \"links\": [" + links + "]}";
  auto result = load(json);
  EXPECT_TRUE(hasDiagnostic(result, "switch s has 1024 ports; a Linux bridge takes at most 1023",
                            "nodes.s", 1));
  EXPECT_NE(find(result, "1024 ports")->hint.find("BR_MAX_PORTS is 1024"), std::string::npos);
}

TEST(Validate, MtuOutOfRange) {
  auto result = load(R"({
  "nodes": {"a": {}, "b": {}},
  "links": [
    {"endpoints": ["a", "b"], "mtu": -1},
    {"endpoints": ["a", "b"], "mtu": 65536},
    {"endpoints": ["a", "b"], "mtu": 1500.5},
    {"endpoints": ["a", "b"], "mtu": "1500"}
  ]
})");
  EXPECT_TRUE(hasDiagnostic(result, "MTU -1 is outside 1280..65535", "links[0].mtu", 4));
  EXPECT_TRUE(hasDiagnostic(result, "MTU 65536 is outside 1280..65535", "links[1].mtu", 5));
  EXPECT_TRUE(hasDiagnostic(result, "expected an integer, found 1500.5", "links[2].mtu", 6));
  EXPECT_TRUE(hasDiagnostic(result, "expected an integer, found a string", "links[3].mtu", 7));
}

TEST(Validate, MacAddresses) {
  auto result = load(R"({
  "nodes": {"a": {}, "b": {}, "c": {}},
  "links": [
    {"endpoints": [{"node": "a", "mac": "02:00:00:00:00:zz"}, "b"]},
    {"endpoints": [{"node": "a", "mac": "01:00:5e:00:00:01"}, "c"]},
    {"endpoints": [{"node": "b", "mac": "02:00:00:00:00:01"},
                   {"node": "c", "mac": "02:00:00:00:00:01"}]}
  ]
})");
  EXPECT_TRUE(hasDiagnostic(result, "`02:00:00:00:00:zz` is not a MAC address",
                            "links[0].endpoints[0].mac", 4));
  EXPECT_TRUE(hasDiagnostic(result, "is a multicast MAC address", "links[1].endpoints[0].mac", 5));
  EXPECT_TRUE(
      hasDiagnostic(result, "MAC 02:00:00:00:00:01 is used twice", "links[2].endpoints[1].mac", 7));
}

TEST(Validate, LoopbackCollisions) {
  auto result = load(R"({
  "nodes": {
    "r1": {"kind": "router", "loopback": "10.255.0.9"},
    "r2": {"kind": "router", "loopback": ["10.255.0.9/32", "fd00:ff::1"]},
    "h": {"loopback": "10.0.0.1"}
  },
  "links": [{"endpoints": [{"node": "r1", "addresses": "10.0.0.1/30"}, "r2"]}]
})");
  EXPECT_TRUE(hasDiagnostic(result,
                            "address 10.255.0.9 of r2's loopback is already used by r1's loopback",
                            "nodes.r2.loopback[0]", 4));
  EXPECT_TRUE(hasDiagnostic(result, "address 10.0.0.1 of r1:eth0 is already used by h's loopback",
                            "links[0].endpoints[0].addresses", 7));
}

TEST(Validate, LoopbackFromDefaultsCollidesAcrossNodes) {
  auto result = load(R"({
  "defaults": {"loopback": "10.1.1.1"},
  "nodes": {"a": {}, "b": {}}
})");
  EXPECT_TRUE(hasDiagnostic(result,
                            "address 10.1.1.1 of b's loopback is already used by a's loopback",
                            "defaults.loopback", 2));
}

TEST(Validate, SysctlsOutsideNetAreRefused) {
  auto result = load(R"({
  "nodes": {"a": {"sysctls": {
    "kernel.x": 1,
    "net..ipv4": 1,
    "net.ipv4/../x": 1,
    "net.ipv4.ip_forward": 1.5
  }}}
})");
  EXPECT_TRUE(hasDiagnostic(
      result, "only net.* sysctls belong to a node's namespaces; `kernel.x` would change the host",
      "nodes.a.sysctls[\"kernel.x\"]", 3));
  EXPECT_TRUE(hasDiagnostic(result, "`net..ipv4` is not a sysctl name",
                            "nodes.a.sysctls[\"net..ipv4\"]", 4));
  EXPECT_TRUE(hasDiagnostic(result, "`net.ipv4/../x` is not a sysctl name",
                            "nodes.a.sysctls[\"net.ipv4/../x\"]", 5));
  EXPECT_TRUE(hasDiagnostic(result, "expected a string, an integer or a boolean",
                            "nodes.a.sysctls[\"net.ipv4.ip_forward\"]", 6));
}

// Issue 14: what `up` refused after validate had accepted it. Which net.* sysctls a node may
// set was read from /proc/sys/net in a network namespace owned by a user namespace of its own.
TEST(Validate, SysctlsOutsideTheNodesNetworkNamespaceAreRefused) {
  auto result = load(R"({
  "nodes": {"a": {"sysctls": {
    "net.core.rmem_max": 8388608,
    "net.core.netdev_max_backlog": 5000,
    "net.ipv4.tcp_mem": "1 2 3",
    "net.ipv6.neigh.default.gc_thresh3": 4096,
    "net.ipv4.route.gc_timeout": 100,
    "net.nf_conntrack_max": 1,
    "net.ipv4.conf.all.mc_forwarding": 1,
    "net.ipv4.inet_peer_threshold": 1
  }}}
})");
  EXPECT_TRUE(hasDiagnostic(result,
                            "`net.core.rmem_max` is read-only in a node's network namespace",
                            "nodes.a.sysctls[\"net.core.rmem_max\"]", 3));
  EXPECT_TRUE(hasDiagnostic(result, "`net.core.netdev_max_backlog` is host-wide",
                            "nodes.a.sysctls[\"net.core.netdev_max_backlog\"]", 4));
  EXPECT_NE(find(result, "netdev_max_backlog")->hint.find("net.core.somaxconn"), std::string::npos);
  EXPECT_TRUE(hasDiagnostic(result, "`net.ipv4.tcp_mem` is host-wide",
                            "nodes.a.sysctls[\"net.ipv4.tcp_mem\"]", 5));
  EXPECT_TRUE(hasDiagnostic(result,
                            "`net.ipv6.neigh.default.gc_thresh3` does not exist in a node's "
                            "network namespace",
                            "nodes.a.sysctls[\"net.ipv6.neigh.default.gc_thresh3\"]", 6));
  EXPECT_TRUE(hasDiagnostic(result, "`net.ipv4.route.gc_timeout` does not exist",
                            "nodes.a.sysctls[\"net.ipv4.route.gc_timeout\"]", 7));
  EXPECT_TRUE(hasDiagnostic(result, "`net.nf_conntrack_max` is host-wide",
                            "nodes.a.sysctls[\"net.nf_conntrack_max\"]", 8));
  EXPECT_TRUE(hasDiagnostic(result, "`net.ipv4.conf.all.mc_forwarding` is read-only",
                            "nodes.a.sysctls[\"net.ipv4.conf.all.mc_forwarding\"]", 9));
  EXPECT_TRUE(hasDiagnostic(result, "`net.ipv4.inet_peer_threshold` is host-wide",
                            "nodes.a.sysctls[\"net.ipv4.inet_peer_threshold\"]", 10));
  EXPECT_EQ(errorCount(result), 8u) << dump(result);
}

TEST(Validate, SysctlsOfTheNodesNetworkNamespaceAreAccepted) {
  auto result = load(R"({"nodes": {"a": {"sysctls": {
    "net.ipv4.ip_forward": 1, "net.ipv4.conf.all.rp_filter": 0,
    "net.ipv6.conf.all.forwarding": 1, "net.ipv4.ping_group_range": "0 2147483647",
    "net.ipv4.tcp_congestion_control": "reno", "net.ipv4.neigh.eth0.base_reachable_time_ms": 1,
    "net.ipv4.route.min_pmtu": 552, "net.core.somaxconn": 1024, "net.unix.max_dgram_qlen": 64,
    "net.netfilter.nf_conntrack_tcp_loose": 0, "net.mptcp.enabled": 1}},
    "b": {}}, "links": [["a", "b"]]})");
  EXPECT_TRUE(result.ok()) << dump(result);
}

TEST(Validate, MtuBelowIpv6sMinimum) {
  auto result = load(R"({
  "nodes": {"a": {}, "b": {}},
  "links": [
    {"endpoints": ["a", "b"], "mtu": 68},
    {"endpoints": ["a", "b"], "mtu": 1279},
    {"endpoints": ["a", "b"], "mtu": 1280}
  ]
})");
  EXPECT_TRUE(hasDiagnostic(result, "MTU 68 is below 1280", "links[0].mtu", 4));
  EXPECT_NE(find(result, "MTU 68")->hint.find("IPv4 alone would go down to 68"), std::string::npos);
  EXPECT_TRUE(hasDiagnostic(result, "MTU 1279 is below 1280", "links[1].mtu", 5));
  EXPECT_EQ(errorCount(result), 2u) << dump(result);
}

TEST(Validate, LoopbackRangeOnAnInterface) {
  auto result = load(R"({
  "nodes": {"a": {}, "b": {}},
  "links": [
    {"endpoints": [{"node": "a", "addresses": "127.0.0.2/8"}, "b"]},
    {"endpoints": [{"node": "a", "addresses": ["::1/128"]}, "b"]},
    {"endpoints": ["a", "b"], "prefix": "127.0.0.0/30"}
  ]
})");
  EXPECT_TRUE(hasDiagnostic(result, "127.0.0.2/8 is in the loopback range 127.0.0.0/8",
                            "links[0].endpoints[0].addresses", 4));
  EXPECT_NE(find(result, "127.0.0.2/8")->hint.find("martian"), std::string::npos);
  EXPECT_TRUE(hasDiagnostic(result, "::1/128 is in the loopback range ::1/128",
                            "links[1].endpoints[0].addresses[0]", 5));
  EXPECT_TRUE(
      hasDiagnostic(result, "127.0.0.0/30 overlaps the loopback range", "links[2].prefix", 6));
  EXPECT_EQ(errorCount(result), 3u) << dump(result);
  // Loopback addresses on lo stay allowed.
  EXPECT_TRUE(load(R"({"nodes": {"a": {"loopback": "127.0.0.2"}}})").ok());
}

TEST(Validate, EnvironmentAndExec) {
  auto result = load(R"({
  "nodes": {"a": {
    "env": {"1X": "a", "OK": 5},
    "exec": ["", "echo \u0000"]
  }}
})");
  EXPECT_TRUE(
      hasDiagnostic(result, "`1X` is not an environment variable name", "nodes.a.env[\"1X\"]", 3));
  EXPECT_TRUE(hasDiagnostic(result, "expected a string, found a number", "nodes.a.env.OK", 3));
  EXPECT_TRUE(hasDiagnostic(result, "a command cannot be empty", "nodes.a.exec[0]", 4));
  EXPECT_TRUE(hasDiagnostic(result, "contains a NUL character", "nodes.a.exec[1]", 4));
}

TEST(Validate, HostnamesFollowTheRules) {
  auto result = load(R"({"nodes": {"a": {"hostname": "-bad"}, "b": {"hostname": "a..b"}}})");
  EXPECT_TRUE(hasDiagnostic(result, "invalid hostname `-bad`", "nodes.a.hostname", 1));
  EXPECT_TRUE(hasDiagnostic(result, "invalid hostname `a..b`", "nodes.b.hostname", 1));
  EXPECT_TRUE(load(R"({"nodes": {"a": {"hostname": "web-1.lab"}}})").ok());
}

TEST(Validate, MountsAndFiles) {
  auto result = load(R"({
  "nodes": {"a": {
    "mounts": [
      "does-not-exist:/srv",
      {"source": "/tmp", "target": "relative"},
      {"source": "/tmp", "target": "/srv/../etc"},
      "/tmp:/srv:rx",
      {"source": "/tmp"}
    ],
    "files": [
      {"path": "/etc/x", "content": "1", "mode": "0999"},
      {"path": "/", "content": "1"},
      {"path": "/etc/y", "content": "1"},
      {"path": "/etc/y/", "content": "2"}
    ]
  }}
})");
  EXPECT_TRUE(hasDiagnostic(result, "mount source `does-not-exist` does not exist",
                            "nodes.a.mounts[0]", 4));
  EXPECT_TRUE(
      hasDiagnostic(result, "`relative` is not an absolute path", "nodes.a.mounts[1].target", 5));
  EXPECT_TRUE(hasDiagnostic(result, "`/srv/../etc` contains `..`", "nodes.a.mounts[2].target", 6));
  EXPECT_TRUE(hasDiagnostic(result, "`/tmp:/srv:rx` is not a mount", "nodes.a.mounts[3]", 7));
  EXPECT_TRUE(hasDiagnostic(result, "a mount needs `source` and `target`", "nodes.a.mounts[4]", 8));
  EXPECT_TRUE(
      hasDiagnostic(result, "`0999` is not an octal file mode", "nodes.a.files[0].mode", 11));
  EXPECT_TRUE(hasDiagnostic(result, "`/` itself cannot be a target", "nodes.a.files[1].path", 12));
  EXPECT_TRUE(hasDiagnostic(result, "file `/etc/y` is written twice", "nodes.a.files[3].path", 14));
}

TEST(Validate, ImpairmentUnitsAndRanges) {
  auto result = load(R"({
  "nodes": {"a": {}, "b": {}},
  "links": [{
    "endpoints": ["a", {"node": "b", "out": {"rate": "10mbps"}}],
    "delay": "40 ms",
    "jitter": 5,
    "loss": 101,
    "corrupt": "1",
    "rate": "10",
    "limit": 0
  }]
})");
  EXPECT_TRUE(hasDiagnostic(result, "unknown unit `mbps` in `10mbps`",
                            "links[0].endpoints[1].out.rate", 4));
  EXPECT_NE(find(result, "mbps")->hint.find("bits per second"), std::string::npos);
  EXPECT_TRUE(hasDiagnostic(result, "unknown unit ` ms` in `40 ms`", "links[0].delay", 5));
  EXPECT_TRUE(hasDiagnostic(result, "expected a duration like \"40ms\", found a number",
                            "links[0].jitter", 6));
  EXPECT_TRUE(hasDiagnostic(result, "101 is outside 0..100 percent", "links[0].loss", 7));
  EXPECT_TRUE(hasDiagnostic(result, "`1` is not a percentage", "links[0].corrupt", 8));
  EXPECT_TRUE(hasDiagnostic(result, "`10` has no unit", "links[0].rate", 9));
  EXPECT_TRUE(hasDiagnostic(result, "limit 0 is outside 1..1000000", "links[0].limit", 10));
}

TEST(Validate, ReorderNeedsADelay) {
  auto result = load(R"({
  "nodes": {"a": {}, "b": {}},
  "links": [
    {"endpoints": ["a", "b"], "reorder": "25%"},
    {"endpoints": [{"node": "a", "out": {"reorder": "5%"}}, "b"], "delay": "10ms"}
  ]
})");
  EXPECT_TRUE(hasDiagnostic(result, "reorder needs a delay", "links[0].reorder", 4));
  EXPECT_EQ(errorCount(result), 1u) << dump(result);
}

TEST(Validate, ImpairmentWarnings) {
  auto result = load(R"({
  "nodes": {"a": {}, "b": {}},
  "links": [
    {"endpoints": ["a", "b"], "delay": "10ms", "jitter": "20ms"},
    {"endpoints": ["a", "b"], "loss": "100%"}
  ]
})");
  ASSERT_TRUE(result.ok()) << dump(result);
  EXPECT_TRUE(hasDiagnostic(result, "jitter 20ms exceeds the delay 10ms", "links[0].jitter", 4,
                            Severity::Warning));
  EXPECT_TRUE(
      hasDiagnostic(result, "loss 100% drops every packet", "links[1].loss", 5, Severity::Warning));
  // Seen from both ends, a link's warning is still reported once.
  EXPECT_EQ(result.diagnostics.size(), 2u) << dump(result);
}

TEST(Validate, AddressingPools) {
  auto result = load(R"({
  "nodes": {"a": {}},
  "addressing": {
    "ipv6": "yes",
    "p2p": {"ipv4": "fd00::/64", "ipv4_length": 40},
    "lan": {"ipv4": "10.0.0.0/24", "ipv4_length": 16},
    "loopback": {"ipv6": "10.0.0.0/8"}
  }
})");
  EXPECT_TRUE(hasDiagnostic(result, "expected a boolean, found a string", "addressing.ipv6", 4));
  EXPECT_TRUE(hasDiagnostic(result, "`fd00::/64` is not an IPv4 prefix", "addressing.p2p.ipv4", 5));
  EXPECT_TRUE(
      hasDiagnostic(result, "ipv4_length 40 is outside 1..32", "addressing.p2p.ipv4_length", 5));
  EXPECT_TRUE(hasDiagnostic(result, "subnets of /16 do not fit in the pool 10.0.0.0/24",
                            "addressing.lan.ipv4_length", 6));
  EXPECT_TRUE(
      hasDiagnostic(result, "`10.0.0.0/8` is not an IPv6 prefix", "addressing.loopback.ipv6", 7));
}

TEST(Validate, ExhaustedPoolIsNamed) {
  auto result = load(R"({
  "addressing": {"p2p": {"ipv4": "10.0.0.0/29"}},
  "nodes": {"a": {}, "b": {}},
  "links": [["a", "b"], ["a", "b"],
    ["a", "b"]]
})");
  EXPECT_TRUE(hasDiagnostic(
      result, "the pool addressing.p2p.ipv4 (10.0.0.0/29) has no free /30 left", "links[2]", 5));
}

TEST(Validate, NoFreeAddressInAnExplicitPrefix) {
  auto result = load(R"({"nodes": {"a": {}, "b": {}, "c": {}},
    "links": [{"endpoints": ["a", "b", "c"], "prefix": "10.0.0.0/30"}]})");
  EXPECT_TRUE(hasDiagnostic(result, "no free address left in 10.0.0.0/30 for c:eth0",
                            "links[0].endpoints[2]", 2));
}

TEST(Validate, DuplicateKeysAndDuplicateNodes) {
  auto result = load(R"({
  "nodes": {"a": {}, "b": {}},
  "nodes": {"c": {}},
  "links": [{"endpoints": ["a", "b"], "mtu": 1400, "mtu": 1300}]
})");
  EXPECT_TRUE(hasDiagnostic(result, "duplicate key `nodes`", "nodes", 3));
  EXPECT_TRUE(hasDiagnostic(result, "duplicate key `mtu`", "links[0].mtu", 4));
}

TEST(Validate, ManyErrorsAreReportedAtOnceInDocumentOrder) {
  auto result = load(R"({
  "nodes": {
    "r1": {"kind": "rooter"},
    "r2": {"sysctls": {"kernel.panic": 1}}
  },
  "links": [
    ["r1", "r9"],
    {"endpoints": ["r1", "r2"], "mtu": 10}
  ]
})");
  ASSERT_EQ(errorCount(result), 4u) << dump(result);
  EXPECT_EQ(result.diagnostics[0].line, 3);
  EXPECT_EQ(result.diagnostics[1].line, 4);
  EXPECT_EQ(result.diagnostics[2].line, 7);
  EXPECT_EQ(result.diagnostics[3].line, 8);
  EXPECT_FALSE(result.ok());
}

TEST(Validate, FormatsDiagnosticsLikeACompiler) {
  Diagnostic diagnostic{Severity::Error,     "links[3].endpoints[1]", 12, 5,
                        "unknown node `r9`", "did you mean `r1`?"};
  EXPECT_EQ(
      formatDiagnostic(diagnostic, "topo.json"),
      "topo.json:12:5: error: links[3].endpoints[1]: unknown node `r9` (hint: did you mean `r1`?)");
  EXPECT_EQ(formatDiagnostic({Severity::Warning, "", 0, 0, "careful", ""}, "t.json"),
            "t.json: warning: careful");
}

TEST(Validate, UnreadableFileIsADiagnostic) {
  auto result = loadTopologyFile(testing::scratchDir() / "missing.json");
  ASSERT_EQ(result.diagnostics.size(), 1u);
  EXPECT_NE(result.diagnostics[0].message.find("No such file or directory"), std::string::npos);
  EXPECT_FALSE(result.ok());
}

}  // namespace
}  // namespace netlab::topo
