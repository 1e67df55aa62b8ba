#include "nsmgr/node_init.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

namespace netlab::nsmgr {
namespace {

// How long init gives the node's processes to exit after forwarding SIGTERM.
constexpr int kGraceSeconds = 2;
constexpr int kControlFd = 3;

// A fixed-size message builder: the child may not allocate.
struct MessageBuffer {
  char* text;
  size_t capacity;
  size_t length = 0;
  MessageBuffer& operator<<(const char* part) {
    while (*part && length + 1 < capacity) text[length++] = *part++;
    text[length] = '\0';
    return *this;
  }
  MessageBuffer& operator<<(int value) {
    char digits[12];
    int count = 0;
    do {
      digits[count++] = static_cast<char>('0' + value % 10);
      value /= 10;
    } while (value > 0 && count < 11);
    char ordered[12];
    for (int i = 0; i < count; ++i) ordered[i] = digits[count - 1 - i];
    ordered[count] = '\0';
    return *this << static_cast<const char*>(ordered);
  }
};

[[noreturn]] void fail(int controlFd, const char* operation, const char* object, int error) {
  ChildReport report;
  report.error = error;
  MessageBuffer message{report.message, sizeof report.message};
  message << operation << "(" << object << ")";
  (void)!::write(controlFd, &report, sizeof report);
  ::_exit(1);
}

// Reads one control byte; end-of-file (the parent is gone) ends the node.
char awaitControl(int controlFd) {
  char byte = 0;
  for (;;) {
    ssize_t got = ::read(controlFd, &byte, 1);
    if (got == 1) return byte;
    if (got == 0 || errno != EINTR) ::_exit(1);
  }
}

// The node keeps only its control socket: fds inherited from netlab would otherwise keep
// other nodes' namespaces alive and netlab's stdout open.
void keepOnlyControlSocket(int controlFd) {
  int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0) fail(controlFd, "open", "/dev/null", errno);
  if (::dup3(controlFd, kControlFd, O_CLOEXEC) < 0)
    fail(controlFd, "dup3", "control socket", errno);
  for (int stdFd = 0; stdFd < 3; ++stdFd) ::dup2(null, stdFd);
  ::close_range(kControlFd + 1, ~0U, 0);
}

// mkdir -p for a path on the node's tmpfs; the path fits PATH_MAX (validated by the parent).
void makeParents(const char* path, bool includeLast) {
  char partial[PATH_MAX];
  size_t length = std::strlen(path);
  if (length >= sizeof partial) return;
  std::memcpy(partial, path, length + 1);
  for (size_t i = 1; i <= length; ++i) {
    if (partial[i] != '/' && partial[i] != '\0') continue;
    if (partial[i] == '\0' && !includeLast) break;
    char saved = partial[i];
    partial[i] = '\0';
    ::mkdir(partial, 0755);
    partial[i] = saved;
  }
}

void createTarget(const MountStep& step) {
  makeParents(step.target.c_str(), step.targetIsDirectory);
  if (step.targetIsDirectory) return;
  int created = ::open(step.target.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (created >= 0) ::close(created);
}

void openBindSources(NodeSetup& setup, int controlFd) {
  for (size_t i = 0; i < setup.mounts.size(); ++i) {
    const MountStep& step = setup.mounts[i];
    if (!step.bindSource || step.sourceInNode) continue;
    int fd = ::open(step.source.c_str(), O_PATH | O_CLOEXEC);
    if (fd < 0) fail(controlFd, "open", step.source.c_str(), errno);
    setup.sourceFds[i] = fd;
  }
}

void mountStep(const MountStep& step, int sourceFd, int controlFd) {
  if (::access(step.target.c_str(), F_OK) != 0) {
    if (step.skipIfTargetMissing) return;
    if (step.createTarget) createTarget(step);
  }
  char sourcePath[64] = "";
  const char* source = step.source.empty() ? nullptr : step.source.c_str();
  if (step.bindSource && !step.sourceInNode) {
    // The fresh /proc of the node shows the node's own fds.
    MessageBuffer path{sourcePath, sizeof sourcePath};
    path << "/proc/self/fd/" << sourceFd;
    source = sourcePath;
  }
  const char* fsType = step.fsType.empty() ? nullptr : step.fsType.c_str();
  const char* data = step.data.empty() ? nullptr : step.data.c_str();
  if (::mount(source, step.target.c_str(), fsType, step.flags, data) < 0) {
    fail(controlFd, "mount", step.what.c_str(), errno);
  }
  if (step.remountReadOnly && ::mount(nullptr, step.target.c_str(), nullptr,
                                      MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr) < 0) {
    fail(controlFd, "remount read-only", step.what.c_str(), errno);
  }
}

void setUp(NodeSetup& setup, int controlFd) {
  if (::sethostname(setup.hostname.c_str(), setup.hostname.size()) < 0) {
    fail(controlFd, "sethostname", setup.hostname.c_str(), errno);
  }
  openBindSources(setup, controlFd);
  for (size_t i = 0; i < setup.mounts.size(); ++i) {
    mountStep(setup.mounts[i], setup.sourceFds[i], controlFd);
  }
  for (int fd : setup.sourceFds) {
    if (fd >= 0) ::close(fd);
  }
  ::chdir("/");
}

void reapChildren() {
  while (::waitpid(-1, nullptr, WNOHANG) > 0) {
  }
}

// After SIGTERM: every other process of the node gets it, and a grace period to exit.
[[noreturn]] void shutDown() {
  ::kill(-1, SIGTERM);
  timespec deadline;
  ::clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += kGraceSeconds;
  for (;;) {
    pid_t reaped = ::waitpid(-1, nullptr, WNOHANG);
    if (reaped < 0 && errno == ECHILD) break;
    timespec now;
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec > deadline.tv_sec ||
        (now.tv_sec == deadline.tv_sec && now.tv_nsec >= deadline.tv_nsec)) {
      break;
    }
    if (reaped <= 0) {
      timespec pause{0, 10'000'000};
      ::nanosleep(&pause, nullptr);
    }
  }
  // The kernel kills whatever is left when a PID namespace's init exits.
  ::_exit(0);
}

// The node's PID 1: reaps orphans and turns SIGTERM/SIGINT into an orderly end of the node.
[[noreturn]] void beInit(const sigset_t& signals) {
  int signalFd = ::signalfd(-1, &signals, SFD_CLOEXEC);
  if (signalFd < 0) ::_exit(1);
  for (;;) {
    signalfd_siginfo info;
    ssize_t got = ::read(signalFd, &info, sizeof info);
    if (got != sizeof info) continue;
    if (info.ssi_signo == SIGCHLD) reapChildren();
    if (info.ssi_signo == SIGTERM || info.ssi_signo == SIGINT) shutDown();
  }
}

}  // namespace

void runNode(NodeSetup& setup, int controlFd) noexcept {
  // Signals stay blocked for the node's whole life: init takes them from a signalfd, and a
  // PID namespace's init ignores signals it has no handler for anyway.
  sigset_t signals;
  ::sigfillset(&signals);
  ::sigprocmask(SIG_SETMASK, &signals, nullptr);
  ::prctl(PR_SET_NAME, "netlab-init", 0, 0, 0);
  keepOnlyControlSocket(controlFd);
  if (awaitControl(kControlFd) != kMapsWritten) ::_exit(1);
  setUp(setup, kControlFd);
  ChildReport ready;
  if (::write(kControlFd, &ready, sizeof ready) != sizeof ready) ::_exit(1);
  if (awaitControl(kControlFd) != kDetach) ::_exit(1);
  ::close(kControlFd);
  beInit(signals);
}

}  // namespace netlab::nsmgr
