// The `tests` section: each kind of check as it lands in the Plan, its description, and the
// diagnostics of bad checks.
#include <gtest/gtest.h>

#include "test_support.hpp"
#include "topo/checks.hpp"
#include "topo/plan_json.hpp"
#include "topo/plan_table.hpp"

namespace netlab::topo {
namespace {

using testing::dump;
using testing::hasDiagnostic;
using testing::load;

// r1 between h1 (10.0.0.0/30) and h2 (10.0.0.4/30), with IPv6 as well.
constexpr std::string_view kLab = R"({"addressing": {"ipv6": true}, "routing": "static",
  "nodes": {"h1": {}, "r1": {"kind": "router"}, "h2": {}},
  "links": [["h1", "r1"], ["r1", "h2"]],
  "tests": %s})";

LoadResult loadWithTests(std::string_view tests) {
  std::string json(kLab);
  json.replace(json.find("%s"), 2, tests);
  return load(json);
}

std::vector<Check> checksOf(std::string_view tests) {
  auto result = loadWithTests(tests);
  EXPECT_TRUE(result.ok()) << dump(result);
  return result.plan ? result.plan->checks : std::vector<Check>{};
}

TEST(Checks, ReachANodeMeansEachOfItsAddresses) {
  const auto checks = checksOf(R"([
    {"node": "h1", "reach": "h2"},
    {"name": "r1 over IPv6", "node": "h1", "reach": "r1", "family": "ipv6", "count": 3,
     "timeout": "30s"},
    {"node": "h2", "reach": "192.0.2.1", "timeout": 0}])");
  ASSERT_EQ(checks.size(), 3u);
  const auto& toH2 = std::get<ReachCheck>(checks[0].condition);
  EXPECT_EQ(checks[0].node, "h1");
  EXPECT_EQ(checks[0].timeoutMs, kDefaultCheckTimeoutMs);
  EXPECT_EQ(toH2.targetNode, "h2");
  ASSERT_EQ(toH2.addresses.size(), 2u);
  EXPECT_EQ(toString(toH2.addresses[0]), "10.0.0.6");
  EXPECT_EQ(toString(toH2.addresses[1]), "fd00:10:0:1::2");
  EXPECT_EQ(toH2.count, 1u);
  // Interfaces first, then loopbacks.
  const auto& toR1 = std::get<ReachCheck>(checks[1].condition);
  std::vector<std::string> addresses;
  for (const auto& address : toR1.addresses) addresses.push_back(toString(address));
  EXPECT_EQ(addresses, (std::vector<std::string>{"fd00:10::2", "fd00:10:0:1::1", "fd00:ff::1"}));
  EXPECT_EQ(toR1.count, 3u);
  EXPECT_EQ(checks[1].timeoutMs, 30'000u);
  const auto& toAddress = std::get<ReachCheck>(checks[2].condition);
  EXPECT_TRUE(toAddress.targetNode.empty());
  EXPECT_EQ(toString(toAddress.addresses.at(0)), "192.0.2.1");
  EXPECT_EQ(checks[2].timeoutMs, 0u);

  EXPECT_EQ(describe(checks[0]), "h1 reaches h2");
  EXPECT_EQ(describe(checks[1]), "h1 reaches r1 over IPv6");
  EXPECT_EQ(label(checks[1]), "r1 over IPv6");
  EXPECT_EQ(label(checks[2]), "h2 reaches 192.0.2.1");
}

TEST(Checks, RouteInANodesTable) {
  const auto checks = checksOf(R"([
    {"node": "r1", "route": "10.255.0.0/16", "via": "10.0.0.1", "dev": "eth0"},
    {"node": "h1", "route": "default", "via": "fd00:10::2"},
    {"node": "h1", "route": "default", "timeout": "1.5s"}])");
  ASSERT_EQ(checks.size(), 3u);
  const auto& full = std::get<RouteCheck>(checks[0].condition);
  EXPECT_EQ(toString(full.destination), "10.255.0.0/16");
  EXPECT_EQ(toString(*full.gateway), "10.0.0.1");
  EXPECT_EQ(full.device, "eth0");
  EXPECT_EQ(toString(std::get<RouteCheck>(checks[1].condition).destination), "::/0");
  EXPECT_EQ(toString(std::get<RouteCheck>(checks[2].condition).destination), "0.0.0.0/0");
  EXPECT_EQ(checks[2].timeoutMs, 1500u);
  EXPECT_EQ(describe(checks[0]), "r1 has a route to 10.255.0.0/16 via 10.0.0.1 dev eth0");
  EXPECT_EQ(describe(checks[2]), "h1 has a route to 0.0.0.0/0");
}

