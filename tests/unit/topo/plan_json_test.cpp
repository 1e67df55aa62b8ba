#include "topo/plan_json.hpp"

#include <gtest/gtest.h>

#include "base/error.hpp"
#include "test_support.hpp"

namespace netlab::topo {
namespace {

using testing::examplePlan;

// A plan that uses every field, including the optional ones.
Plan richPlan() {
  auto result = testing::load(R"({
    "addressing": {"ipv6": true},
    "nodes": {
      "r1": {"kind": "router", "env": {"A": "x\"y"}, "exec": ["echo hi"],
             "mounts": ["/tmp:/mnt:ro"], "files": [{"path": "/x", "content": "\u00e9\n", "mode": "0600"}],
             "routes": [{"to": "10.9.0.0/16", "via": "10.0.0.2", "dev": "eth0", "metric": 7},
                        {"to": "default", "dev": "eth0"}]},
      "h1": {"userns": "isolated", "root": "host"},
      "h2": {"resources": {"cpus": 0.25, "memory": "64M", "pids": 9}, "image": "busybox"}
    },
    "links": [{"endpoints": ["r1", "h1"], "delay": "1.5ms", "jitter": "100us",
               "jitter_correlation": "25%", "loss": 0.1, "corrupt": "0.01%", "duplicate": "1%",
               "reorder": "2%", "rate": "1gbit", "limit": 500}, ["r1", "h1", "h2"]]})");
  EXPECT_TRUE(result.ok()) << testing::dump(result);
  return result.plan.value_or(Plan{});
}

TEST(PlanJson, RoundTripsEveryExample) {
  for (const char* name : {"lan.json", "triangle.json", "chain.json"}) {
    const Plan plan = examplePlan(name);
    EXPECT_EQ(planFromJson(planToJson(plan)), plan) << name;
  }
}

TEST(PlanJson, RoundTripsEveryField) {
  const Plan plan = richPlan();
  const std::string json = planToJson(plan);
  EXPECT_NE(json.find("\"delay_us\": 1500"), std::string::npos);
  EXPECT_NE(json.find("\"rate_bps\": 1000000000"), std::string::npos);
  EXPECT_NE(json.find("\"mode\": \"0600\""), std::string::npos);
  EXPECT_NE(json.find("\"first_host_id\": "), std::string::npos);
  EXPECT_EQ(planFromJson(json), plan);
}

TEST(PlanJson, AnIsolatedRangeMustNotMapHostRoot) {
  Plan plan = richPlan();
  std::string json = planToJson(plan);
  const std::string first =
      "\"first_host_id\": " + std::to_string(testing::nodeOf(plan, "h1").isolatedIds->first);
  ASSERT_NE(json.find(first), std::string::npos);
  json.replace(json.find(first), first.size(), "\"first_host_id\": 0");
  EXPECT_THROW(planFromJson(json), Error);
}

TEST(PlanJson, ErrorsNameTheLocation) {
  std::string json = planToJson(examplePlan("chain.json"));
  const std::string mac =
      "\"mac\": \"" + toString(examplePlan("chain.json").nodes[1].interfaces[1].mac) + "\"";
  json.replace(json.find(mac), mac.size(), "\"mac\": \"zz\"");
  try {
    planFromJson(json);
    FAIL() << "a bad MAC was accepted";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(),
                 "reading a plan: nodes[1].interfaces[1].mac: expected a MAC address like "
                 "02:00:00:00:00:01");
  }
}

TEST(PlanJson, RejectsMissingAndUnknownKeysAndBadSyntax) {
  EXPECT_THROW(planFromJson("{"), Error);
  EXPECT_THROW(planFromJson(R"({"version": 1, "name": "x", "nodes": []})"), Error);
  EXPECT_THROW(planFromJson(R"({"version": 2, "name": "x", "source_file": "", "nodes": []})"),
               Error);
  EXPECT_THROW(
      planFromJson(R"({"version": 1, "name": "x", "source_file": "", "nodes": [], "x": 1})"),
      Error);
  EXPECT_NO_THROW(planFromJson(R"({"version": 1, "name": "x", "source_file": "", "nodes": []})"));
}

}  // namespace
}  // namespace netlab::topo
