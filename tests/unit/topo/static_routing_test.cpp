// `"routing": "static"`: the routes computed for small labs, written out in full.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "test_support.hpp"

namespace netlab::topo {
namespace {

using testing::dump;
using testing::hasDiagnostic;
using testing::load;
using testing::nodeOf;
using Routes = std::vector<std::string>;

// "10.0.0.4/30 via 10.0.0.2 dev eth0", one per route, in plan order.
Routes routesOf(const Plan& plan, std::string_view node) {
  Routes routes;
  for (const Route& route : nodeOf(plan, node).routes) {
    std::string text = toString(route.destination);
    if (route.gateway) text += " via " + toString(*route.gateway);
    if (!route.device.empty()) text += " dev " + route.device;
    if (route.metric) text += fmt::format(" metric {}", *route.metric);
    routes.push_back(text);
  }
  return routes;
}

Plan planOf(std::string_view json) {
  auto result = load(json);
  EXPECT_TRUE(result.ok()) << dump(result);
  EXPECT_TRUE(result.diagnostics.empty()) << dump(result);
  return result.plan.value_or(Plan{});
}

TEST(StaticRouting, Triangle) {
  // Links 10.0.0.0/30 (r1-r2), 10.0.0.4/30 (r2-r3), 10.0.0.8/30 (r1-r3).
  const Plan plan = planOf(R"({"routing": "static",
    "nodes": {"r1": {"kind": "router"}, "r2": {"kind": "router"}, "r3": {"kind": "router"}},
    "links": [["r1", "r2"], ["r2", "r3"], ["r1", "r3"]]})");
  // r2-r3 is two hops away either way: the tie goes to r1's first interface.
  EXPECT_EQ(routesOf(plan, "r1"),
            (Routes{"10.0.0.4/30 via 10.0.0.2 dev eth0", "10.255.0.2/32 via 10.0.0.2 dev eth0",
                    "10.255.0.3/32 via 10.0.0.10 dev eth1"}));
  EXPECT_EQ(routesOf(plan, "r2"),
            (Routes{"10.0.0.8/30 via 10.0.0.1 dev eth0", "10.255.0.1/32 via 10.0.0.1 dev eth0",
                    "10.255.0.3/32 via 10.0.0.6 dev eth1"}));
  EXPECT_EQ(routesOf(plan, "r3"),
            (Routes{"10.0.0.0/30 via 10.0.0.5 dev eth0", "10.255.0.1/32 via 10.0.0.9 dev eth1",
                    "10.255.0.2/32 via 10.0.0.5 dev eth0"}));
}

TEST(StaticRouting, ChainOfRoutersWithHostsAtBothEnds) {
  // h1 -10.0.0.0/30- r1 -.4/30- r2 -.8/30- r3 -.12/30- h2
  const Plan plan = planOf(R"({"routing": "static",
    "nodes": {"h1": {}, "r1": {"kind": "router"}, "r2": {"kind": "router"},
              "r3": {"kind": "router"}, "h2": {}},
    "links": [["h1", "r1"], ["r1", "r2"], ["r2", "r3"], ["r3", "h2"]]})");
  EXPECT_EQ(routesOf(plan, "h1"), (Routes{"0.0.0.0/0 via 10.0.0.2 dev eth0"}));
  EXPECT_EQ(routesOf(plan, "h2"), (Routes{"0.0.0.0/0 via 10.0.0.13 dev eth0"}));
  EXPECT_EQ(routesOf(plan, "r1"),
            (Routes{"10.0.0.8/30 via 10.0.0.6 dev eth1", "10.0.0.12/30 via 10.0.0.6 dev eth1",
                    "10.255.0.2/32 via 10.0.0.6 dev eth1", "10.255.0.3/32 via 10.0.0.6 dev eth1"}));
  EXPECT_EQ(
      routesOf(plan, "r2"),
      (Routes{"10.0.0.0/30 via 10.0.0.5 dev eth0", "10.0.0.12/30 via 10.0.0.10 dev eth1",
              "10.255.0.1/32 via 10.0.0.5 dev eth0", "10.255.0.3/32 via 10.0.0.10 dev eth1"}));
  EXPECT_EQ(routesOf(plan, "r3"),
            (Routes{"10.0.0.0/30 via 10.0.0.9 dev eth0", "10.0.0.4/30 via 10.0.0.9 dev eth0",
                    "10.255.0.1/32 via 10.0.0.9 dev eth0", "10.255.0.2/32 via 10.0.0.9 dev eth0"}));
}

