#include "nsmgr/state_file.hpp"

#include <gtest/gtest.h>

#include "base/error.hpp"
#include "topo/load.hpp"

namespace netlab::nsmgr {
namespace {

topo::Plan lanPlan() {
  auto result = topo::loadTopologyFile(std::string(NETLAB_SOURCE_DIR) + "/examples/lan.json");
  EXPECT_TRUE(result.ok());
  return result.plan.value_or(topo::Plan{});
}

TEST(StateFile, RoundTripsWithTheRecordedIfindexes) {
  LabState state{lanPlan(),
                 {{"r1", 4242, 123456789, {{"eth0", 7}, {"eth1", 8}}}, {"h1", 4243, 123456790, {}}},
                 1700000000,
                 1024,
                 "cgroup v1"};
  EXPECT_EQ(labStateFromJson(labStateToJson(state)), state);
  EXPECT_NE(labStateToJson(state).find("\"ifindex\": 8"), std::string::npos);
}

TEST(StateFile, ErrorsNameTheLocation) {
  const std::string plan = R"({"version": 1, "name": "x", "source_file": "", "nodes": []})";
  try {
    labStateFromJson(R"({"version": 1, "plan": )" + plan +
                     R"(, "nodes": [{"name": "a", "pid": -1.5, "start_time": 1, "interfaces": []}],
                        "created_unix_seconds": 0})");
    FAIL();
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(), "reading a lab state: nodes[0].pid: expected an integer");
  }
  try {
    labStateFromJson(R"({"version": 1, "plan": )" + plan +
                     R"(, "nodes": [{"name": "a", "pid": 1, "start_time": 1,
                        "interfaces": [{"name": "eth0", "ifindex": -3}]}], "created_unix_seconds": 0})");
    FAIL();
  } catch (const Error& error) {
    EXPECT_STREQ(
        error.what(),
        "reading a lab state: nodes[0].interfaces[0].ifindex: the integer is out of range");
  }
  EXPECT_THROW(labStateFromJson(R"({"version": 2, "plan": )" + plan +
                                R"(, "nodes": [], "created_unix_seconds": 0})"),
               Error);
}

}  // namespace
}  // namespace netlab::nsmgr
