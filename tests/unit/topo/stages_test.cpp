// Which validation stages run together: every problem that does not follow from another is
// reported in one run (issue 13), and a stage that needs an earlier one's result waits for it
// without reporting that problem's consequences.
#include <gtest/gtest.h>

#include "test_support.hpp"

namespace netlab::topo {
namespace {

using testing::dump;
using testing::errorCount;
using testing::find;
using testing::hasDiagnostic;
using testing::load;

TEST(Stages, ABadMtuDoesNotHideAnUnknownNodeInATest) {
  auto result = load(R"({
  "nodes": {"h1": {}, "h2": {}},
  "links": [{"endpoints": ["h1", "h2"], "mtu": 70000}],
  "tests": [
    {"node": "h1", "reach": "h9"}
  ]
})");
  EXPECT_TRUE(hasDiagnostic(result, "MTU 70000 is outside 1280..65535", "links[0].mtu", 3));
  EXPECT_EQ(find(result, "MTU 70000")->column, 48);
  EXPECT_TRUE(hasDiagnostic(result, "unknown node `h9`", "tests[0].reach", 5));
  EXPECT_EQ(find(result, "unknown node `h9`")->column, 29);
  EXPECT_EQ(errorCount(result), 2u) << dump(result);
}

TEST(Stages, TestNamesAreCheckedWhateverElseIsWrong) {
  // The unknown node in a link is a structural error: addressing waits, but the tests' names
  // are checked against the nodes anyway. The route test's `dev` names an interface of a link
  // that was left out, so it is not reported (it may well be right).
  auto result = load(R"({
  "nodes": {"h1": {}, "h2": {}, "s1": {"kind": "switch"}},
  "links": [["h1", "h2"], ["h1", "r9"], ["s1", "h2"]],
  "tests": [
    {"node": "h3", "command": "true"},
    {"node": "s1", "reach": "h2"},
    {"node": "h1", "route": "default", "dev": "eth1"}
  ]
})");
  EXPECT_TRUE(hasDiagnostic(result, "unknown node `r9`", "links[1][1]", 3));
  EXPECT_TRUE(hasDiagnostic(result, "unknown node `h3`", "tests[0].node", 5));
  EXPECT_TRUE(hasDiagnostic(result, "s1 is a switch", "tests[1].node", 6));
  EXPECT_EQ(errorCount(result), 3u) << dump(result);
}

TEST(Stages, ValueErrorsDoNotHoldAddressingBack) {
  auto result = load(R"({
  "nodes": {
    "a": {"sysctls": {"kernel.panic": 1}, "env": {"1X": "y"}},
    "b": {"hostname": "-b"}
  },
  "links": [
    {"endpoints": [{"node": "a", "out": {"delay": "forever"}}, "b"], "loss": 200},
    {"endpoints": [{"node": "a", "addresses": "10.0.0.1/24"},
                   {"node": "b", "addresses": "10.0.1.1/24"}]}
  ]
})");
  EXPECT_TRUE(
      hasDiagnostic(result, "would change the host", "nodes.a.sysctls[\"kernel.panic\"]", 3));
  EXPECT_TRUE(find(result, "`forever` is not a duration")) << dump(result);
  EXPECT_TRUE(find(result, "outside 0..100 percent")) << dump(result);
  // Found by addressing, which runs although the values above are wrong.
  EXPECT_TRUE(find(result, "10.0.1.1/24 is not in this L2 segment")) << dump(result);
  // The endpoint with a bad impairment is kept: no consequence is reported.
  EXPECT_FALSE(find(result, "at least 2 endpoints"));
  EXPECT_FALSE(find(result, "has no links", Severity::Warning));
}

TEST(Stages, ARepeatedMacDoesNotHideAnAddressingProblem) {
  auto result = load(R"({
  "nodes": {"a": {}, "b": {}},
  "links": [{"endpoints": [{"node": "a", "addresses": "10.0.0.1/24", "mac": "02:00:00:00:00:01"},
                           {"node": "b", "addresses": "10.0.1.1/24", "mac": "02:00:00:00:00:01"}],
             "reorder": "5%"}]
})");
  EXPECT_TRUE(
      hasDiagnostic(result, "MAC 02:00:00:00:00:01 is used twice", "links[0].endpoints[1].mac", 4));
  EXPECT_TRUE(hasDiagnostic(result, "reorder needs a delay", "links[0].reorder", 5));
  EXPECT_TRUE(hasDiagnostic(result, "10.0.1.1/24 is not in this L2 segment",
                            "links[0].endpoints[1].addresses", 4));
}

TEST(Stages, ReachTestsAreResolvedDespiteAWrongRoute) {
  auto result = load(R"({
  "nodes": {"h1": {"routes": [{"to": "10.9.0.0/16", "via": "192.0.2.1"}]}, "h2": {}},
  "links": [["h1", "h2"]],
  "tests": [{"node": "h1", "reach": "h2", "family": "ipv6"}]
})");
  EXPECT_TRUE(hasDiagnostic(result, "gateway 192.0.2.1 is not on a connected subnet",
                            "nodes.h1.routes[0]", 2));
  EXPECT_TRUE(hasDiagnostic(result, "h2 has no IPv6 address to reach", "tests[0].reach", 4));
}

TEST(Stages, AddressingWaitsForTheLinksItNumbers) {
  // The link with an unknown node is left out; numbering the rest would only report
  // consequences (a node without links, subnets that shift), so addressing does not run.
  auto result = load(R"({
  "nodes": {"a": {}, "b": {}},
  "links": [["a", "x"], {"endpoints": ["a", "b"], "prefix": "10.0.0.0/31"},
            {"endpoints": ["a", "b"], "prefix": "10.0.0.0/30"}]
})");
  EXPECT_TRUE(hasDiagnostic(result, "unknown node `x`", "links[0][1]", 3));
  EXPECT_EQ(errorCount(result), 1u) << dump(result);
}

}  // namespace
}  // namespace netlab::topo
