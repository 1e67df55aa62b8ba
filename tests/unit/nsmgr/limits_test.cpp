#include "nsmgr/limits.hpp"

#include <gtest/gtest.h>

namespace netlab::nsmgr {
namespace {

size_t indexOf(std::string_view name) {
  for (size_t i = 0; i < kNamespaceLimitNames.size(); ++i) {
    if (kNamespaceLimitNames[i] == name) return i;
  }
  ADD_FAILURE() << "no namespace type " << name;
  return 0;
}

KernelLimits generous() {
  KernelLimits limits;
  limits.maxNamespaces.fill(100000);
  limits.openFilesHard = 1 << 20;
  return limits;
}

LabDemand demand(size_t nodes) {
  LabDemand result;
  result.nodes = nodes;
  result.scratchNetworkNamespaces = 6;
  result.openFiles = nodes * 3 + 64;
  return result;
}

TEST(Limits, ALabThatFitsHasNoProblems) {
  EXPECT_TRUE(limitProblems(generous(), demand(1000)).empty());
}

TEST(Limits, NetworkNamespacesCountNetlabsOwn) {
  KernelLimits limits = generous();
  limits.maxNamespaces[indexOf("net")] = 100;
  EXPECT_TRUE(limitProblems(limits, demand(94)).empty());
  auto problems = limitProblems(limits, demand(95));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0],
            "the lab needs 101 network namespaces but user.max_net_namespaces is 100 "
            "(raise it with `sysctl -w user.max_net_namespaces=201`)");
}

TEST(Limits, EveryExceededLimitIsNamed) {
  KernelLimits limits = generous();
  limits.maxNamespaces[indexOf("user")] = 0;
  limits.maxNamespaces[indexOf("mnt")] = 3;
  limits.openFilesHard = 50;
  auto problems = limitProblems(limits, demand(4));
  ASSERT_EQ(problems.size(), 3u);
  EXPECT_NE(problems[0].find("needs 4 user namespaces but user.max_user_namespaces is 0"),
            std::string::npos);
  EXPECT_NE(problems[1].find("needs 8 mount namespaces but user.max_mnt_namespaces is 3"),
            std::string::npos);
  EXPECT_EQ(problems[2],
            "a lab of 4 nodes needs about 76 open files, but the hard limit is 50 "
            "(raise it with `ulimit -Hn 76`)");
}

TEST(Limits, AnUnreadableLimitIsNotAProblem) {
  KernelLimits limits = generous();
  limits.maxNamespaces[indexOf("cgroup")].reset();
  EXPECT_TRUE(limitProblems(limits, demand(10)).empty());
}

TEST(Limits, DemandGrowsWithTheLab) {
  topo::Plan plan;
  plan.nodes.resize(10);
  LabDemand small = demandOf(plan);
  plan.nodes.resize(1000);
  LabDemand large = demandOf(plan);
  EXPECT_EQ(small.nodes, 10u);
  EXPECT_EQ(large.openFiles - small.openFiles, 990u * 3);
  EXPECT_GE(large.scratchNetworkNamespaces, 4u);
}

}  // namespace
}  // namespace netlab::nsmgr