TEST(Checks, CommandOutputMatchesAPattern) {
  const auto good = checksOf(R"([
    {"node": "r1", "command": "ip -6 route", "match": "^default via \\S+"},
    {"node": "h1", "command": "test -e /nothing", "status": 1}])");
  ASSERT_EQ(good.size(), 2u);
  const auto& route = std::get<CommandCheck>(good[0].condition);
  EXPECT_EQ(route.command, "ip -6 route");
  EXPECT_EQ(route.exitStatus, 0);
  // `^` matches at every line's start.
  EXPECT_TRUE(outputMatches(route, "fd00::/64 dev eth0\ndefault via fd00::1 dev eth0\n"));
  EXPECT_FALSE(outputMatches(route, "fd00::/64 dev eth0 default via\n"));
  EXPECT_TRUE(outputMatches(std::get<CommandCheck>(good[1].condition), "anything"));
  EXPECT_EQ(describe(good[0]), "r1: `ip -6 route` succeeds and matches /^default via \\S+/");
  EXPECT_EQ(describe(good[1]), "h1: `test -e /nothing` exits with 1");
}

TEST(Checks, UnknownNodesAndInterfaces) {
  auto result = loadWithTests(R"([
    {"node": "h3", "reach": "h2"},
    {"node": "h1", "reach": "r2"},
    {"node": "r1", "route": "default", "dev": "eth7"}])");
  EXPECT_TRUE(hasDiagnostic(result, "unknown node `h3`", "tests[0].node", 5));
  EXPECT_TRUE(hasDiagnostic(result, "unknown node `r2`", "tests[1].reach", 6));
  EXPECT_EQ(testing::find(result, "`r2`")->hint, "did you mean `r1`?");
  EXPECT_TRUE(hasDiagnostic(result, "r1 has no interface `eth7`", "tests[2].dev", 7));
}

TEST(Checks, TheKindComesFromOneKey) {
  auto result = loadWithTests(R"([
    {"node": "h1"},
    {"node": "h1", "reach": "h2", "route": "default"},
    {"node": "h1", "reach": "h2", "via": "10.0.0.2", "status": 0},
    {"reach": "h2"},
    {"node": "h1", "reach": "h2", "colour": 1}])");
  EXPECT_TRUE(
      hasDiagnostic(result, "a test needs `reach`, `route`, `command` or `path`", "tests[0]", 5));
  EXPECT_TRUE(hasDiagnostic(result, "a test has only one of", "tests[1]", 6));
  EXPECT_TRUE(hasDiagnostic(result, "`via` belongs to a route test, not to a reach test",
                            "tests[2].via", 7));
  EXPECT_TRUE(hasDiagnostic(result, "`status` belongs to a command test", "tests[2].status", 7));
  EXPECT_TRUE(hasDiagnostic(result, "a test needs `node`", "tests[3]", 8));
  EXPECT_TRUE(hasDiagnostic(result, "unknown key `colour`", "tests[4].colour", 9));
}

TEST(Checks, BadValues) {
  auto result = loadWithTests(R"([
    {"node": "h1", "command": "x", "match": "(unclosed"},
    {"node": "h1", "reach": "10.0.0.300"},
    {"node": "h1", "reach": "h2", "family": "ipx", "count": 0},
    {"node": "h1", "reach": "h2", "timeout": "2h"},
    {"node": "h1", "reach": "h2", "timeout": "3601s"},
    {"node": "h1", "route": "10.0.0.1/24"},
    {"node": "h1", "route": "10.0.0.0/24", "via": "fd00::1"},
    {"node": "h1", "command": "", "status": 256},
    "h1 reaches h2"])");
  EXPECT_TRUE(
      hasDiagnostic(result, "`(unclosed` is not a regular expression", "tests[0].match", 5));
  EXPECT_TRUE(hasDiagnostic(result, "`10.0.0.300` is not an IP address", "tests[1].reach", 6));
  EXPECT_TRUE(hasDiagnostic(result, "unknown address family `ipx`", "tests[2].family", 7));
  EXPECT_TRUE(hasDiagnostic(result, "count 0 is outside 1..100", "tests[2].count", 7));
  EXPECT_TRUE(hasDiagnostic(result, "unknown unit `h` in `2h`", "tests[3].timeout", 8));
  EXPECT_TRUE(hasDiagnostic(result, "`3601s` is longer than 3600s", "tests[4].timeout", 9));
  EXPECT_TRUE(hasDiagnostic(result, "host bits set", "tests[5].route", 10));
  EXPECT_TRUE(hasDiagnostic(result, "of different address families", "tests[6]", 11));
  EXPECT_TRUE(hasDiagnostic(result, "a command cannot be empty", "tests[7].command", 12));
  EXPECT_TRUE(hasDiagnostic(result, "exit status 256 is outside 0..255", "tests[7].status", 12));
  EXPECT_TRUE(hasDiagnostic(result, "expected an object, found a string", "tests[8]", 13));
}

