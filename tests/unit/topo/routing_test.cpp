// `"routing": "ospf"` and `"bgp"`: the FRR configuration written for small labs (snippets of
// it, as golden text), and the validation errors of the routing settings.
#include <gtest/gtest.h>

#include <algorithm>

#include "test_support.hpp"
#include "topo/plan_json.hpp"
#include "topo/plan_table.hpp"
#include "topo/routing.hpp"

namespace netlab::topo {
namespace {

using testing::dump;
using testing::errorCount;
using testing::hasDiagnostic;
using testing::load;
using testing::nodeOf;

// Warnings allowed: a one-router lab has a node without links.
Plan planOf(std::string_view json) {
  auto result = load(json);
  EXPECT_TRUE(result.ok()) << dump(result);
  EXPECT_EQ(errorCount(result), 0u) << dump(result);
  return result.plan.value_or(Plan{});
}

// The content of the node's file at target; empty when it has none.
std::string fileOf(const Plan& plan, std::string_view node, std::string_view target) {
  for (const File& file : nodeOf(plan, node).files) {
    if (file.target == target) return file.content;
  }
  return {};
}

std::string frrConfOf(const Plan& plan, std::string_view node) {
  return fileOf(plan, node, "/etc/frr/frr.conf");
}

// r1 - r2 on a /30 with a cost, h1 on r1's LAN.
constexpr std::string_view kOspfPair = R"({"routing": "ospf",
  "nodes": {"r1": {"kind": "router", "loopback": "10.255.0.1"},
            "r2": {"kind": "router", "loopback": "10.255.0.2"}, "h1": {}},
  "links": [{"endpoints": ["r1:eth0", "r2:eth0"], "prefix": "10.0.12.0/30", "ospf": {"cost": 20}},
            {"endpoints": ["r1:eth1", "h1"], "prefix": "172.16.1.0/24"}]})";

TEST(Routing, OspfInterfacesPointToPointAndPassive) {
  const Plan plan = planOf(kOspfPair);
  const std::string conf = frrConfOf(plan, "r1");
  EXPECT_NE(conf.find("hostname r1\n"), std::string::npos) << conf;
  EXPECT_NE(conf.find("interface lo\n ip ospf area 0.0.0.0\n ip ospf passive\nexit\n"),
            std::string::npos)
      << conf;
  EXPECT_NE(conf.find("interface eth0\n ip ospf area 0.0.0.0\n ip ospf network point-to-point\n"
                      " ip ospf hello-interval 1\n ip ospf dead-interval 3\n ip ospf cost 20\n"
                      "exit\n"),
            std::string::npos)
      << conf;
  // Only a host on the LAN: announced, no hellos sent to it.
  EXPECT_NE(conf.find("interface eth1\n ip ospf area 0.0.0.0\n ip ospf passive\nexit\n"),
            std::string::npos)
      << conf;
  EXPECT_NE(conf.find("router ospf\n ospf router-id 10.255.0.1\n timers throttle spf 0 50 500\n"),
            std::string::npos)
      << conf;
  EXPECT_EQ(conf.find("router ospf6"), std::string::npos) << conf;
  EXPECT_EQ(conf.find("router bgp"), std::string::npos) << conf;
}

TEST(Routing, OspfDaemonsFileAndStartupCommand) {
  const Plan plan = planOf(kOspfPair);
  const std::string daemons = fileOf(plan, "r1", "/etc/frr/daemons");
  EXPECT_NE(daemons.find("ospfd=yes\nospf6d=no\nbgpd=no\n"), std::string::npos) << daemons;
  EXPECT_EQ(fileOf(plan, "r1", "/etc/frr/vtysh.conf"), "service integrated-vtysh-config\n");
  EXPECT_EQ(nodeOf(plan, "r1").exec.back(), "/usr/lib/frr/frrinit.sh start");
}

