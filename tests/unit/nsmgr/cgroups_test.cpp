#include "nsmgr/cgroups.hpp"

#include <gtest/gtest.h>

namespace netlab::nsmgr {
namespace {

// A hybrid machine (this one): v1 controllers, one of them at a cgroup of its own, and v2.
constexpr const char* kHybridMounts =
    "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
    "34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "38 30 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n"
    "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"
    "41 22 0:38 / /proc rw - proc proc rw\n";
constexpr const char* kHybridCgroups =
    "9:name=systemd:/\n"
    "8:pids:/\n"
    "4:memory:/process_api/03fb\n"
    "2:cpu,cpuacct:/\n"
    "0::/\n";

TEST(Cgroups, EveryHierarchyWithTheProcesssCgroupInIt) {
  const auto found = parseCgroupHierarchies(kHybridMounts, kHybridCgroups);
  ASSERT_EQ(found.size(), 5u);
  EXPECT_EQ(found[0].mountPoint, "/sys/fs/cgroup/systemd");
  EXPECT_EQ(found[1].controllers, "pids");
  EXPECT_EQ(found[2].mountPoint, "/sys/fs/cgroup/memory");
  EXPECT_EQ(found[2].ownCgroup, "/process_api/03fb");
  EXPECT_EQ(found[3].mountPoint, "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_TRUE(found[4].unified);
  EXPECT_EQ(found[4].mountPoint, "/sys/fs/cgroup/unified");
}

TEST(Cgroups, AMountOfPartOfAHierarchyShowsOnlyWhatIsBelowItsRoot) {
  // A container's view: its /sys/fs/cgroup is the host's /machine/c1.
  const char* mounts = "40 30 0:37 /machine/c1 /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
  auto found = parseCgroupHierarchies(mounts, "0::/machine/c1/app\n");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].ownCgroup, "/app");
  EXPECT_TRUE(parseCgroupHierarchies(mounts, "0::/machine/c2\n").empty());
  EXPECT_TRUE(parseCgroupHierarchies(mounts, "0::/machine/c10\n").empty());
}

TEST(Cgroups, PureV2AndGarbage) {
  const char* mounts = "25 1 0:22 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\nbroken\n";
  auto found = parseCgroupHierarchies(mounts, "0::/user.slice\nnonsense\n1:\n");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].ownCgroup, "/user.slice");
}

}  // namespace
}  // namespace netlab::nsmgr
