#include "nsmgr/node_keeper.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <sstream>
#include <thread>

#include "base/error.hpp"
#include "base/fd.hpp"

namespace netlab::nsmgr {
namespace {

// The keeper's lock, as the worker hands it over.
constexpr int kLockFd = 3;

// What the worker knows of itself: where its exit code goes, and, once it has started inits,
// the lab they belong to and its lock on keepers/PID there.
struct Worker {
  bool active = false;
  pid_t command = 0;  // the process waiting for the worker
  int statusFd = -1;
  std::string labPath;
  Fd lock;
};
Worker worker;

sigset_t forwardedSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  for (int signal : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&signals, signal);
  return signals;
}

std::string exitPath(pid_t pid) {
  return "exits/" + std::to_string(pid);
}

// Whether this process has a child, ended or not (waited for without reaping it).
bool hasChildren() {
  siginfo_t info{};
  return ::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == 0;
}

// The worker, its work done and reported by its stdio, leaves the terminal, sends its exit code
// and becomes the keeper of the inits it started; only system calls from the code's write on.
// Without inits it just exits with the code, which the command then has from waitpid: the
// command returns once its worker is gone.
[[noreturn]] void finishWorker(int code) {
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  const bool keeps = worker.lock.valid() && hasChildren();
  if (keeps) {
    ::setsid();
    int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    for (int fd = 0; fd <= 2; ++fd) ::dup2(null, fd);
  }
  if (!keeps) std::exit(code);
  ::prctl(PR_SET_PDEATHSIG, 0);  // the keeper outlives the command
  const unsigned char byte = static_cast<unsigned char>(code);
  while (::write(worker.statusFd, &byte, 1) < 0 && errno == EINTR) {
  }
  // The lock passes to the keeper on kLockFd. When it is there already, dup2 does nothing and
  // leaves it close-on-exec, so the flag is cleared either way: without it the exec would drop
  // the lock, and `down` would not wait for the keeper.
  if (::dup2(worker.lock.get(), kLockFd) == kLockFd && ::fcntl(kLockFd, F_SETFD, 0) == 0 &&
      ::syscall(SYS_close_range, kLockFd + 1, ~0u, 0) == 0 && ::chdir("/") == 0) {
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    const char* argv[] = {"netlab", "__keep", worker.labPath.c_str(), nullptr};
    ::execv("/proc/self/exe", const_cast<char* const*>(argv));
  }
  ::_exit(code);  // the inits go unkept: their ends are reaped by whoever adopts them
}

// The command's side: the worker's exit code, the user's signals passed on meanwhile. The code
// comes over the pipe from a worker that stays as a keeper, else from its end, and a worker
// killed by a signal has this process die of it too.
int awaitWorker(pid_t child, const Fd& status, const sigset_t& forwarded) {
  Fd signals(::signalfd(-1, &forwarded, SFD_CLOEXEC));
  if (!signals) throw SystemError("signalfd", "the signals for netlab's worker");
  for (;;) {
    pollfd ready[] = {{status.get(), POLLIN, 0}, {signals.get(), POLLIN, 0}};
    if (::poll(ready, 2, -1) < 0) {
      if (errno == EINTR) continue;
      throw SystemError("poll", "netlab's worker");
    }
    if (ready[1].revents & POLLIN) {
      signalfd_siginfo info;
      if (::read(signals.get(), &info, sizeof info) == sizeof info) {
        ::kill(child, static_cast<int>(info.ssi_signo));
      }
    }
    if (!(ready[0].revents & (POLLIN | POLLHUP))) continue;
    unsigned char code = 0;
    ssize_t got = ::read(status.get(), &code, 1);
    if (got == 1) return code;
    if (got < 0 && errno == EINTR) continue;
    int waitStatus = 0;
    while (::waitpid(child, &waitStatus, 0) < 0 && errno == EINTR) {
    }
    if (WIFSIGNALED(waitStatus)) {
      const int signal = WTERMSIG(waitStatus);
      ::signal(signal, SIG_DFL);
      sigset_t only;
      sigemptyset(&only);
      sigaddset(&only, signal);
      ::sigprocmask(SIG_UNBLOCK, &only, nullptr);
      ::raise(signal);
    }
    return WIFEXITED(waitStatus) ? WEXITSTATUS(waitStatus) : 1;
  }
}

// Written whole under a temporary name, then renamed, so a reader never sees half a record. A
// lab removed meanwhile (`down`) has nothing to write to: that is not an error.
void writeRecord(const Fd& exits, pid_t pid, const InitExit& exit) {
  const std::string name = std::to_string(pid);
  const std::string temporary = "." + name + ".new";
  Fd file(::openat(exits.get(), temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!file) return;
  const std::string record = toRecord(exit);
  if (::write(file.get(), record.data(), record.size()) != ssize_t(record.size())) {
    ::unlinkat(exits.get(), temporary.c_str(), 0);
    return;
  }
  ::renameat(exits.get(), temporary.c_str(), exits.get(), name.c_str());
}

}  // namespace

InitExit initExitOf(const siginfo_t& child) {
  InitExit exit;
  if (child.si_code == CLD_EXITED) exit.code = child.si_status;
  if (child.si_code == CLD_KILLED || child.si_code == CLD_DUMPED) {
    exit.signal = child.si_status;
    exit.coreDumped = child.si_code == CLD_DUMPED;
  }
  return exit;
}

std::string toRecord(const InitExit& exit) {
  if (exit.code) return "code " + std::to_string(*exit.code) + "\n";
  if (exit.signal) {
    return "signal " + std::to_string(*exit.signal) + (exit.coreDumped ? " core" : "") + "\n";
  }
  return "unknown\n";
}

InitExit initExitFromRecord(const std::string& record) {
  std::istringstream words(record);
  std::string kind, extra;
  int value = 0;
  words >> kind;
  InitExit exit;
  if (kind == "unknown") return exit;
  if (!(words >> value) || (kind != "code" && kind != "signal")) {
    throw Error("not an exit record: `" + record + "`");
  }
  if (kind == "code") exit.code = value;
  if (kind == "signal") {
    exit.signal = value;
    exit.coreDumped = (words >> extra) && extra == "core";
  }
  return exit;
}

int runKeepingInits(const std::function<int()>& command) {
  const sigset_t forwarded = forwardedSignals();
  sigset_t previous;
  ::pthread_sigmask(SIG_BLOCK, &forwarded, &previous);
  int pipe[2];
  if (::pipe2(pipe, O_CLOEXEC) < 0) throw SystemError("pipe2", "netlab's worker");
  Fd status(pipe[0]), statusOut(pipe[1]);
  const pid_t parent = ::getpid();
  const pid_t child = ::fork();
  if (child < 0) throw SystemError("fork", "netlab's worker");
  if (child == 0) {
    status.reset();
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);  // the command is gone already
    ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    worker.active = true;
    worker.command = parent;
    worker.statusFd = statusOut.release();
    finishWorker(command());
  }
  statusOut.reset();
  return awaitWorker(child, status, forwarded);
}

