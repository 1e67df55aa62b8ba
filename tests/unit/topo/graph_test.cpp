#include "topo/graph.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "test_support.hpp"
#include "topo/plan_json.hpp"
#include "topo/plan_table.hpp"

namespace netlab::topo {
namespace {

using testing::examplePlan;

size_t countOf(const std::string& text, std::string_view needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
    ++count;
  return count;
}

// Two nodes whose names need escaping in both languages; the loader would refuse them, the
// renderers must not depend on that.
Plan awkwardPlan() {
  Plan plan;
  plan.name = "we\"ird";
  Node a;
  a.name = "a\"<b>#";
  a.kind = NodeKind::Router;
  Node b;
  b.name = "c\\d";
  b.kind = NodeKind::Switch;
  Interface toB;
  toB.name = "eth0";
  toB.peerNode = b.name;
  toB.peerInterface = "eth0";
  Interface toA = toB;
  toA.peerNode = a.name;
  a.interfaces.push_back(toB);
  b.interfaces.push_back(toA);
  plan.nodes = {a, b};
  return plan;
}

TEST(Graph, DotRendersEveryExampleWithGraphviz) {
  if (std::system("command -v dot >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "graphviz dot not installed";
  for (const char* name : {"lan.json", "triangle.json", "chain.json"}) {
    SCOPED_TRACE(name);
    const auto input = testing::scratchDir() / (std::string(name) + ".dot");
    const auto output = testing::scratchDir() / (std::string(name) + ".svg");
    std::ofstream(input) << renderDot(examplePlan(name));
    const std::string command = "dot -Tsvg '" + input.string() + "' -o '" + output.string() + "'";
    ASSERT_EQ(std::system(command.c_str()), 0);
    std::stringstream svg;
    svg << std::ifstream(output).rdbuf();
    EXPECT_NE(svg.str().find("<svg"), std::string::npos);
  }
}

TEST(Graph, DotDrawsEachVethOnceAndShapesByKind) {
  const std::string dot = renderDot(examplePlan("lan.json"));
  EXPECT_EQ(dot.rfind("graph \"lan\" {\n", 0), 0u);
  EXPECT_EQ(countOf(dot, " -- "), 6u);
  EXPECT_NE(dot.find("\"r1\" [shape=ellipse, label=\"r1\\n10.255.0.1/32\"]"), std::string::npos);
  EXPECT_NE(dot.find("\"h1\" [shape=box"), std::string::npos);
  EXPECT_NE(dot.find("\"lan0\" [shape=diamond"), std::string::npos);
  // Each end at its end of the edge.
  EXPECT_NE(dot.find("\"r1\" -- \"r2\" [taillabel=\"eth1 10.0.0.1/30\", headlabel=\"eth0 "
                     "10.0.0.2/30\"];"),
            std::string::npos);
}

TEST(Graph, TheMiddleOfAnEdgeHasTheLinksNameAndImpairmentsEachWay) {
  auto result = testing::load(R"({"nodes": {"a": {}, "b": {}}, "links": [
      {"endpoints": [{"node": "a", "out": {"delay": "20ms"}}, {"node": "b", "out": {"rate": "10mbit"}}],
       "name": "uplink"}]})");
  ASSERT_TRUE(result.ok()) << testing::dump(result);
  const std::string dot = renderDot(*result.plan);
  EXPECT_NE(dot.find("label=\"uplink\\n\u2192 delay 20ms\\n\u2190 rate 10mbit\"]"),
            std::string::npos)
      << dot;
  const std::string mermaid = renderMermaid(*result.plan);
  EXPECT_NE(mermaid.find("\u2014 uplink<br/>\u2192 delay 20ms<br/>\u2190 rate 10mbit \u2014"),
            std::string::npos)
      << mermaid;
  // The name lives in the plan, and its JSON.
  EXPECT_EQ(result.plan->nodes[0].interfaces[0].linkName, "uplink");
  EXPECT_EQ(planFromJson(planToJson(*result.plan)), *result.plan);
}

TEST(Graph, DotEscapesQuotesAndBackslashes) {
  const std::string dot = renderDot(awkwardPlan());
  EXPECT_NE(dot.find("graph \"we\\\"ird\""), std::string::npos);
  EXPECT_NE(dot.find("\"a\\\"<b>#\" -- \"c\\\\d\""), std::string::npos);
}

TEST(Graph, MermaidHasOneLinePerNodeAndVeth) {
  const std::string mermaid = renderMermaid(examplePlan("lan.json"));
  EXPECT_EQ(mermaid.rfind("graph LR\n", 0), 0u);
  EXPECT_NE(mermaid.find("  n0([\"r1<br/>10.255.0.1/32\"])\n"), std::string::npos);
  EXPECT_NE(mermaid.find("  n2[\"h1\"]\n"), std::string::npos);
  EXPECT_NE(mermaid.find("  n6{\"lan0\"}\n"), std::string::npos);
  EXPECT_EQ(countOf(mermaid, " ---|"), 6u);
  EXPECT_NE(mermaid.find("  n0 ---|\"eth1 10.0.0.1/30 \u2014 eth0 10.0.0.2/30\"| n1\n"),
            std::string::npos);
}

TEST(Graph, MermaidEscapesMarkup) {
  const std::string mermaid = renderMermaid(awkwardPlan());
  EXPECT_NE(mermaid.find("n0([\"a#quot;#lt;b#gt;#35;\"])"), std::string::npos);
  EXPECT_EQ(countOf(mermaid, "\""), 6u);
}

TEST(PlanTable, ShowsNodesInterfacesAndHumanUnits) {
  const std::string table = renderPlanTable(examplePlan("lan.json"));
  EXPECT_NE(table.find("r1 (router, hostname r1)\n  loopback: 10.255.0.1/32\n"), std::string::npos);
  EXPECT_NE(table.find("  interface  mac"), std::string::npos);
  EXPECT_NE(table.find("10.0.0.1/30    r2:eth0    -\n"), std::string::npos);
  EXPECT_NE(table.find("  routes:\n    172.16.2.0/24 via 10.0.0.2\n"), std::string::npos);
  EXPECT_NE(table.find("    default via 172.16.1.1\n"), std::string::npos);
  EXPECT_NE(table.find("  sysctls:\n    net.ipv4.ip_forward = 1\n"), std::string::npos);
}

TEST(PlanTable, ShowsEveryKindOfSetting) {
  auto result = testing::load(R"({"nodes": {"a": {"env": {"X": "1"}, "exec": "echo hi",
      "mounts": ["/tmp:/mnt:ro"], "files": {"/etc/motd": "hello"}}, "b": {}},
    "links": [{"endpoints": ["a", "b"], "delay": "1.5ms", "loss": "0.5%", "rate": "10mbit"}]})");
  ASSERT_TRUE(result.ok()) << testing::dump(result);
  const std::string table = renderPlanTable(*result.plan);
  EXPECT_NE(table.find("delay 1.5ms loss 0.5% rate 10mbit"), std::string::npos) << table;
  EXPECT_NE(table.find("  env:\n    X=1\n"), std::string::npos);
  EXPECT_NE(table.find("  exec:\n    echo hi\n"), std::string::npos);
  EXPECT_NE(table.find("  mounts:\n    /tmp -> /mnt (read-only)\n"), std::string::npos);
  EXPECT_NE(table.find("  files:\n    /etc/motd (mode 0644, 5 bytes)\n"), std::string::npos);
}

}  // namespace
}  // namespace netlab::topo