TEST(Routing, HostsGetADefaultRouteAndNoDaemon) {
  const Plan plan = planOf(kOspfPair);
  const Node& host = nodeOf(plan, "h1");
  EXPECT_TRUE(host.files.empty());
  EXPECT_TRUE(host.exec.empty());
  ASSERT_EQ(host.routes.size(), 1u);
  EXPECT_EQ(toString(host.routes[0].destination), "0.0.0.0/0");
  EXPECT_EQ(toString(*host.routes[0].gateway), "172.16.1.1");
  // The routers' routes come from OSPF, not from netlab.
  EXPECT_TRUE(nodeOf(plan, "r1").routes.empty());
}

TEST(Routing, OspfOnALanIsBroadcastAndOspfv3WhereIpv6Is) {
  const Plan plan = planOf(R"({"routing": "ospf",
    "nodes": {"r1": {"kind": "router", "loopback": ["10.255.0.1", "fd00:255::1"]},
              "r2": {"kind": "router"}, "r3": {"kind": "router"}},
    "links": [{"endpoints": ["r1", "r2", "r3"], "prefix": ["10.0.0.0/24", "fd00::/64"],
               "ospf": {"area": "0.0.0.1"}}]})");
  const std::string conf = frrConfOf(plan, "r1");
  EXPECT_NE(conf.find("interface eth0\n ip ospf area 0.0.0.1\n ip ospf network broadcast\n"),
            std::string::npos)
      << conf;
  EXPECT_NE(conf.find(" ipv6 ospf6 area 0.0.0.1\n ipv6 ospf6 network broadcast\n"),
            std::string::npos)
      << conf;
  // Not on the backbone: the loopbacks join the router's only area.
  EXPECT_NE(conf.find("interface lo\n ip ospf area 0.0.0.1\n ip ospf passive\n"
                      " ipv6 ospf6 area 0.0.0.1\n ipv6 ospf6 passive\nexit\n"),
            std::string::npos)
      << conf;
  EXPECT_NE(conf.find("router ospf6\n ospf6 router-id 10.255.0.1\n"), std::string::npos) << conf;
  EXPECT_NE(fileOf(plan, "r1", "/etc/frr/daemons").find("ospf6d=yes"), std::string::npos);
}

// AS 65001: r1; AS 65002: r2 and r3, with OSPF between them.
constexpr std::string_view kTwoAses = R"({"routing": "bgp",
  "nodes": {"r1": {"kind": "router", "asn": 65001, "loopback": "10.255.0.1"},
            "r2": {"kind": "router", "asn": "65002", "loopback": "10.255.0.2"},
            "r3": {"kind": "router", "asn": 65002, "loopback": "10.255.0.3"}},
  "links": [{"endpoints": ["r1:eth0", "r2:eth0"], "prefix": "10.0.12.0/30"},
            {"endpoints": ["r2:eth1", "r3:eth0"], "prefix": "10.0.23.0/30"}]})";

TEST(Routing, EbgpOnLinksBetweenAses) {
  const Plan plan = planOf(kTwoAses);
  const std::string conf = frrConfOf(plan, "r1");
  EXPECT_NE(conf.find("router bgp 65001\n bgp router-id 10.255.0.1\n no bgp ebgp-requires-policy\n"
                      " no bgp default ipv4-unicast\n timers bgp 1 3\n"
                      " neighbor 10.0.12.2 remote-as 65002\n"
                      " neighbor 10.0.12.2 description r2\n"),
            std::string::npos)
      << conf;
  EXPECT_NE(conf.find(" address-family ipv4 unicast\n  network 10.255.0.1/32\n"
                      "  network 10.0.12.0/30\n  neighbor 10.0.12.2 activate\n"
                      " exit-address-family\n"),
            std::string::npos)
      << conf;
  EXPECT_EQ(conf.find("address-family ipv6"), std::string::npos) << conf;
}

