// A stopped node's network namespace, pinned in its lab's directory: the pin holds the very
// namespace, and goes without a trace.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>

#include "base/error.hpp"
#include "netns_support.hpp"
#include "nsmgr/lab_dir.hpp"
#include "nsmgr/network_pin.hpp"

namespace netlab::nsmgr {
namespace {

ino_t inodeOf(const Fd& fd) {
  struct stat status {};
  if (::fstat(fd.get(), &status) < 0) throw SystemError("fstat", "namespace");
  return status.st_ino;
}

TEST(NetworkPin, HoldsTheNamespaceUntilUnpinned) {
  std::string root = std::filesystem::temp_directory_path() / "netlab-pin-XXXXXX";
  ASSERT_NE(::mkdtemp(root.data()), nullptr);
  ::setenv("NETLAB_RUN_DIR", root.c_str(), 1);
  LabDirectory directory = LabDirectory::create("pinned");
  directory.makeDirectory("nodes");
  directory.makeDirectory("nodes/n1");

  ino_t pinned = 0;
  // The namespace's only holders are this thread and its fd; both go before it is opened again.
  testing::onOwnThread([&] {
    if (::unshare(CLONE_NEWNET) < 0) throw SystemError("unshare", "CLONE_NEWNET");
    Fd netns = openFile("/proc/thread-self/ns/net", O_RDONLY);
    pinned = inodeOf(netns);
    pinNetwork(directory, "n1", netns);
  });
  std::optional<Fd> opened = openPinnedNetwork(directory, "n1");
  ASSERT_TRUE(opened);
  EXPECT_EQ(inodeOf(*opened), pinned);

  EXPECT_TRUE(unpinNetwork(directory, "n1"));
  EXPECT_FALSE(openPinnedNetwork(directory, "n1"));
  EXPECT_FALSE(std::filesystem::exists(directory.pathOf("nodes/n1/netns")));
  EXPECT_FALSE(unpinNetwork(directory, "n1")) << "a second unpin has nothing to do";
  directory.remove();
  std::filesystem::remove(root);
}

}  // namespace
}  // namespace netlab::nsmgr
