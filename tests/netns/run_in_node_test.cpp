// The vfork of `exec`: the child shares the caller's memory, its errno and its signal
// handlers included, until it execs; what fails before the exec is reported, never ignored.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <thread>

#include "nsmgr/node_process.hpp"
#include "nsmgr/run_in_node.hpp"

namespace netlab::nsmgr {
namespace {

// A ready node, started as bring-up starts them: from a thread of its own.
NodeProcess readyNode(const std::string& name) {
  NodeProcess node;
  std::thread([&] {
    NodeSetup setup;
    setup.hostname = name;
    node = NodeLauncher().start(setup, std::nullopt, name);
  }).join();
  awaitNodeReady(node, name);
  return node;
}

struct Outcome {
  char step[32] = {};
  int error = 0;
  char object[256] = {};
  int waitStatus = -1;
};

// runInNode joins the node's namespaces: in a child, so the test's own stay as they are.
Outcome runInChild(const NodeProcess& node, CommandSpec spec) {
  PreparedCommand command(std::move(spec));
  int results[2];
  EXPECT_EQ(::pipe2(results, O_CLOEXEC), 0);
  pid_t child = ::fork();
  if (child == 0) {
    RunResult result = runInNode(node.process.pidfd().get(), command);
    Outcome outcome;
    if (result.failedStep) std::strncpy(outcome.step, result.failedStep, sizeof outcome.step - 1);
    if (result.failedObject) {
      std::strncpy(outcome.object, result.failedObject, sizeof outcome.object - 1);
    }
    outcome.error = result.failedErrno;
    outcome.waitStatus = result.waitStatus;
    (void)!::write(results[1], &outcome, sizeof outcome);
    ::_exit(0);
  }
  ::close(results[1]);
  Outcome outcome;
  EXPECT_EQ(::read(results[0], &outcome, sizeof outcome), static_cast<ssize_t>(sizeof outcome));
  ::close(results[0]);
  ::waitpid(child, nullptr, 0);
  return outcome;
}

TEST(RunInNode, AMissingWorkingDirectoryIsReportedWithItsPath) {
  NodeProcess node = readyNode("cwd");
  Outcome outcome = runInChild(node, {{"/bin/true"}, {}, "/no/such/directory", 0, 1, 2});
  EXPECT_STREQ(outcome.step, "chdir");
  EXPECT_EQ(outcome.error, ENOENT);
  EXPECT_STREQ(outcome.object, "/no/such/directory");
}

TEST(RunInNode, AFailedRedirectionIsReported) {
  NodeProcess node = readyNode("dup");
  constexpr int kNotOpen = 1000;
  Outcome outcome = runInChild(node, {{"/bin/true"}, {}, "/", 0, kNotOpen, 2});
  EXPECT_STREQ(outcome.step, "dup2");
  EXPECT_EQ(outcome.error, EBADF);
}

TEST(RunInNode, TheCommandRunsWhereItIsTold) {
  NodeProcess node = readyNode("ok");
  Outcome outcome = runInChild(node, {{"/bin/sh", "-c", "test \"$(pwd)\" = /proc"}, {}, "/proc"});
  EXPECT_STREQ(outcome.step, "");
  EXPECT_EQ(outcome.error, 0);
  EXPECT_EQ(outcome.waitStatus, 0);
}

}  // namespace
}  // namespace netlab::nsmgr