TEST(Routing, IbgpOverLoopbacksWithOspfInsideTheAs) {
  const Plan plan = planOf(kTwoAses);
  const std::string conf = frrConfOf(plan, "r2");
  EXPECT_NE(conf.find(" neighbor 10.255.0.3 remote-as 65002\n"), std::string::npos) << conf;
  EXPECT_NE(conf.find(" neighbor 10.255.0.3 update-source lo\n"), std::string::npos) << conf;
  EXPECT_NE(conf.find("  neighbor 10.255.0.3 next-hop-self\n"), std::string::npos) << conf;
  // The whole AS's networks, r3's among them.
  EXPECT_NE(conf.find("  network 10.255.0.2/32\n  network 10.0.12.0/30\n  network 10.0.23.0/30\n"
                      "  network 10.255.0.3/32\n"),
            std::string::npos)
      << conf;
  // OSPF looks for neighbours towards r3 (same AS) only; the link to AS 65001 is announced.
  EXPECT_NE(conf.find("interface eth0\n ip ospf area 0.0.0.0\n ip ospf passive\nexit\n"),
            std::string::npos)
      << conf;
  EXPECT_NE(conf.find("interface eth1\n ip ospf area 0.0.0.0\n ip ospf network point-to-point\n"),
            std::string::npos)
      << conf;
  EXPECT_NE(fileOf(plan, "r2", "/etc/frr/daemons").find("ospfd=yes\nospf6d=no\nbgpd=yes\n"),
            std::string::npos);
}

TEST(Routing, AsdotNumbers) {
  const Plan plan = planOf(R"({"routing": "bgp",
    "nodes": {"r1": {"kind": "router", "asn": "1.10", "loopback": "10.255.0.1"}}})");
  EXPECT_NE(frrConfOf(plan, "r1").find("router bgp 65546\n"), std::string::npos);
}

TEST(Routing, ANodeWithItsOwnEtcFrrIsNotTouched) {
  const Plan plan = planOf(R"({"routing": "ospf",
    "nodes": {"r1": {"kind": "router", "files": {"/etc/frr/frr.conf": "hostname mine\n"}}}})");
  const Node& router = nodeOf(plan, "r1");
  ASSERT_EQ(router.files.size(), 1u);
  EXPECT_EQ(router.files[0].content, "hostname mine\n");
  EXPECT_FALSE(router.files[0].generated);
  EXPECT_EQ(router.exec.back(), "/usr/lib/frr/frrinit.sh start");  // FRR still runs
  EXPECT_TRUE(startsFrr(router));
}

TEST(Routing, OnlyFrrsOwnProgramsCountAsStartingFrr) {
  Node node;
  node.exec = {"mkdir -p /run/bird && /usr/sbin/bird -c /etc/bird/bird.conf", "echo frr"};
  EXPECT_FALSE(startsFrr(node));
  node.exec.push_back("/usr/lib/frr/watchfrr zebra");
  EXPECT_TRUE(startsFrr(node));
}