TEST(StaticRouting, DualStack) {
  const Plan plan = planOf(R"({"routing": "static", "addressing": {"ipv6": true},
    "nodes": {"h1": {}, "r1": {"kind": "router"}, "r2": {"kind": "router"}, "h2": {}},
    "links": [{"endpoints": ["h1", "r1"], "prefix": ["10.1.0.0/24", "fd00:1::/64"]},
              {"endpoints": ["r1", "r2"], "prefix": ["10.0.0.0/30", "fd00::/64"]},
              {"endpoints": ["r2", "h2"], "prefix": ["10.2.0.0/24", "fd00:2::/64"]}]})");
  EXPECT_EQ(routesOf(plan, "h1"),
            (Routes{"0.0.0.0/0 via 10.1.0.2 dev eth0", "::/0 via fd00:1::2 dev eth0"}));
  EXPECT_EQ(routesOf(plan, "r1"),
            (Routes{"10.2.0.0/24 via 10.0.0.2 dev eth1", "10.255.0.2/32 via 10.0.0.2 dev eth1",
                    "fd00:2::/64 via fd00::2 dev eth1", "fd00:ff::2/128 via fd00::2 dev eth1"}));
  EXPECT_EQ(routesOf(plan, "h2"),
            (Routes{"0.0.0.0/0 via 10.2.0.1 dev eth0", "::/0 via fd00:2::1 dev eth0"}));
}

TEST(StaticRouting, LanWithTwoRouters) {
  // The LAN 10.1.0.0/24: r1 .1, r2 .2, h1 .3, h2 .4. Behind r1: h3; behind r2: h4.
  const Plan plan = planOf(R"({"routing": "static",
    "nodes": {"r1": {"kind": "router", "loopback": false}, "r2": {"kind": "router", "loopback": false},
              "h1": {}, "h2": {}, "h3": {}, "h4": {}},
    "links": [{"endpoints": ["r1", "r2", "h1", "h2"], "prefix": "10.1.0.0/24"},
              {"endpoints": ["r1", "h3"], "prefix": "10.3.0.0/24"},
              {"endpoints": ["r2", "h4"], "prefix": "10.4.0.0/24"}]})");
  // Hosts take the LAN's first router; r1 sends what belongs behind r2 back over the LAN.
  EXPECT_EQ(routesOf(plan, "h1"), (Routes{"0.0.0.0/0 via 10.1.0.1 dev eth0"}));
  EXPECT_EQ(routesOf(plan, "h2"), (Routes{"0.0.0.0/0 via 10.1.0.1 dev eth0"}));
  EXPECT_EQ(routesOf(plan, "r1"), (Routes{"10.4.0.0/24 via 10.1.0.2 dev eth0"}));
  EXPECT_EQ(routesOf(plan, "r2"), (Routes{"10.3.0.0/24 via 10.1.0.1 dev eth0"}));
  EXPECT_EQ(routesOf(plan, "h4"), (Routes{"0.0.0.0/0 via 10.4.0.1 dev eth0"}));
}

TEST(StaticRouting, SwitchesAreTransparent) {
  const Plan plan = planOf(R"({"routing": "static",
    "nodes": {"sw": {"kind": "switch"}, "h1": {}, "r1": {"kind": "router", "loopback": false},
              "r2": {"kind": "router", "loopback": false}, "h2": {}},
    "links": [["h1", "sw"], ["sw", "r1"], ["r1", "r2"], ["r2", "h2"]]})");
  // h1 and r1 are the only members of the switch's segment: a p2p subnet.
  EXPECT_EQ(routesOf(plan, "h1"), (Routes{"0.0.0.0/0 via 10.0.0.2 dev eth0"}));
  EXPECT_EQ(routesOf(plan, "r2"), (Routes{"10.0.0.0/30 via 10.0.0.5 dev eth0"}));
  EXPECT_TRUE(nodeOf(plan, "sw").routes.empty());
}

