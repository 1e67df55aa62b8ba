#include "topo/plan_diff.hpp"

#include <gtest/gtest.h>

#include "test_support.hpp"

namespace netlab::topo {
namespace {

Plan planOf(std::string_view json) {
  auto result = testing::load(json);
  EXPECT_TRUE(result.ok()) << testing::dump(result);
  return result.plan.value_or(Plan{});
}

// A LAN of r1, h1 and h2 (a switch made for it) and a link r1 -- r2, as examples/lan.json has.
constexpr const char* kLan = R"({"name": "lab", "nodes": {
    "r1": {"kind": "router"}, "r2": {"kind": "router"},
    "h1": {"routes": [{"to": "default", "via": "172.16.1.1"}]},
    "h2": {"routes": [{"to": "default", "via": "172.16.1.1"}]}},
  "links": [{"endpoints": ["r1", "h1", "h2"], "prefix": "172.16.1.0/24"},
            {"endpoints": ["r1", "r2"], "prefix": "10.0.0.0/30", "delay": "10ms"}]})";

std::string withText(std::string text, std::string_view from, std::string_view to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

TEST(PlanDiff, TheSamePlanDiffersInNothing) {
  const PlanDiff diff = diffPlans(planOf(kLan), planOf(kLan));
  EXPECT_TRUE(diff.empty());
  EXPECT_TRUE(describePlanDiff(diff).empty());
  EXPECT_TRUE(planDiffToJson(diff)["empty"].get<bool>());
}

TEST(PlanDiff, AHostAddedToALanIsANodeAndItsLinkOnly) {
  const std::string edited =
      withText(withText(kLan, R"("r1", "h1", "h2")", R"("r1", "h1", "h2", "h3")"), R"("h1": {)",
               R"("h3": {}, "h1": {)");
  const Plan running = planOf(kLan);
  const Plan after = planOf(edited);
  const PlanDiff diff = diffPlans(running, after);
  EXPECT_EQ(diff.addedNodes, std::vector<std::string>{"h3"});
  ASSERT_EQ(diff.addedLinks.size(), 1u) << testing::dump(testing::load(edited));
  const LinkName& link = diff.addedLinks.front();
  EXPECT_TRUE(link.first.node == "h3" || link.second.node == "h3") << toString(link);
  // The switch gained a port, r1 and h1 kept everything: no node is restarted.
  EXPECT_TRUE(diff.changedNodes.empty()) << describePlanDiff(diff).front();
  EXPECT_TRUE(diff.removedNodes.empty());
  EXPECT_TRUE(diff.removedLinks.empty());
  EXPECT_EQ(describePlanDiff(diff).front(), "+ node h3");
}

TEST(PlanDiff, ARemovedLinkTakesNoNodeWithIt) {
  const std::string edited = withText(kLan, R"(,
            {"endpoints": ["r1", "r2"], "prefix": "10.0.0.0/30", "delay": "10ms"})",
                                      "");
  const PlanDiff diff = diffPlans(planOf(kLan), planOf(edited));
  ASSERT_EQ(diff.removedLinks.size(), 1u);
  EXPECT_EQ(toString(diff.removedLinks.front()), "r1:eth1 -- r2:eth0");
  EXPECT_TRUE(diff.removedNodes.empty());
  EXPECT_TRUE(diff.changedNodes.empty());
  EXPECT_EQ(describePlanDiff(diff), std::vector<std::string>{"- link r1:eth1 -- r2:eth0"});
}

TEST(PlanDiff, ARemovedNodeTakesItsLinks) {
  // The last host of a LAN of four: the others keep their ports and addresses.
  const std::string running =
      withText(withText(kLan, R"(["r1", "h1", "h2"])", R"(["r1", "h1", "h2", "h3"])"), R"("h1": {)",
               R"("h3": {}, "h1": {)");
  const std::string edited = withText(withText(running, R"(, "h3"])", "]"), R"("h3": {}, )", "");
  const PlanDiff diff = diffPlans(planOf(running), planOf(edited));
  EXPECT_EQ(diff.removedNodes, std::vector<std::string>{"h3"});
  ASSERT_EQ(diff.removedLinks.size(), 1u) << ::testing::PrintToString(describePlanDiff(diff));
  EXPECT_EQ(toString(diff.removedLinks.front()), "h3:eth0 -- lan0:eth3");
  EXPECT_EQ(describePlanDiff(diff),
            (std::vector<std::string>{"- link h3:eth0 -- lan0:eth3", "- node h3"}));
}