TEST(Routing, PlanShowsTheGeneratedConfiguration) {
  const Plan plan = planOf(kOspfPair);
  const std::string table = renderPlanTable(plan);
  EXPECT_NE(table.find("/etc/frr/frr.conf (mode 0644, "), std::string::npos) << table;
  EXPECT_NE(table.find("generated from the topology)\n      | ! Written by netlab"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("      | router ospf\n"), std::string::npos) << table;
  const std::string json = planToJson(plan);
  EXPECT_NE(json.find("\"generated\": true"), std::string::npos);
  EXPECT_EQ(planFromJson(json), plan);  // what a state file records, read back
}

TEST(Routing, BirdOspfWithTheLoopbacksAsStubs) {
  const Plan plan = planOf(R"({"routing": "ospf", "defaults": {"daemon": "bird"},
    "nodes": {"r1": {"kind": "router", "loopback": ["10.255.0.1", "fd00:255::1"]},
              "r2": {"kind": "router"}, "h1": {}},
    "links": [{"endpoints": ["r1", "r2"], "prefix": ["10.0.12.0/30", "fd00:12::/64"],
               "ospf": {"cost": 20}},
              {"endpoints": ["r1", "h1"], "prefix": "172.16.1.0/24"}]})");
  const Node& router = nodeOf(plan, "r1");
  ASSERT_EQ(router.files.size(), 1u);
  EXPECT_EQ(router.files[0].target, "/etc/bird/bird.conf");
  EXPECT_EQ(router.exec.back(), "mkdir -p /run/bird && /usr/sbin/bird -c /etc/bird/bird.conf");
  const std::string conf = router.files[0].content;
  EXPECT_NE(conf.find("router id 10.255.0.1;\n"), std::string::npos) << conf;
  EXPECT_NE(conf.find("protocol ospf v2 ospf4 {\n  ipv4 { import all; export none; };\n"
                      "  area 0.0.0.0 {\n    interface \"lo\" { stub yes; };\n"
                      "    interface \"eth0\" { type ptp; hello 1; dead 3; cost 20; };\n"
                      "    interface \"eth1\" { stub yes; };\n  };\n}\n"),
            std::string::npos)
      << conf;
  // lo has no link-local address, which BIRD's OSPFv3 needs.
  EXPECT_NE(conf.find("protocol ospf v3 ospf6 {\n  ipv6 { import all; export none; };\n"
                      "  area 0.0.0.0 {\n    stubnet fd00:255::1/128;\n"
                      "    interface \"eth0\" { type ptp; hello 1; dead 3; cost 20; };\n  };\n}\n"),
            std::string::npos)
      << conf;
}

TEST(Routing, BirdBgpSessions) {
  const Plan plan = planOf(std::string(kTwoAses).insert(1, R"("defaults": {"daemon": "bird"},)"));
  const std::string conf = fileOf(plan, "r2", "/etc/bird/bird.conf");
  EXPECT_NE(conf.find("template bgp neighbour {\n  local as 65002;\n"), std::string::npos) << conf;
  EXPECT_NE(
      conf.find("protocol bgp r1_1 from neighbour {\n  description \"r1\";\n"
                "  source address 10.0.12.2;\n  neighbor 10.0.12.1 as 65001;\n"
                "  ipv4 { import all; export where source = RTS_BGP || net ~ [ 10.255.0.2/32, "
                "10.0.12.0/30, 10.0.23.0/30, 10.255.0.3/32 ]; };\n}\n"),
      std::string::npos)
      << conf;
  EXPECT_NE(conf.find("protocol bgp r3_2 from neighbour {\n  description \"r3\";\n"
                      "  source address 10.255.0.2;\n  neighbor 10.255.0.3 as 65002;\n"
                      "  ipv4 { import all; export where source = RTS_BGP; next hop self; };\n}\n"),
            std::string::npos)
      << conf;
}

TEST(RoutingValidation, UnknownAsnFormats) {
  auto result = load(R"({"routing": "bgp",
    "nodes": {"r1": {"kind": "router", "asn": "AS65001"},
              "r2": {"kind": "router", "asn": 0},
              "r3": {"kind": "router", "asn": "1.70000"},
              "r4": {"kind": "router", "asn": true}}})");
  EXPECT_TRUE(hasDiagnostic(result, "unknown AS number format `AS65001`", "nodes.r1.asn", 2));
  EXPECT_TRUE(hasDiagnostic(result, "AS number 0 is reserved", "nodes.r2.asn", 3));
  EXPECT_TRUE(hasDiagnostic(result, "unknown AS number format `1.70000`", "nodes.r3.asn", 4));
  EXPECT_TRUE(hasDiagnostic(result, "expected an AS number", "nodes.r4.asn", 5));
}

TEST(RoutingValidation, BgpRouterWithoutAsn) {
  auto result = load(R"({"routing": "bgp",
    "nodes": {"r1": {"kind": "router"}}})");
  EXPECT_TRUE(hasDiagnostic(result, "router `r1` runs BGP but has no `asn`", "nodes.r1", 2));
}

