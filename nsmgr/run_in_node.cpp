#include "nsmgr/run_in_node.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "base/error.hpp"
#include "nsmgr/node_init.hpp"
#include "nsmgr/process.hpp"

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

std::string findInPath(const std::string& program, const std::vector<std::string>& env) {
  if (program.find('/') != std::string::npos) return program;
  std::string path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (const auto& entry : env) {
    if (entry.rfind("PATH=", 0) == 0) path = entry.substr(5);
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string candidate = path.substr(start, end - start) + "/" + program;
    struct stat info {};
    if (::stat(candidate.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    start = end + 1;
  }
  throw Error(program + ": command not found", ENOENT);
}

[[noreturn]] void execCommand(const PreparedCommand& command, int errorPipe) {
  const CommandSpec& spec = command.spec();
  ::sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int signal : kForwardedSignals) ::signal(signal, SIG_DFL);
  if (spec.stdinFd != 0) ::dup2(spec.stdinFd, 0);
  if (spec.stdoutFd != 1) ::dup2(spec.stdoutFd, 1);
  if (spec.stderrFd != 2) ::dup2(spec.stderrFd, 2);
  if (::chdir(spec.workingDirectory.c_str()) < 0) (void)!::chdir("/");
  ::execve(command.program(), command.argv(), command.envp());
  int error = errno;
  (void)!::write(errorPipe, &error, sizeof error);
  ::_exit(127);
}

}  // namespace

PreparedCommand::PreparedCommand(CommandSpec spec) : spec_(std::move(spec)) {
  if (spec_.argv.empty()) throw Error("no command given");
  program_ = findInPath(spec_.argv.front(), spec_.env);
  for (auto& argument : spec_.argv) argv_.push_back(argument.data());
  argv_.push_back(nullptr);
  for (auto& variable : spec_.env) envp_.push_back(variable.data());
  envp_.push_back(nullptr);
}

pid_t spawnInNode(int pidfd, const PreparedCommand& command, const std::string& node) {
  pid_t helper = ::fork();
  if (helper < 0) throw SystemError("fork", "helper for node " + node);
  if (helper == 0) {
    RunResult result = runInNode(pidfd, command);
    ::_exit(result.failedStep ? kCouldNotRun : exitCodeOf(result.waitStatus));
  }
  return helper;
}

RunResult runInNode(int pidfd, const PreparedCommand& command) noexcept {
  RunResult result;
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
  // vfork: the child only resets its signals, redirects and execs, and copying the caller's
  // page tables (netlab's) would be most of the cost of a short command.
  pid_t pid = ::vfork();
  if (pid == 0) execCommand(command, errorPipe[1]);
  ::close(errorPipe[1]);
  if (pid < 0) {
    result.failedErrno = errno;
    result.failedStep = "vfork";
    ::close(errorPipe[0]);
    return result;
  }
  gCommandPid = pid;
  int execErrno = 0;
  while (::read(errorPipe[0], &execErrno, sizeof execErrno) < 0 && errno == EINTR) {
  }
  ::close(errorPipe[0]);
  while (::waitpid(pid, &result.waitStatus, 0) < 0 && errno == EINTR) {
  }
  gCommandPid = 0;
  if (execErrno != 0) {
    result.failedErrno = execErrno;
    result.failedStep = "execve";
  }
  return result;
}

}  // namespace netlab::nsmgr
