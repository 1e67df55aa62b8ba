// netlab-init, PID 1 of every node, never spins: a failing call is handled, not retried at once
// forever. Driven in a child process, which plays init for a child of its own.
#include "nsmgr/node_init.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <string>

namespace netlab::nsmgr {
namespace {

constexpr long kWatchMilliseconds = 300;

long milliseconds(const timeval& time) {
  return time.tv_sec * 1000 + time.tv_usec / 1000;
}

struct Watched {
  long cpuMilliseconds = 0;
  bool orphanReaped = false;
};

// Runs serveAsInit on signalFd in a child with every signal blocked, as netlab-init does, and a
// child of its own that exits at once; after a while, how much CPU it used and whether it
// reaped that child. Never sends it SIGTERM: outside a PID namespace its kill(-1) would reach
// every process of the machine.
Watched watchInit(int signalFd) {
  int report[2];
  EXPECT_EQ(::pipe2(report, O_CLOEXEC), 0);
  pid_t init = ::fork();
  if (init == 0) {
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_SETMASK, &all, nullptr);
    pid_t orphan = ::fork();
    if (orphan == 0) ::_exit(0);
    (void)!::write(report[1], &orphan, sizeof orphan);
    serveAsInit(signalFd, all);
  }
  ::close(report[1]);
  pid_t orphan = 0;
  EXPECT_EQ(::read(report[0], &orphan, sizeof orphan), static_cast<ssize_t>(sizeof orphan));
  ::close(report[0]);
  timespec watch{0, kWatchMilliseconds * 1'000'000};
  ::nanosleep(&watch, nullptr);
  Watched watched;
  struct stat entry {};
  watched.orphanReaped = ::stat(("/proc/" + std::to_string(orphan)).c_str(), &entry) != 0;
  ::kill(init, SIGKILL);
  rusage usage{};
  ::wait4(init, nullptr, 0, &usage);
  watched.cpuMilliseconds = milliseconds(usage.ru_utime) + milliseconds(usage.ru_stime);
  return watched;
}

TEST(NodeInit, ReapsItsChildrenWithoutSpinning) {
  sigset_t all;
  sigfillset(&all);
  sigset_t previous;
  sigprocmask(SIG_SETMASK, &all, &previous);
  int signalFd = ::signalfd(-1, &all, SFD_CLOEXEC);
  sigprocmask(SIG_SETMASK, &previous, nullptr);
  ASSERT_GE(signalFd, 0);
  Watched watched = watchInit(signalFd);
  ::close(signalFd);
  EXPECT_TRUE(watched.orphanReaped);
  EXPECT_LT(watched.cpuMilliseconds, kWatchMilliseconds / 3);
}

// A signal source that fails (a read error, or reads that return no signal) must not make init
// retry at once forever: it still reaps, and takes little CPU.
TEST(NodeInit, AFailingSignalSourceMakesNoSpin) {
  int endOfFile = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(endOfFile, 0);
  for (int source : {endOfFile, -1}) {
    Watched watched = watchInit(source);
    EXPECT_TRUE(watched.orphanReaped) << "source " << source;
    EXPECT_LT(watched.cpuMilliseconds, kWatchMilliseconds / 3) << "source " << source;
  }
  ::close(endOfFile);
}

}  // namespace
}  // namespace netlab::nsmgr
