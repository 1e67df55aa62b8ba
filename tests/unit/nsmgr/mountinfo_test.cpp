#include "nsmgr/mountinfo.hpp"

#include <gtest/gtest.h>

namespace netlab::nsmgr {
namespace {

// A Debian machine's mounts, shortened: / stacked twice (the second shows), a separate /home
// with a mount below it, a path with a space, and the directories a node has its own of.
constexpr const char* kMounts =
    "21 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
    "22 21 8:2 / / rw,relatime shared:2 - ext4 /dev/sda2 rw\n"
    "23 22 0:5 / /dev rw,nosuid shared:3 - devtmpfs udev rw\n"
    "24 23 0:6 / /dev/pts rw - devpts devpts rw\n"
    "25 22 0:7 / /proc rw - proc proc rw\n"
    "26 22 0:8 / /sys rw - sysfs sysfs rw\n"
    "27 22 0:9 / /run rw - tmpfs tmpfs rw\n"
    "28 22 8:3 / /home rw shared:4 - ext4 /dev/sda3 rw\n"
    "29 28 0:10 / /home/alice/mnt rw - tmpfs tmpfs rw\n"
    "30 22 8:4 / /srv/lab\\040data rw - xfs /dev/sda4 rw\n"
    "31 21 8:5 / /covered rw - ext4 /dev/sda5 rw\n"
    "32 22 0:11 / /tmp rw - tmpfs tmpfs rw\n"
    "not a mountinfo line\n";

TEST(Mountinfo, FieldsAndEscapes) {
  const auto mounts = parseMountinfo(kMounts);
  ASSERT_EQ(mounts.size(), 12u);
  EXPECT_EQ(mounts[7], (MountEntry{"28", "22", "/", "/home", "ext4", "rw"}));
  EXPECT_EQ(mounts[9].point, "/srv/lab data");
}

TEST(Mountinfo, TheFilesystemsDirectlyBelowTheRootThatShowsButTheNodesOwn) {
  EXPECT_EQ(mountsBelowRoot(parseMountinfo(kMounts)),
            (std::vector<std::string>{"/home", "/srv/lab data"}));
}

}  // namespace
}  // namespace netlab::nsmgr