TEST(PlanDiff, AnImpairmentChangesInPlace) {
  const PlanDiff diff =
      diffPlans(planOf(kLan), planOf(withText(kLan, R"("delay": "10ms")", R"("delay": "20ms")")));
  ASSERT_EQ(diff.impairmentChanges.size(), 2u);  // each end's egress
  EXPECT_TRUE(diff.changedNodes.empty());
  EXPECT_TRUE(diff.addedLinks.empty());
  EXPECT_EQ(describePlanDiff(diff).front(),
            "~ link r1:eth1 -- r2:eth0 impairment r1:eth1 delay 10ms -> delay 20ms");
  const Json json = planDiffToJson(diff);
  EXPECT_EQ(json["impairment_changes"][0]["before"]["delay_us"], 10000);
  EXPECT_EQ(json["impairment_changes"][0]["after"]["delay_us"], 20000);
}

TEST(PlanDiff, AnImpairmentRemovedReadsNone) {
  const PlanDiff diff = diffPlans(planOf(kLan), planOf(withText(kLan, R"(, "delay": "10ms")", "")));
  ASSERT_EQ(diff.impairmentChanges.size(), 2u);
  EXPECT_EQ(describePlanDiff(diff).back(),
            "~ link r1:eth1 -- r2:eth0 impairment r2:eth0 delay 10ms -> none");
}

TEST(PlanDiff, ANodesOwnChangesRestartIt) {
  std::string edited =
      withText(kLan, R"("r1": {"kind": "router"})",
               R"("r1": {"kind": "router", "exec": ["true"], "sysctls": {"net.ipv4.tcp_ecn": "1"},
                         "routes": [{"to": "10.9.0.0/16", "via": "10.0.0.2"}]})");
  // A new prefix for the LAN: every address on it changes, and the hosts' gateway with it.
  for (size_t at; (at = edited.find("172.16.1.")) != std::string::npos;) {
    edited.replace(at, 9, "172.16.7.");
  }
  const PlanDiff diff = diffPlans(planOf(kLan), planOf(edited));
  ASSERT_EQ(diff.changedNodes.size(), 3u) << ::testing::PrintToString(describePlanDiff(diff));
  EXPECT_EQ(diff.changedNodes[0],
            (NodeChange{"r1", {"addresses", "routes", "sysctls", "startup commands"}}));
  EXPECT_EQ(diff.changedNodes[1], (NodeChange{"h1", {"addresses", "routes"}}));
  EXPECT_EQ(describePlanDiff(diff).front(),
            "~ node r1 (addresses, routes, sysctls, startup commands)");
  EXPECT_TRUE(diff.addedLinks.empty());
  EXPECT_TRUE(diff.removedLinks.empty());
}

TEST(PlanDiff, AKindChangeReplacesTheNodeAndItsLinks) {
  const PlanDiff diff =
      diffPlans(planOf(kLan),
                planOf(withText(kLan, R"("r2": {"kind": "router"})", R"("r2": {"kind": "host"})")));
  EXPECT_EQ(diff.removedNodes, std::vector<std::string>{"r2"});
  EXPECT_EQ(diff.addedNodes, std::vector<std::string>{"r2"});
  EXPECT_EQ(diff.removedLinks.size(), 1u);
  EXPECT_EQ(diff.addedLinks.size(), 1u);
  EXPECT_TRUE(diff.impairmentChanges.empty());
}

TEST(PlanDiff, ANewMtuMakesTheLinkAgain) {
  const PlanDiff diff =
      diffPlans(planOf(kLan),
                planOf(withText(kLan, R"("delay": "10ms")", R"("delay": "10ms", "mtu": 9000)")));
  EXPECT_EQ(diff.removedLinks.size(), 1u);
  EXPECT_EQ(diff.addedLinks.size(), 1u);
  EXPECT_TRUE(diff.changedNodes.empty());
}

TEST(PlanDiff, TestsAreRecordedOnly) {
  const std::string edited =
      withText(kLan, R"("links")", R"("tests": [{"node": "h1", "reach": "r2"}], "links")");
  const PlanDiff diff = diffPlans(planOf(kLan), planOf(edited));
  EXPECT_TRUE(diff.checksChanged);
  EXPECT_EQ(describePlanDiff(diff), std::vector<std::string>{"~ tests"});
}

}  // namespace
}  // namespace netlab::topo
