#include "nsmgr/run_in_node.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "base/error.hpp"
#include "nsmgr/node_init.hpp"
#include "nsmgr/process.hpp"
#include "nsmgr/raw_syscall.hpp"
#include "topo/plan.hpp"

namespace netlab::nsmgr {
namespace {

volatile sig_atomic_t gCommandPid = 0;

// Forwards signals sent by a process (si_code <= 0: kill, sigqueue, tgkill); signals the
// kernel generates for the terminal already reach the command directly.
void forwardSignal(int signal, siginfo_t* info, void*) {
  if (info->si_code <= 0 && gCommandPid > 0) ::kill(gCommandPid, signal);
}

constexpr int kForwardedSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

void installForwarding() {
  struct sigaction action {};
  action.sa_sigaction = forwardSignal;
  action.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&action.sa_mask);
  for (int signal : kForwardedSignals) ::sigaction(signal, &action, nullptr);
}

// Where argv[0] may be, in the order execvp tries them: itself when it names a path, else in
// each directory of the PATH of `env`. Tried in the node (execCandidates): its files are not
// netlab's when its root is its own.
std::vector<std::string> programCandidates(const std::string& program,
                                           const std::vector<std::string>& env) {
  if (program.find('/') != std::string::npos) return {program};
  std::string path = topo::kNodePath;
  for (const auto& entry : env) {
    if (entry.rfind("PATH=", 0) == 0) path = entry.substr(5);
  }
  std::vector<std::string> candidates;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    candidates.push_back(path.substr(start, end - start) + "/" + program);
    start = end + 1;
  }
  return candidates;
}

// execve of each candidate until one runs. As execvp does, a candidate that is not there goes
// on to the next, and EACCES, if one gave it, is the answer when none ran. Allocates nothing.
long execCandidates(const PreparedCommand& command) {
  long result = -ENOENT;
  bool denied = false;
  for (const std::string& candidate : command.candidates()) {
    result = raw::execve(candidate.c_str(), command.argv(), command.envp());
    if (result == -EACCES) {
      denied = true;
    } else if (result != -ENOENT && result != -ENOTDIR) {
      return result;
    }
  }
  return denied ? -EACCES : result;
}

// The steps of execCommand that may fail, as it reports them (RunResult::failedStep).
constexpr const char* kChildSteps[] = {"sigaction", "sigprocmask", "prctl",
                                       "dup2",      "chdir",       "execve"};
enum ChildStep { kSigaction, kSigprocmask, kPrctl, kDup2, kChdir, kExecve };

// What the child sends back over the error pipe when a step fails; nothing when it execs.
struct ChildFailure {
  int step;
  int error;
};

[[noreturn]] void failChild(int errorPipe, ChildStep step, long result) noexcept {
  ChildFailure failure{step, raw::errorOf(result)};
  raw::write(errorPipe, &failure, sizeof failure);
  raw::exitNow(127);
}

// Every signal the caller handles goes back to its default before the child unblocks signals:
// a handler of netlab's must not run in the child, on the memory it shares with netlab.
// Ignored signals stay ignored, as across exec.
void resetHandlers(int errorPipe) noexcept {
  for (int signal = 1; signal <= raw::kLastSignal; ++signal) {
    if (signal == SIGKILL || signal == SIGSTOP) continue;
    raw::KernelSigaction current{};
    if (raw::sigaction(signal, nullptr, &current) < 0) continue;  // not a signal (32, 33)
    if (current.handler == nullptr || current.handler == reinterpret_cast<void*>(SIG_IGN)) continue;
    raw::KernelSigaction byDefault{};
    long reset = raw::sigaction(signal, &byDefault, nullptr);
    if (reset < 0) failChild(errorPipe, kSigaction, reset);
  }
}

// The child of runInNode's vfork: it runs on the caller's memory, so only raw system calls
// (nsmgr/raw_syscall.hpp), which leave errno alone; each failure goes back to the caller as a
// value over the error pipe. It starts with every signal blocked (runInNode).
[[noreturn]] void execCommand(const PreparedCommand& command, int errorPipe) noexcept {
  const CommandSpec& spec = command.spec();
  resetHandlers(errorPipe);
  const raw::KernelSigset none = 0;
  long unblocked = raw::sigprocmask(SIG_SETMASK, &none, nullptr);
  if (unblocked < 0) failChild(errorPipe, kSigprocmask, unblocked);
  // The command ends with the netlab that runs it, as a command over ssh ends with its
  // connection; what it starts in the background lives on (the way to start a daemon). Its
  // caller is outside the node's PID namespace, so a parent pid other than 0 means the caller
  // died before the prctl and the node's init took the child over.
  long bound = raw::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (bound < 0) failChild(errorPipe, kPrctl, bound);
  if (raw::getppid() != 0) raw::exitNow(127);
  int targets[] = {0, 1, 2};
  int sources[] = {spec.stdinFd, spec.stdoutFd, spec.stderrFd};
  for (int i = 0; i < 3; ++i) {
    if (sources[i] == targets[i]) continue;  // dup3 refuses to; it is already in place
    long duplicated = raw::dup3(sources[i], targets[i], 0);
    if (duplicated < 0) failChild(errorPipe, kDup2, duplicated);
  }
  long changed = raw::chdir(spec.workingDirectory.c_str());
  if (changed < 0) failChild(errorPipe, kChdir, changed);
  failChild(errorPipe, kExecve, execCandidates(command));
}