TEST(StaticRouting, WrittenRoutesWin) {
  const Plan plan = planOf(R"({"routing": "static",
    "nodes": {"h1": {"routes": [{"to": "default", "via": "10.0.0.2", "metric": 5}]},
              "r1": {"kind": "router", "loopback": false,
                     "routes": [{"to": "10.0.0.8/30", "via": "10.0.0.6", "metric": 20}]},
              "r2": {"kind": "router", "loopback": false}, "h2": {}},
    "links": [["h1", "r1"], ["r1", "r2"], ["r2", "h2"]]})");
  EXPECT_EQ(routesOf(plan, "h1"), (Routes{"0.0.0.0/0 via 10.0.0.2 metric 5"}));
  EXPECT_EQ(routesOf(plan, "r1"), (Routes{"10.0.0.8/30 via 10.0.0.6 metric 20"}));
}

TEST(StaticRouting, NodesChooseTheirOwnRouting) {
  // The lab routes statically, except r2; r2 still forwards (on its own routes).
  const Plan plan = planOf(R"({"routing": "static",
    "defaults": {"kinds": {"host": {"routing": "none"}}},
    "nodes": {"h1": {"routing": "static"}, "r1": {"kind": "router", "loopback": false},
              "r2": {"kind": "router", "loopback": false, "routing": "none"},
              "r3": {"kind": "router", "loopback": false}, "h2": {}},
    "links": [["h1", "r1"], ["r1", "r2"], ["r2", "r3"], ["r3", "h2"]]})");
  EXPECT_EQ(routesOf(plan, "h1"), (Routes{"0.0.0.0/0 via 10.0.0.2 dev eth0"}));
  EXPECT_EQ(routesOf(plan, "r1"),
            (Routes{"10.0.0.8/30 via 10.0.0.6 dev eth1", "10.0.0.12/30 via 10.0.0.6 dev eth1"}));
  EXPECT_TRUE(routesOf(plan, "r2").empty());
  EXPECT_TRUE(routesOf(plan, "h2").empty());
}

TEST(StaticRouting, OffByDefaultAndWithoutRoutersNothingToDo) {
  const Plan plain = planOf(R"({"nodes": {"r1": {"kind": "router"}, "r2": {"kind": "router"},
    "r3": {"kind": "router"}}, "links": [["r1", "r2"], ["r2", "r3"]]})");
  EXPECT_TRUE(routesOf(plain, "r1").empty());
  // Hosts do not forward: h2 is no way to h3's link, and h1 has no router to default to.
  const Plan hosts = planOf(R"({"routing": "static",
    "nodes": {"h1": {}, "h2": {}, "h3": {}}, "links": [["h1", "h2"], ["h2", "h3"]]})");
  EXPECT_TRUE(routesOf(hosts, "h1").empty());
  EXPECT_TRUE(routesOf(hosts, "h2").empty());
}

TEST(StaticRouting, Errors) {
  auto result = load(R"({"routing": "statc",
    "nodes": {"sw": {"kind": "switch", "routing": "static"}, "a": {"routing": 1}}})");
  EXPECT_TRUE(hasDiagnostic(result, "unknown routing `statc`", "routing", 1));
  EXPECT_EQ(testing::find(result, "statc")->hint, "did you mean `static`?");
  EXPECT_TRUE(
      hasDiagnostic(result, "a switch has no routes, static or other", "nodes.sw.routing", 2));
  EXPECT_TRUE(hasDiagnostic(result, "expected a string, found", "nodes.a.routing", 2));
}

TEST(StaticRouting, RefusesToWriteMillionsOfRoutes) {
  std::string nodes;
  std::string links;
  for (int i = 0; i < 1500; ++i) {
    nodes += fmt::format("{}\"n{}\": {{\"kind\": \"router\"}}", i ? ", " : "", i);
    if (i > 0) links += fmt::format("{}[\"n{}\", \"n{}\"]", i > 1 ? ", " : "", i - 1, i);
  }
  auto result =
      load(fmt::format(R"({{"routing": "static", "nodes": {{{}}}, "links": [{}]}})", nodes, links));
  EXPECT_TRUE(
      hasDiagnostic(result, "static routing would write up to 4498500 routes", "routing", 1));
}

}  // namespace
}  // namespace netlab::topo