TEST(Checks, SwitchesHaveNoAddresses) {
  auto result = load(R"({"nodes": {"a": {}, "b": {}, "c": {}}, "links": [["a", "b", "c"]],
    "tests": [{"node": "a", "reach": "lan0"}, {"node": "lan0", "route": "default", "dev": "eth0"},
              {"node": "lan0", "command": "bridge link"}]})");
  EXPECT_TRUE(
      hasDiagnostic(result, "lan0 is a switch: it has no address to reach", "tests[0].reach", 2));
  EXPECT_TRUE(
      hasDiagnostic(result, "lan0 is a switch: it has no routes to check", "tests[1].node", 2));
  EXPECT_EQ(testing::errorCount(result), 2u) << dump(result);
}

TEST(Checks, ReachNeedsAnAddressOfTheFamily) {
  auto result = load(R"({"nodes": {"a": {}, "b": {}}, "links": [["a", "b"]],
    "tests": [{"node": "a", "reach": "b", "family": "ipv6"}]})");
  EXPECT_TRUE(hasDiagnostic(result, "b has no IPv6 address to reach", "tests[0].reach", 2));
}

TEST(Checks, ReachALoopbackOnly) {
  const auto checks = checksOf(R"([
    {"node": "h1", "reach": "r1", "addresses": "loopback"},
    {"node": "h1", "reach": "r1", "addresses": "loopback", "family": "ipv4"},
    {"node": "h1", "reach": "r1", "addresses": "all"}])");
  ASSERT_EQ(checks.size(), 3u);
  auto addressesOf = [](const Check& check) {
    std::vector<std::string> addresses;
    for (const auto& address : std::get<ReachCheck>(check.condition).addresses) {
      addresses.push_back(toString(address));
    }
    return addresses;
  };
  EXPECT_EQ(addressesOf(checks[0]), (std::vector<std::string>{"10.255.0.1", "fd00:ff::1"}));
  EXPECT_EQ(addressesOf(checks[1]), (std::vector<std::string>{"10.255.0.1"}));
  EXPECT_EQ(addressesOf(checks[2]).size(), 6u);
  EXPECT_EQ(describe(checks[0]), "h1 reaches r1's loopbacks");
  EXPECT_EQ(describe(checks[1]), "h1 reaches r1's loopbacks over IPv4");

  auto result = loadWithTests(R"([
    {"node": "h1", "reach": "h2", "addresses": "loopback"},
    {"node": "h1", "reach": "10.0.0.6", "addresses": "loopback"},
    {"node": "h1", "reach": "r1", "addresses": "lo"},
    {"node": "r1", "route": "default", "addresses": "loopback"}])");
  EXPECT_TRUE(hasDiagnostic(result, "h2 has no loopback address to reach", "tests[0].reach", 5));
  EXPECT_TRUE(hasDiagnostic(result, "`addresses` chooses among a node's addresses",
                            "tests[1].addresses", 6));
  EXPECT_TRUE(hasDiagnostic(result, "unknown addresses `lo`", "tests[2].addresses", 7));
  EXPECT_TRUE(hasDiagnostic(result, "`addresses` belongs to a reach test, not to a route test",
                            "tests[3].addresses", 8));
}