// What runInNode's child reported: nothing when it exec'd.
void readChildFailure(int errorPipe, const PreparedCommand& command, RunResult& result) {
  ChildFailure failure{};
  ssize_t got;
  while ((got = ::read(errorPipe, &failure, sizeof failure)) < 0 && errno == EINTR) {
  }
  if (got != sizeof failure || failure.step < 0 || failure.step > kExecve) return;
  result.failedStep = kChildSteps[failure.step];
  result.failedErrno = failure.error;
  if (failure.step == kChdir) result.failedObject = command.spec().workingDirectory.c_str();
  if (failure.step == kExecve) result.failedObject = command.spec().argv.front().c_str();
}

}  // namespace

PreparedCommand::PreparedCommand(CommandSpec spec) : spec_(std::move(spec)) {
  if (spec_.argv.empty()) throw Error("no command given");
  candidates_ = programCandidates(spec_.argv.front(), spec_.env);
  for (auto& argument : spec_.argv) argv_.push_back(argument.data());
  argv_.push_back(nullptr);
  for (auto& variable : spec_.env) envp_.push_back(variable.data());
  envp_.push_back(nullptr);
}

int exitCodeOfFailure(const RunResult& result) {
  const bool notFound = result.failedStep && std::string_view(result.failedStep) == "execve" &&
                        result.failedErrno == ENOENT;
  return notFound ? kCommandNotFound : kCouldNotRun;
}

namespace {

// What a shell says of a command that did not run, on the command's stderr: "cat: command not
// found", "setns(node r1): No such process". Allocates nothing.
void sayNotRun(const PreparedCommand& command, const RunResult& result) noexcept {
  char text[512];
  size_t length = 0;
  auto append = [&](const char* part) {
    while (*part && length + 1 < sizeof text) text[length++] = *part++;
  };
  const bool execFailed = std::string_view(result.failedStep) == "execve";
  if (execFailed) {
    append(command.spec().argv.front().c_str());
  } else {
    append(result.failedStep);
    append("(");
    append(result.failedObject ? result.failedObject : "the node");
    append(")");
  }
  append(": ");
  const char* reason = strerrordesc_np(result.failedErrno);
  append(execFailed && result.failedErrno == ENOENT ? "command not found" : reason ? reason : "?");
  append("\n");
  (void)!::write(command.spec().stderrFd, text, length);
}

}  // namespace

pid_t spawnInNode(int pidfd, const PreparedCommand& command, const std::string& node) {
  pid_t helper = ::fork();
  if (helper < 0) throw SystemError("fork", "helper for node " + node);
  if (helper == 0) {
    RunResult result = runInNode(pidfd, command);
    if (result.failedStep) sayNotRun(command, result);
    ::_exit(result.failedStep ? exitCodeOfFailure(result) : exitCodeOf(result.waitStatus));
  }
  return helper;
}

// Writing 0 to a cgroup.procs file moves the writer. Done before setns: from inside the node's
// cgroup namespace netlab's own cgroup is out of sight, and the kernel refuses the move.
bool joinCgroups(const PreparedCommand& command, RunResult& result) noexcept {
  for (const auto& procs : command.cgroupProcs()) {
    const int fd = ::open(procs.c_str(), O_WRONLY | O_CLOEXEC);
    const bool moved = fd >= 0 && ::write(fd, "0", 1) == 1;
    const int error = errno;
    if (fd >= 0) ::close(fd);
    if (!moved) {
      result.failedErrno = error;
      result.failedStep = "join cgroup";
      result.failedObject = procs.c_str();
      return false;
    }
  }
  return true;
}

RunResult runInNode(int pidfd, const PreparedCommand& command) noexcept {
  RunResult result;
  if (!joinCgroups(command, result)) return result;
  if (::setns(pidfd, kNodeNamespaces) < 0) {
    result.failedErrno = errno;
    result.failedStep = "setns";
    return result;
  }
  if (const char* failed = becomeNamespaceRoot()) {
    result.failedErrno = errno;
    result.failedStep = failed;
    return result;
  }
  int errorPipe[2];
  if (::pipe2(errorPipe, O_CLOEXEC) < 0) {
    result.failedErrno = errno;
    result.failedStep = "pipe2";
    return result;
  }
  installForwarding();
  // vfork: the caller waits while the child resets its signals, redirects and execs, and
  // copying the caller's page tables (netlab's) would be most of the cost of a short command.
  // Every signal is blocked across it (posix_spawn's discipline), so none is handled in the
  // child before resetHandlers, and one sent to the caller meanwhile is forwarded once the
  // command's pid is known.
  sigset_t all;
  sigset_t previous;
  sigfillset(&all);
  ::sigprocmask(SIG_SETMASK, &all, &previous);
  pid_t pid = ::vfork();
  if (pid == 0) execCommand(command, errorPipe[1]);
  int vforkErrno = errno;
  if (pid > 0) gCommandPid = pid;
  ::sigprocmask(SIG_SETMASK, &previous, nullptr);
  ::close(errorPipe[1]);
  if (pid < 0) {
    result.failedErrno = vforkErrno;
    result.failedStep = "vfork";
    ::close(errorPipe[0]);
    return result;
  }
  readChildFailure(errorPipe[0], command, result);
  ::close(errorPipe[0]);
  while (::waitpid(pid, &result.waitStatus, 0) < 0 && errno == EINTR) {
  }
  gCommandPid = 0;
  return result;
}

}  // namespace netlab::nsmgr
