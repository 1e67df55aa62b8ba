#include "nsmgr/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <utility>

#include "base/error.hpp"

namespace netlab::nsmgr {
namespace {

struct StatFields {
  char state = '?';
  uint64_t startTime = 0;
};

std::optional<StatFields> readStat(pid_t pid) {
  Fd fd(::open(("/proc/" + std::to_string(pid) + "/stat").c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return std::nullopt;
  std::string stat;
  try {
    stat = readAll(fd.get(), "/proc/PID/stat");
  } catch (const Error& error) {
    // Reaped between the open and the read: gone, like a pid with no /proc entry.
    if (error.errnoValue() == ESRCH) return std::nullopt;
    throw;
  }
  // The command name (field 2) may hold spaces and parentheses: fields resume after the last ')'.
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  StatFields fields;
  const char* cursor = stat.c_str() + close + 2;
  fields.state = *cursor;
  // Field 3 is the state; the start time is field 22, 19 fields further on.
  for (int field = 3; field < 22 && *cursor; ++cursor) {
    if (*cursor == ' ') ++field;
  }
  fields.startTime = std::strtoull(cursor, nullptr, 10);
  return fields;
}

}  // namespace

std::optional<uint64_t> processStartTime(pid_t pid) {
  auto fields = readStat(pid);
  if (!fields) return std::nullopt;
  return fields->startTime;
}

std::optional<Fd> openPidfd(pid_t pid) {
  Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd) {
    if (errno == ESRCH) return std::nullopt;
    throw SystemError("pidfd_open", std::to_string(pid));
  }
  return pidfd;
}

std::optional<Fd> openProcess(pid_t pid, uint64_t startTime) {
  auto pidfd = openPidfd(pid);
  if (!pidfd) return std::nullopt;
  // Checked after the pidfd is open: from now on the pidfd names this very process, so a
  // matching start time proves it is the one recorded, not a later owner of the pid.
  auto fields = readStat(pid);
  if (!fields || fields->startTime != startTime || fields->state == 'Z') return std::nullopt;
  return pidfd;
}

bool signalProcess(const Fd& pidfd, int signal) {
  if (::syscall(SYS_pidfd_send_signal, pidfd.get(), signal, nullptr, 0) == 0) return true;
  if (errno == ESRCH) return false;
  throw SystemError("pidfd_send_signal", "signal " + std::to_string(signal));
}

bool waitForExit(const Fd& pidfd, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd exited{pidfd.get(), POLLIN, 0};
    int ready = ::poll(&exited, 1, static_cast<int>(std::max<int64_t>(left.count(), 0)));
    if (ready > 0) return true;
    if (ready == 0) return false;
    if (errno != EINTR) throw SystemError("poll", "pidfd");
  }
}

std::vector<size_t> endProcesses(const std::vector<const Fd*>& pidfds, int firstSignal,
                                 std::chrono::milliseconds grace) {
  for (const Fd* pidfd : pidfds) signalProcess(*pidfd, firstSignal);
  auto deadline = std::chrono::steady_clock::now() + grace;
  std::vector<size_t> survivors;
  for (size_t i = 0; i < pidfds.size(); ++i) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (waitForExit(*pidfds[i], std::max(left, std::chrono::milliseconds(0)))) continue;
    signalProcess(*pidfds[i], SIGKILL);
    if (!waitForExit(*pidfds[i], grace)) survivors.push_back(i);
  }
  return survivors;
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), pidfd_(std::move(other.pidfd_)) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    killAndReap();
    pid_ = std::exchange(other.pid_, -1);
    pidfd_ = std::move(other.pidfd_);
  }
  return *this;
}

int waitForChild(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw SystemError("waitpid", std::to_string(pid));
  }
  return status;
}

void ChildProcess::release() {
  pid_ = -1;
  pidfd_.reset();
}

void ChildProcess::killAndReap() noexcept {
  if (pid_ <= 0) return;
  if (pidfd_) {
    ::syscall(SYS_pidfd_send_signal, pidfd_.get(), SIGKILL, nullptr, 0);
  } else {
    ::kill(pid_, SIGKILL);
  }
  while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  pidfd_.reset();
}

int exitCodeOf(int waitStatus) {
  if (WIFEXITED(waitStatus)) return WEXITSTATUS(waitStatus);
  if (WIFSIGNALED(waitStatus)) return 128 + WTERMSIG(waitStatus);
  return 255;
}

}  // namespace netlab::nsmgr