TEST(Checks, APathEndsAtItsDestination) {
  const auto checks = checksOf(R"([
    {"node": "h1", "path": ["r1", "h2"], "to": "h2"},
    {"node": "h1", "path": ["r1"], "to": "r1", "family": "ipv6"},
    {"node": "h2", "path": ["r1", "h1"], "to": "10.0.0.1"}])");
  ASSERT_EQ(checks.size(), 3u);
  const auto& toH2 = std::get<PathCheck>(checks[0].condition);
  EXPECT_EQ(toH2.nodes, (std::vector<std::string>{"r1", "h2"}));
  // One address per family: h2 has no loopback, so its first interface address of each.
  ASSERT_EQ(toH2.addresses.size(), 2u);
  EXPECT_EQ(toString(toH2.addresses[0]), "10.0.0.6");
  EXPECT_EQ(toString(toH2.addresses[1]), "fd00:10:0:1::2");
  // A router's loopback is its address.
  const auto& toR1 = std::get<PathCheck>(checks[1].condition);
  ASSERT_EQ(toR1.addresses.size(), 1u);
  EXPECT_EQ(toString(toR1.addresses[0]), "fd00:ff::1");
  EXPECT_EQ(describe(checks[0]), "h1 → r1 → h2");
  EXPECT_EQ(describe(checks[1]), "h1 → r1 over IPv6");
  EXPECT_EQ(describe(checks[2]), "h2 → r1 → h1 (to 10.0.0.1)");

  auto result = loadWithTests(R"([
    {"node": "h1", "path": ["r1", "h2"]},
    {"node": "h1", "path": ["r1", "h1"], "to": "h2"},
    {"node": "h1", "path": ["r9", "h2"], "to": "h2"},
    {"node": "h1", "path": [], "to": "h2"},
    {"node": "h1", "path": ["r1", "h2"], "to": "h2", "count": 3},
    {"node": "h1", "reach": "h2", "to": "h2"}])");
  EXPECT_TRUE(hasDiagnostic(result, "a path test needs `to`: the node or address it traces",
                            "tests[0]", 5));
  EXPECT_TRUE(hasDiagnostic(result, "a path to h2 ends at h2, not at `h1`", "tests[1].path[1]", 6));
  EXPECT_TRUE(hasDiagnostic(result, "unknown node `r9`", "tests[2].path[0]", 7));
  EXPECT_TRUE(hasDiagnostic(result, "a path names at least the destination", "tests[3].path", 8));
  EXPECT_TRUE(hasDiagnostic(result, "`count` belongs to a reach test, not to a path test",
                            "tests[4].count", 9));
  EXPECT_TRUE(
      hasDiagnostic(result, "`to` belongs to a path test, not to a reach test", "tests[5].to", 10));
}

TEST(Checks, RoundTripThroughThePlanJson) {
  auto result = loadWithTests(R"([
    {"node": "h1", "reach": "h2", "family": "ipv4", "count": 2},
    {"node": "h1", "reach": "fd00::99"},
    {"name": "default", "node": "h1", "route": "default", "via": "10.0.0.2", "dev": "eth0"},
    {"node": "r1", "route": "10.0.0.4/30"},
    {"node": "r1", "command": "cat /etc/hostname", "match": "r1", "status": 0, "timeout": "1m"}])");
  EXPECT_FALSE(result.ok());
  EXPECT_TRUE(hasDiagnostic(result, "unknown unit `m` in `1m`", "tests[4].timeout", 9));
  result = loadWithTests(R"([
    {"node": "h1", "reach": "h2", "family": "ipv4", "count": 2},
    {"node": "h1", "reach": "fd00::99"},
    {"node": "h1", "reach": "r1", "addresses": "loopback"},
    {"node": "h1", "path": ["r1", "h2"], "to": "h2", "family": "ipv4"},
    {"name": "default", "node": "h1", "route": "default", "via": "10.0.0.2", "dev": "eth0"},
    {"node": "r1", "route": "10.0.0.4/30"},
    {"node": "r1", "command": "cat /etc/hostname", "match": "r1", "status": 3, "timeout": 60}])");
  ASSERT_TRUE(result.ok()) << dump(result);
  const Plan& plan = *result.plan;
  ASSERT_EQ(plan.checks.size(), 7u);
  const std::string json = planToJson(plan);
  EXPECT_NE(json.find("\"timeout_ms\": 60000"), std::string::npos);
  EXPECT_EQ(planFromJson(json), plan);
}

TEST(Checks, ThePlanTableListsThem) {
  auto result = loadWithTests(R"([{"node": "h1", "reach": "h2", "timeout": 0},
                                  {"name": "routed", "node": "h1", "route": "default"}])");
  ASSERT_TRUE(result.ok()) << dump(result);
  const std::string table = renderPlanTable(*result.plan);
  EXPECT_NE(table.find("\ntests:\n  h1 reaches h2 (one try)\n  routed (within 5s)\n"),
            std::string::npos)
      << table;
}

}  // namespace
}  // namespace netlab::topo
