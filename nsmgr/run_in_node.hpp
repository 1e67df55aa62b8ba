// Running a command inside a node: in all of its namespaces, as a process of its PID namespace
// that sees its mounts, like `ip netns exec` but for every namespace at once.
#pragma once

#include <sys/types.h>

#include <cerrno>
#include <string>
#include <vector>

#include "base/error.hpp"

namespace netlab::nsmgr {

struct CommandSpec {
  std::vector<std::string> argv;
  std::vector<std::string> env;  // "NAME=value"
  std::string workingDirectory = "/";
  int stdinFd = 0;
  int stdoutFd = 1;
  int stderrFd = 2;
};

// A command with everything execve needs laid out in advance, so that running it needs no
// allocation (it may run in a child forked from a multi-threaded netlab).
class PreparedCommand {
 public:
  // argv[0] is looked for through the PATH of spec.env in the node, when the command runs.
  explicit PreparedCommand(CommandSpec spec);
  PreparedCommand(const PreparedCommand&) = delete;
  PreparedCommand& operator=(const PreparedCommand&) = delete;

  const CommandSpec& spec() const { return spec_; }
  const std::vector<std::string>& candidates() const { return candidates_; }
  char* const* argv() const { return argv_.data(); }
  char* const* envp() const { return envp_.data(); }

  // The cgroups the command runs in: the node's (its cgroup.procs files, commandCgroupsOf),
  // so the node's limits hold for it and what it starts. Empty: the caller's.
  void joinCgroups(std::vector<std::string> procsFiles) { cgroupProcs_ = std::move(procsFiles); }
  const std::vector<std::string>& cgroupProcs() const { return cgroupProcs_; }

 private:
  CommandSpec spec_;
  std::vector<std::string> cgroupProcs_;
  std::vector<std::string> candidates_;  // where argv[0] may be, in order
  std::vector<char*> argv_;
  std::vector<char*> envp_;
};

struct RunResult {
  int waitStatus = 0;                // of the command, as from waitpid
  int failedErrno = 0;               // when the command never ran: the errno of failedStep
  const char* failedStep = nullptr;  // "setns", "setresuid", "dup2", "chdir", "execve"...
  // What the failed step was about, where it says more than the node: the directory of a
  // failed chdir, the program of a failed execve; else nullptr. Points into the command.
  const char* failedObject = nullptr;
};

// Moves the calling process into the command's cgroups (PreparedCommand::joinCgroups), joins
// the node behind pidfd (the calling process must be single-threaded: setns into a user
// namespace demands it) as its root (uid 0 of its user namespace), forks the command into the
// node's PID namespace, in spec.workingDirectory, and waits for it. A redirection or working
// directory that fails is reported (failedStep, failedErrno, failedObject) and the command does
// not run.
// Signals sent to the caller with kill(2) are forwarded to the command; signals from the
// terminal already reach it, as it shares the caller's process group.
RunResult runInNode(int pidfd, const PreparedCommand& command) noexcept;

// The command's exit code when it could not run, as shells have it: 127 for a program that is
// not there, 126 for any other failure (not executable, a redirection, the node gone).
inline constexpr int kCouldNotRun = 126;
inline constexpr int kCommandNotFound = 127;
int exitCodeOfFailure(const RunResult& result);

// Forks a helper that runs the command in the node (runInNode) and exits with the command's
// exit code, or kCouldNotRun; callable from any thread, since the helper only makes system
// calls. Returns the helper's pid.
pid_t spawnInNode(int pidfd, const PreparedCommand& command, const std::string& node);

}  // namespace netlab::nsmgr