TEST(RoutingValidation, EbgpSessionWithoutAnAddressFamily) {
  // The link's ends share no family: r1 has only IPv4 there, r2 only IPv6.
  auto result = load(R"({"routing": "bgp",
    "nodes": {"r1": {"kind": "router", "asn": 65001, "loopback": "10.255.0.1"},
              "r2": {"kind": "router", "asn": 65002, "loopback": "10.255.0.2"}},
    "links": [{"endpoints": [{"node": "r1", "addresses": ["10.0.12.1/30"]},
                             {"node": "r2", "addresses": ["fd00::2/64"]}]}]})");
  EXPECT_TRUE(hasDiagnostic(result, "no address family for the eBGP session between `r1` and `r2`",
                            "links[0]", 4))
      << dump(result);
}

TEST(RoutingValidation, IbgpSessionWithoutAnAddressFamily) {
  auto result = load(R"({"routing": "bgp",
    "nodes": {"r1": {"kind": "router", "asn": 65001, "loopback": "10.255.0.1"},
              "r2": {"kind": "router", "asn": 65001, "loopback": "fd00:255::2"}},
    "links": [{"endpoints": ["r1", "r2"], "prefix": "10.0.12.0/30"}]})");
  EXPECT_TRUE(hasDiagnostic(result, "no address family for the iBGP session between `r1` and `r2`",
                            "nodes.r1", 2))
      << dump(result);
}

TEST(RoutingValidation, OspfSettingsOnALinkWithoutOspf) {
  auto result = load(R"({"routing": "static",
    "nodes": {"r1": {"kind": "router"}, "r2": {"kind": "router"}},
    "links": [{"endpoints": ["r1", "r2"], "ospf": {"cost": 5}}]})");
  EXPECT_TRUE(hasDiagnostic(result, "no node on this link runs OSPF", "links[0].ospf", 3));
}

TEST(RoutingValidation, OspfSettingValues) {
  auto result = load(R"({"routing": "ospf", "nodes": {"r1": {"kind": "router"}},
    "links": [{"endpoints": ["r1", "r1"], "ospf": {"cost": 0, "area": "x", "pasive": true}}]})");
  EXPECT_TRUE(hasDiagnostic(result, "OSPF cost 0 is outside 1..65535", "links[0].ospf.cost", 2));
  EXPECT_TRUE(hasDiagnostic(result, "invalid OSPF area `x`", "links[0].ospf.area", 2));
  EXPECT_TRUE(hasDiagnostic(result, "unknown key `pasive`", "links[0].ospf.pasive", 2));
}

TEST(RoutingValidation, UnknownValues) {
  auto result = load(R"({
    "nodes": {"r3": {"kind": "router", "routing": "ospf", "daemon": "quagga"},
              "r4": {"kind": "router", "routing": "rip"}}})");
  EXPECT_TRUE(hasDiagnostic(result, "unknown routing daemon `quagga`", "nodes.r3.daemon", 2));
  EXPECT_TRUE(hasDiagnostic(result, "unknown routing `rip`", "nodes.r4.routing", 3));
}

TEST(RoutingValidation, SettingsThatCannotApply) {
  auto result = load(R"({
    "nodes": {"r1": {"kind": "router", "routing": "ospf", "asn": 65001, "loopback": "10.255.0.1"}}})");
  EXPECT_TRUE(
      hasDiagnostic(result, "router `r1` has an `asn` but does not run BGP", "nodes.r1.asn", 2));
  auto switched = load(R"({"nodes": {"s1": {"kind": "switch", "routing": "ospf"}}})");
  EXPECT_TRUE(hasDiagnostic(switched, "a switch has no routes", "nodes.s1.routing", 1));
}

TEST(RoutingValidation, ARouterNeedsAnIpv4RouterId) {
  auto result = load(R"({"routing": "ospf", "addressing": {"ipv4": false, "ipv6": true},
    "nodes": {"r1": {"kind": "router"}}})");
  EXPECT_TRUE(hasDiagnostic(
      result, "router `r1` has no IPv4 address for its OSPF and BGP router id", "nodes.r1", 2))
      << dump(result);
}

}  // namespace
}  // namespace netlab::topo
