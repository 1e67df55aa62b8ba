// A node's launch: the node shares netlab's memory, its errno and its signal handlers
// included, until it execs netlab-init.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "base/error.hpp"
#include "nsmgr/node_process.hpp"

namespace netlab::nsmgr {
namespace {

// A program that is not there, and whose path takes the kernel a while to walk (a thousand
// "./"): its execve fails with ENOENT well after the clone, while the parent runs on.
std::string slowlyMissingProgram() {
  std::string path = "/";
  while (path.size() < 3000) path += "./";
  return path + "no-such-netlab-init";
}

void blockAllSignals() {
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, nullptr);
}

bool readable(const Fd& fd) {
  pollfd ready{fd.get(), POLLIN, 0};
  return ::poll(&ready, 1, 0) > 0;
}

// Each thread writes its errno without pause while its nodes fail to exec, as a thread of
// netlab's may while it goes on with its work: the errno each node reports must be its own.
TEST(Launch, ANodeReportsItsOwnErrnoWhatEverItsParentDoesWithErrno) {
  constexpr int kThreads = 4;
  constexpr int kNodesPerThread = 24;
  std::atomic<int> reported{0};
  std::vector<std::string> wrong[kThreads];
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      blockAllSignals();
      NodeLauncher launcher(slowlyMissingProgram());
      volatile int* error = &errno;
      // Kept until the launcher's end, as bring-up keeps its nodes.
      std::vector<NodeProcess> nodes(kNodesPerThread);
      for (NodeProcess& node : nodes) {
        NodeSetup setup;
        setup.hostname = "errno";
        node = launcher.start(setup, std::nullopt, "errno");
        while (!readable(node.control)) {
          for (int i = 0; i < 1000; ++i) *error = EXDEV;
        }
        try {
          awaitNodeReady(node, "errno");
          wrong[t].push_back("a node started without its program");
        } catch (const Error& failure) {
          ++reported;
          if (failure.errnoValue() != ENOENT) wrong[t].push_back(failure.what());
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(reported.load(), kThreads * kNodesPerThread);

  for (const auto& messages : wrong) {
    for (const auto& message : messages) ADD_FAILURE() << message;
  }
}

std::atomic<pid_t> gHandlerRanIn{0};

void recordHandler(int) {
  gHandlerRanIn.store(static_cast<pid_t>(::syscall(SYS_getpid)));
}

// The starting thread leaves SIGUSR1 to a handler of its own; a node signalled before its exec
// must not run it (on netlab's memory).
TEST(Launch, NoHandlerOfTheParentRunsInANodeBeforeItsExec) {
  struct sigaction action {};
  action.sa_handler = recordHandler;
  sigemptyset(&action.sa_mask);
  struct sigaction previous {};
  ASSERT_EQ(::sigaction(SIGUSR1, &action, &previous), 0);
  std::thread([] {
    blockAllSignals();
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    pthread_sigmask(SIG_UNBLOCK, &usr1, nullptr);
    NodeLauncher launcher(slowlyMissingProgram());
    std::vector<NodeProcess> nodes(8);
    for (NodeProcess& node : nodes) {
      NodeSetup setup;
      setup.hostname = "signal";
      node = launcher.start(setup, std::nullopt, "signal");
      ::kill(node.process.pid(), SIGUSR1);
      EXPECT_THROW(awaitNodeReady(node, "signal"), Error);
    }
  }).join();
  ::sigaction(SIGUSR1, &previous, nullptr);
  EXPECT_EQ(gHandlerRanIn.load(), 0) << "netlab's handler ran in process " << gHandlerRanIn;
}

// A node given up (killed and reaped by its guard) before the launcher's next start: the
// launcher must not wait on memory that went with it.
TEST(Launch, ANodeMayGoBeforeTheNextStart) {
  std::thread([] {
    blockAllSignals();
    NodeLauncher launcher;
    for (int n = 0; n < 4; ++n) {
      NodeSetup setup;
      setup.hostname = "brief";
      NodeProcess node = launcher.start(setup, std::nullopt, "brief");
    }
  }).join();
}

// A node killed before it could report (by a signal, or crashing) is an error, not a wait
// forever: the launcher's slot keeps the socket's other end open, so no end of file comes.
TEST(Launch, ANodeThatDiesWithoutAReportIsAnError) {
  std::thread([] {
    blockAllSignals();
    NodeLauncher launcher(slowlyMissingProgram());
    for (int n = 0; n < 8; ++n) {
      NodeSetup setup;
      setup.hostname = "killed";
      NodeProcess node = launcher.start(setup, std::nullopt, "killed");
      ::kill(node.process.pid(), SIGKILL);
      try {
        awaitNodeReady(node, "killed");
        ADD_FAILURE() << "a node without its program was ready";
      } catch (const Error& failure) {
        const std::string message = failure.what();
        // Killed before its exec failed, or after it reported the failure.
        EXPECT_TRUE(message.find("ended during its setup") != std::string::npos ||
                    failure.errnoValue() == ENOENT)
            << message;
      }
    }
  }).join();
}

}  // namespace
}  // namespace netlab::nsmgr
