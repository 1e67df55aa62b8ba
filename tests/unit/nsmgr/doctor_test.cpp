#include "nsmgr/doctor.hpp"

#include <gtest/gtest.h>

namespace netlab::nsmgr {
namespace {

KernelLimits generous() {
  KernelLimits limits;
  limits.maxNamespaces.fill(100000);
  limits.openFilesHard = 1 << 20;
  return limits;
}

const DoctorCheck& find(const std::vector<DoctorCheck>& checks, const std::string& name) {
  for (const auto& check : checks) {
    if (check.name == name) return check;
  }
  throw std::runtime_error("no check " + name);
}

TEST(Doctor, NamespaceLimitsThatFitTheDefaultExampleAreOk) {
  auto checks = namespaceChecks(generous());
  ASSERT_EQ(checks.size(), kNamespaceLimitNames.size() + 1);  // and the open files
  for (const auto& check : checks) {
    EXPECT_EQ(check.status, CheckStatus::Ok) << check.name << ": " << check.detail;
    EXPECT_TRUE(check.neededByDefault);
  }
  EXPECT_EQ(find(checks, "user").detail, "user.max_user_namespaces = 100000");
}

TEST(Doctor, AZeroNamespaceLimitIsWrongWithTheSysctlThatFixesIt) {
  KernelLimits limits = generous();
  limits.maxNamespaces[0] = 0;  // user
  auto checks = namespaceChecks(limits);
  const DoctorCheck& user = find(checks, "user");
  EXPECT_EQ(user.status, CheckStatus::Wrong);
  EXPECT_NE(user.detail.find("user.max_user_namespaces is 0"), std::string::npos) << user.detail;
  EXPECT_NE(user.detail.find("sysctl -w user.max_user_namespaces="), std::string::npos);
  EXPECT_EQ(find(checks, "net").status, CheckStatus::Ok);
  DoctorReport report{checks};
  EXPECT_FALSE(report.defaultExampleRuns());
}

TEST(Doctor, AnOpenFileLimitBelowTheDefaultExampleIsWrong) {
  KernelLimits limits = generous();
  limits.openFilesHard = 10;
  EXPECT_EQ(find(namespaceChecks(limits), "open files").status, CheckStatus::Wrong);
}

TEST(Doctor, SubuidRangesAmongIsolatedNodesIdsAreWrong) {
  EXPECT_EQ(subuidCheck("").status, CheckStatus::Ok);
  DoctorCheck usual = subuidCheck("alice:100000:65536\nbob:165536:65536\n");
  EXPECT_EQ(usual.status, CheckStatus::Ok);
  EXPECT_NE(usual.detail.find("2 in /etc/subuid"), std::string::npos) << usual.detail;
  DoctorCheck clash = subuidCheck("alice:100000:65536\nmallory:1879113728:65536\n");
  EXPECT_EQ(clash.status, CheckStatus::Wrong);
  EXPECT_NE(clash.detail.find("mallory"), std::string::npos) << clash.detail;
  // A range ending where the isolated ids begin does not overlap them.
  EXPECT_EQ(subuidCheck("carol:1879048192:0\ndave:1879044096:4096\n").status, CheckStatus::Ok);
}

TEST(Doctor, AProgramMissingFromThePathSaysWhatItDisables) {
  DoctorCheck missing = programCheck("FRR", "vtysh", "examples/ospf", "/nonexistent:/also-not");
  EXPECT_EQ(missing.status, CheckStatus::Missing);
  EXPECT_EQ(missing.detail, "no vtysh on PATH: disables examples/ospf");
  EXPECT_FALSE(missing.neededByDefault);
  DoctorCheck found = programCheck("shell", "sh", "nothing", "/nonexistent::/bin");
  EXPECT_EQ(found.status, CheckStatus::Ok);
  EXPECT_EQ(found.detail, "/bin/sh");
}

TEST(Doctor, OnlyChecksTheDefaultExampleNeedsDecideWhetherItRuns) {
  DoctorReport report;
  report.checks.push_back({"devices", "netem", CheckStatus::Missing, "disables delay", false});
  report.checks.push_back({"devices", "veth", CheckStatus::Ok, "", true});
  EXPECT_TRUE(report.defaultExampleRuns());
  report.checks.push_back({"devices", "bridge", CheckStatus::Unchecked, "not root", true});
  EXPECT_FALSE(report.defaultExampleRuns());
}

}  // namespace
}  // namespace netlab::nsmgr
