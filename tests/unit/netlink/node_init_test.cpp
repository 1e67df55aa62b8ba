// The setup a node's netlab-init receives: what netlab encodes is what the node decodes.
#include <gtest/gtest.h>
#include <sys/mount.h>

#include "nsmgr/node_init.hpp"

namespace netlab::nsmgr {
namespace {

NodeSetup sampleSetup() {
  NodeSetup setup;
  setup.hostname = "r1";
  MountStep proc;
  proc.what = "proc on /proc";
  proc.source = "proc";
  proc.target = "/proc";
  proc.fsType = "proc";
  proc.flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
  MountStep bind;
  bind.what = "bind /srv/conf on /etc/frr";
  bind.source = "/srv/conf";
  bind.target = "/etc/frr";
  bind.flags = MS_BIND | MS_REC;
  bind.bindSource = true;
  bind.remountReadOnly = true;
  bind.targetIsDirectory = true;
  MountStep tmp = proc;
  tmp.fsType = "tmpfs";
  tmp.data = "mode=1777";
  tmp.createTarget = true;
  tmp.skipIfTargetMissing = true;
  tmp.sourceInNode = true;
  setup.mounts = {proc, bind, tmp};
  setup.root = {"/run/netlab/lab/nodes/r1/layers", "/", {"/home", "/boot/efi"}, true};
  return setup;
}

TEST(NodeSetupMessage, RoundTrips) {
  NodeSetup decoded;
  ASSERT_TRUE(decodeNodeSetup(encodeNodeSetup(sampleSetup()), decoded));
  EXPECT_EQ(decoded, sampleSetup());
}

TEST(NodeSetupMessage, WithoutMountsRoundTrips) {
  NodeSetup setup;
  setup.hostname = "h1";
  NodeSetup decoded;
  ASSERT_TRUE(decodeNodeSetup(encodeNodeSetup(setup), decoded));
  EXPECT_EQ(decoded, setup);
}

TEST(NodeSetupMessage, TruncatedOrDamagedMessagesAreRefused) {
  std::string message = encodeNodeSetup(sampleSetup());
  NodeSetup decoded;
  EXPECT_FALSE(decodeNodeSetup("", decoded));
  EXPECT_FALSE(decodeNodeSetup(message.substr(0, message.size() - 1), decoded));
  EXPECT_FALSE(decodeNodeSetup(message.substr(0, message.find("proc on")), decoded));
  std::string badFlags = message;
  badFlags[badFlags.find("000000")] = '2';
  EXPECT_FALSE(decodeNodeSetup(badFlags, decoded));
  // The first step's mount flags, then the count of host mounts (2), made non-numbers.
  std::string badNumber = message;
  badNumber[badNumber.find(std::string("/boot/efi\0", 10)) + 10] = 'x';
  EXPECT_FALSE(decodeNodeSetup(badNumber, decoded));
  std::string badCount = message;
  badCount[badCount.find(std::string("\0"
                                     "2\0",
                                     3)) +
           1] = 'x';
  EXPECT_FALSE(decodeNodeSetup(badCount, decoded));
  std::string wrongCount = message;  // the steps' fields no longer divide into steps
  wrongCount[wrongCount.find(std::string("\0"
                                         "2\0",
                                         3)) +
             1] = '3';
  EXPECT_FALSE(decodeNodeSetup(wrongCount, decoded));
}

}  // namespace
}  // namespace netlab::nsmgr
