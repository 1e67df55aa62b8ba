// A node process: all six namespaces its own, set up before it reports ready.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <iterator>
#include <thread>

#include "base/error.hpp"
#include "nsmgr/namespaces.hpp"
#include "nsmgr/node_process.hpp"

namespace netlab::nsmgr {
namespace {

std::string namespaceLink(pid_t pid, const char* type) {
  char target[128] = {};
  std::string path = "/proc/" + std::to_string(pid) + "/ns/" + type;
  ssize_t length = ::readlink(path.c_str(), target, sizeof target - 1);
  return length > 0 ? std::string(target, static_cast<size_t>(length)) : "";
}

// Cloned from a thread with signals blocked, as bring-up does.
NodeProcess startNode(const NodeSetup& setup) {
  NodeProcess node;
  std::thread([&] {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, nullptr);
    node = NodeLauncher().start(setup, std::nullopt, setup.hostname);
  }).join();
  return node;
}

TEST(Node, HasEveryNamespaceOfItsOwnAndDiesWithItsGuard) {
  NodeSetup setup;
  setup.hostname = "testnode";
  pid_t pid = 0;
  {
    NodeProcess node = startNode(setup);
    awaitNodeReady(node, "testnode");
    pid = node.process.pid();
    for (const char* type : {"user", "net", "uts", "mnt", "pid", "ipc", "cgroup"}) {
      EXPECT_NE(namespaceLink(pid, type), namespaceLink(::getpid(), type)) << type;
    }
    // The node runs netlab-init as its PID 1.
    EXPECT_EQ(readAll(openFile("/proc/" + std::to_string(pid) + "/comm", O_RDONLY).get(), "comm"),
              "netlab-init\n");
  }
  // The guard killed and reaped it: an error anywhere leaves no node behind.
  EXPECT_NE(::kill(pid, 0), 0);
}

// Whether the child ends (and is reaped here) within the time.
bool endsWithin(pid_t pid, std::chrono::milliseconds time) {
  const auto deadline = std::chrono::steady_clock::now() + time;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid, nullptr, WNOHANG) == pid) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

TEST(Node, DiesWithNetlabUntilDetached) {
  NodeSetup setup;
  setup.hostname = "orphan";
  NodeProcess orphan = startNode(setup);
  awaitNodeReady(orphan, "orphan");
  // As if netlab died: no guard kills it, only its control socket closes.
  const pid_t orphanPid = orphan.process.pid();
  orphan.process.release();
  orphan.control.reset();
  EXPECT_TRUE(endsWithin(orphanPid, std::chrono::seconds(5)))
      << "a node outlived the netlab that was building it";

  setup.hostname = "detached";
  NodeProcess detached = startNode(setup);
  awaitNodeReady(detached, "detached");
  const pid_t detachedPid = detached.process.pid();
  detachNode(detached);
  EXPECT_FALSE(endsWithin(detachedPid, std::chrono::milliseconds(300)))
      << "a detached node died with its control socket";
  ::kill(detachedPid, SIGKILL);
  EXPECT_TRUE(endsWithin(detachedPid, std::chrono::seconds(5)));
}

size_t openFdCount() {
  std::filesystem::directory_iterator fds("/proc/self/fd");
  return static_cast<size_t>(std::distance(fds, std::filesystem::directory_iterator()));
}

// The limits check counts three fds per node while a lab is built (kFdsPerNode): the node's
// pidfd, control socket and network namespace. The owner of its namespaces, which lives until
// the node is ready, is held by pid alone.
TEST(Node, HoldsThreeOfNetlabsFdsWhileTheLabIsBuilt) {
  NodeSetup setup;
  setup.hostname = "fds";
  size_t before = openFdCount();
  NodeProcess node = startNode(setup);
  EXPECT_EQ(openFdCount(), before + 3);
  awaitNodeReady(node, "fds");
}

TEST(Node, SetupFailureComesBackAsAMessage) {
  NodeSetup setup;
  setup.hostname = "bad";
  MountStep step;
  step.what = "tmpfs on /no/such/dir";
  step.source = "tmpfs";
  step.fsType = "tmpfs";
  step.target = "/no/such/dir";
  setup.mounts.push_back(step);
  NodeProcess node;
  std::thread([&] { node = NodeLauncher().start(setup, std::nullopt, "bad"); }).join();
  try {
    awaitNodeReady(node, "bad");
    FAIL() << "mounting on a missing directory succeeded";
  } catch (const Error& error) {
    EXPECT_EQ(std::string(error.what()),
              "setting up node bad: mount(tmpfs on /no/such/dir): No such file or directory");
  }
}

}  // namespace
}  // namespace netlab::nsmgr
