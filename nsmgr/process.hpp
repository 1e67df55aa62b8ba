// Processes netlab starts or finds again: tracked by pidfd and by identity (pid + start time),
// so a recycled pid is never signalled or entered.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "base/fd.hpp"

namespace netlab::nsmgr {

// The start time of a process (field 22 of /proc/PID/stat, in clock ticks since boot);
// nullopt when there is no such process.
std::optional<uint64_t> processStartTime(pid_t pid);

// A pidfd for the process that has this pid now; nullopt when there is none (ESRCH).
std::optional<Fd> openPidfd(pid_t pid);

// A pidfd for the process that has this pid AND this start time, or nullopt when that process
// is gone (exited, or its pid now belongs to another process). A zombie counts as gone.
std::optional<Fd> openProcess(pid_t pid, uint64_t startTime);

// Sends a signal through a pidfd; false when the process has already exited.
bool signalProcess(const Fd& pidfd, int signal);
// Waits until the process behind pidfd has exited; false on timeout.
bool waitForExit(const Fd& pidfd, std::chrono::milliseconds timeout);

// Ends processes: firstSignal to all (SIGTERM for an orderly end, SIGKILL for none), then
// SIGKILL to those still there after grace; returns the indexes of those that outlived even
// that (in uninterruptible sleep, or a frozen cgroup).
std::vector<size_t> endProcesses(const std::vector<const Fd*>& pidfds, int firstSignal,
                                 std::chrono::milliseconds grace);

// Owns a child process: unless released, its destructor kills it (SIGKILL) and reaps it, so an
// error anywhere leaves no process behind. It may hold the pid alone, without a pidfd: a child's
// pid is not reused before the child is reaped.
class ChildProcess {
 public:
  ChildProcess() = default;
  ChildProcess(pid_t pid, Fd pidfd) : pid_(pid), pidfd_(std::move(pidfd)) {}
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ~ChildProcess() { killAndReap(); }

  pid_t pid() const { return pid_; }
  const Fd& pidfd() const { return pidfd_; }
  // Gives up ownership: the process lives on (a node after `up` returns).
  void release();
  void killAndReap() noexcept;

 private:
  pid_t pid_ = -1;
  Fd pidfd_;
};

// Waits for a child process and returns its wait status.
int waitForChild(pid_t pid);

// The process's wait status as a shell would print it: its exit code, or 128 + signal.
int exitCodeOf(int waitStatus);

}  // namespace netlab::nsmgr
