#include "nsmgr/limits.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include "base/fd.hpp"

#include "topo/load.hpp"

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

// A LAN of 40 hosts and a point-to-point link between two routers, IPv4 and IPv6.
topo::Plan lanAndLink() {
  std::string hosts, nodes;
  for (int i = 0; i < 40; ++i) {
    hosts += (i ? ", " : "") + std::string("\"h") + std::to_string(i) + "\"";
    nodes += (i ? ", " : "") + std::string("\"h") + std::to_string(i) + "\": {}";
  }
  const std::string json = R"({"addressing": {"ipv6": true}, "nodes": {)" + nodes +
                           R"(, "r1": {"kind": "router"}, "r2": {"kind": "router"}},
      "links": [{"endpoints": [)" +
                           hosts + R"(]}, ["r1", "r2"]]})";
  auto loaded = topo::loadTopologyText(json, "/tmp/lan.json");
  EXPECT_TRUE(loaded.ok());
  return loaded.plan.value_or(topo::Plan{});
}

TEST(NeighbourTables, ALanOfNEndsMayLearnNTimesNMinusOne) {
  const NeighbourDemand demand = neighboursOf(lanAndLink());
  EXPECT_EQ(demand.v4, 40u * 39u + 2u);
  EXPECT_EQ(demand.v6, 40u * 39u + 2u);
}

TEST(NeighbourTables, AWarningNamesTheSysctlsToRaiseOnlyWhenTheLabWouldFillOne) {
  const NeighbourDemand demand{1562, 1560};
  NeighbourTables tables{NeighbourTable{1024, 10}, NeighbourTable{4096, 10}};
  auto warnings = neighbourTableWarnings(tables, demand);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("may learn 1562 IPv4 neighbours, and 10 are in use"),
            std::string::npos)
      << warnings[0];
  EXPECT_NE(warnings[0].find("sysctl -w net.ipv4.neigh.default.gc_thresh3=1572 "
                             "net.ipv4.neigh.default.gc_thresh2=786"),
            std::string::npos)
      << warnings[0];
  // What is in use counts too; a table that cannot be read (outside the host's network
  // namespace) says nothing.
  tables.v6->entries = 3000;
  EXPECT_EQ(neighbourTableWarnings(tables, demand).size(), 2u);
  EXPECT_TRUE(neighbourTableWarnings({}, demand).empty());
}

TEST(NeighbourTables, AreReadWhereTheSysctlIs) {
  const char* const sysctl = "/proc/sys/net/ipv4/neigh/default/gc_thresh3";
  const NeighbourTables tables = readNeighbourTables();
  if (::access(sysctl, R_OK) != 0) {
    EXPECT_FALSE(tables.v4) << "read outside the host's network namespace";
    GTEST_SKIP() << sysctl << " is not here: not the host's network namespace";
  }
  ASSERT_TRUE(tables.v4);
  EXPECT_EQ(tables.v4->gcThresh3, std::stoull(readWholeFile(sysctl)));
}

}  // namespace
}  // namespace netlab::nsmgr