std::optional<pid_t> waitingCommand() {
  if (!worker.active) return std::nullopt;
  return worker.command;
}

void keepExitStatuses(const LabDirectory& directory) {
  if (!worker.active || worker.lock.valid()) return;
  try {
    directory.makeDirectory("exits");
    directory.makeDirectory("keepers");
    // Locked now, so that a `down` right after the command waits for the keeper.
    Fd lock = directory.openFile("keepers/" + std::to_string(::getpid()), O_RDWR | O_CREAT);
    if (::flock(lock.get(), LOCK_EX) < 0) throw SystemError("flock", directory.pathOf("keepers"));
    worker.lock = std::move(lock);
    worker.labPath = directory.path();
  } catch (const Error& error) {
    std::cerr << "netlab: warning: how the nodes started now end will not be recorded: "
              << error.what() << '\n';
  }
}

int runNodeKeeper(const std::string& labPath) {
  Fd lab = openFile(labPath, O_RDONLY | O_DIRECTORY);
  Fd exits = openAt(lab, "exits", O_RDONLY | O_DIRECTORY);
  for (;;) {
    siginfo_t info{};
    if (::waitid(P_ALL, 0, &info, WEXITED) < 0) {
      if (errno == EINTR) continue;
      if (errno == ECHILD) return 0;
      throw SystemError("waitid", "the lab's inits");
    }
    writeRecord(exits, info.si_pid, initExitOf(info));
  }
}

std::optional<InitExit> recordedExit(const LabDirectory& directory, pid_t pid) {
  auto record = directory.readFile(exitPath(pid));
  if (!record) return std::nullopt;
  return initExitFromRecord(*record);
}

void forgetExit(const LabDirectory& directory, pid_t pid) {
  std::string path = directory.pathOf(exitPath(pid));
  if (::unlink(path.c_str()) < 0 && errno != ENOENT) throw SystemError("unlink", path);
}

void awaitKeepers(const LabDirectory& directory, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (const auto& name : directory.entries("keepers")) {
    Fd lock = directory.openFile("keepers/" + name, O_RDONLY);
    while (::flock(lock.get(), LOCK_SH | LOCK_NB) < 0 &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
}

}  // namespace netlab::nsmgr
