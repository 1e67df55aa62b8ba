#include "nsmgr/node_init.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bitset>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstring>
#include <utility>

namespace netlab::nsmgr {
namespace {

// How long init gives the node's processes to exit after forwarding SIGTERM.
constexpr int kGraceSeconds = 2;

// A fixed-size message builder: the child before exec may not allocate.
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

// A mount step's flags, in the order encodeNodeSetup writes them.
constexpr size_t kStepFlags = 7;
std::bitset<kStepFlags> stepFlags(const MountStep& step) {
  std::bitset<kStepFlags> flags;
  flags[0] = step.bindSource;
  flags[1] = step.sourceInNode;
  flags[2] = step.remountReadOnly;
  flags[3] = step.skipIfTargetMissing;
  flags[4] = step.createTarget;
  flags[5] = step.targetIsDirectory;
  flags[6] = step.replaceMounted;
  return flags;
}

void setStepFlags(MountStep& step, const std::bitset<kStepFlags>& flags) {
  step.bindSource = flags[0];
  step.sourceInNode = flags[1];
  step.remountReadOnly = flags[2];
  step.skipIfTargetMissing = flags[3];
  step.createTarget = flags[4];
  step.targetIsDirectory = flags[5];
  step.replaceMounted = flags[6];
}

// Fields of an encoded setup before its host mounts: hostname, layers, lower, user xattrs and
// the number of host mounts; then those of each step: mount flags, step flags, what, source,
// target, fsType, data.
constexpr size_t kHeaderFields = 5;
constexpr size_t kStepFields = 7;

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

// One message of fds marked `kind` (kNamespaceFds, kSourceFds): its fds into `into`, returning
// how many.
size_t receiveFds(char kind, const char* what, int (&into)[kMaxFdsPerMessage]) {
  char byte = 0;
  iovec data{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof into)];
  msghdr message{};
  message.msg_iov = &data;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  ssize_t got;
  while ((got = ::recvmsg(kControlFd, &message, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {
  }
  if (got <= 0) ::_exit(1);  // netlab is gone
  cmsghdr* header = CMSG_FIRSTHDR(&message);
  if (byte != kind || (message.msg_flags & MSG_CTRUNC) || !header ||
      header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) {
    failNode(kControlFd, "receive", what, EPROTO);
  }
  size_t count = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
  std::memcpy(into, CMSG_DATA(header), count * sizeof(int));
  return count;
}

// The fds netlab sends for the bind sources, in step order; -1 where a step needs none.
std::vector<int> receiveBindSources(const NodeSetup& setup) {
  std::vector<int> sourceFds(setup.mounts.size(), -1);
  std::vector<size_t> steps;
  for (size_t i = 0; i < setup.mounts.size(); ++i) {
    if (needsSourceFd(setup.mounts[i])) steps.push_back(i);
  }
  for (size_t next = 0; next < steps.size();) {
    int received[kMaxFdsPerMessage];
    size_t count = receiveFds(kSourceFds, "bind sources", received);
    if (count == 0 || count > steps.size() - next) {
      failNode(kControlFd, "receive", "bind sources", EPROTO);
    }
    for (size_t i = 0; i < count; ++i) sourceFds[steps[next++]] = received[i];
  }
  return sourceFds;
}

// A bind remount sets every per-mount flag at once, so the ones the mount has (nosuid, nodev,
// noexec of a /proc or a /sys) are passed again with read-only.
void remountReadOnly(const MountStep& step) {
  struct statvfs mounted;
  if (::statvfs(step.target.c_str(), &mounted) < 0) {
    failNode(kControlFd, "statvfs", step.what.c_str(), errno);
  }
  unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY;
  for (auto [mountFlag, statFlag] : {std::pair{MS_NOSUID, ST_NOSUID}, std::pair{MS_NODEV, ST_NODEV},
                                     std::pair{MS_NOEXEC, ST_NOEXEC}}) {
    if (mounted.f_flag & statFlag) flags |= mountFlag;
  }
  if (::mount(nullptr, step.target.c_str(), nullptr, flags, nullptr) < 0) {
    failNode(kControlFd, "remount read-only", step.what.c_str(), errno);
  }
}

// Detaches every mount stacked on the target, each with the mounts below it, until the target
// is a plain directory again (EINVAL).
void detachMounted(const MountStep& step) {
  while (::umount2(step.target.c_str(), MNT_DETACH) == 0) {
  }
  if (errno != EINVAL) failNode(kControlFd, "umount", step.what.c_str(), errno);
}

void mountStep(const MountStep& step, int sourceFd) {
  if (::access(step.target.c_str(), F_OK) != 0) {
    if (step.skipIfTargetMissing) return;
    if (step.createTarget) createTarget(step);
  }
  if (step.replaceMounted) detachMounted(step);
  char sourcePath[64] = "";
  const char* source = step.source.empty() ? nullptr : step.source.c_str();
  if (needsSourceFd(step)) {
    // The fresh /proc of the node shows the node's own fds.
    MessageBuffer path{sourcePath, sizeof sourcePath};
    path << "/proc/self/fd/" << sourceFd;
    source = sourcePath;
  }
  const char* fsType = step.fsType.empty() ? nullptr : step.fsType.c_str();
  const char* data = step.data.empty() ? nullptr : step.data.c_str();
  if (::mount(source, step.target.c_str(), fsType, step.flags, data) < 0) {
    failNode(kControlFd, "mount", step.what.c_str(), errno);
  }
  if (step.remountReadOnly) remountReadOnly(step);
}

// Every mount of the node's namespace a slave of the host's: the host's later mounts still reach
// it (a new disk under /mnt), the node's never reach the host.
void makeMountsSlave() {
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) < 0) {
    failNode(kControlFd, "mount", "make / a slave", errno);
  }
}

void mountOrFail(const char* source, const std::string& target, const char* fsType,
                 unsigned long flags, const std::string& data, const std::string& what) {
  if (::mount(source, target.c_str(), fsType, flags, data.empty() ? nullptr : data.c_str()) < 0) {
    failNode(kControlFd, "mount", what.c_str(), errno);
  }
}

void makeDirectory(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) < 0 && errno != EEXIST) {
    failNode(kControlFd, "mkdir", path.c_str(), errno);
  }
}

// The host's filesystem at `hostPath`, at the same place below `root`, read-only with every
// mount below it.
void bindReadOnly(const std::string& hostPath, const std::string& root) {
  const std::string target = root + hostPath;
  mountOrFail(hostPath.c_str(), target, nullptr, MS_BIND | MS_REC, "", "bind " + hostPath);
  mount_attr readOnly{};
  readOnly.attr_set = MOUNT_ATTR_RDONLY;
  if (::mount_setattr(AT_FDCWD, target.c_str(), AT_RECURSIVE, &readOnly, sizeof readOnly) < 0) {
    failNode(kControlFd, "make read-only", target.c_str(), errno);
  }
}

// pivot_root(".", ".") stacks the old root on the new one. It stays there while the node's
// other mounts are made: the sources netlab opened for its binds are in the old tree, and the
// kernel binds only from mounts of the namespace.
void pivotInto(const std::string& root) {
  if (::chdir(root.c_str()) < 0) failNode(kControlFd, "chdir", root.c_str(), errno);
  if (::syscall(SYS_pivot_root, ".", ".") < 0)
    failNode(kControlFd, "pivot_root", root.c_str(), errno);
}

// Then it is detached with all mounted below it: nothing of the host's tree stays reachable but
// what was bound in. "." from "/" is the topmost mount there: the old root.
void detachHostRoot() {
  if (::chdir("/") < 0) failNode(kControlFd, "chdir", "/", errno);
  if (::umount2(".", MNT_DETACH) < 0) failNode(kControlFd, "umount", "the host's root", errno);
}

// OverlayRoot's steps, in order.
void switchToOverlayRoot(const OverlayRoot& root) {
  mountOrFail("tmpfs", root.layers, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755",
              "tmpfs on " + root.layers);
  const std::string upper = root.layers + "/upper";
  const std::string work = root.layers + "/work";
  const std::string merged = root.layers + "/root";
  for (const std::string* directory : {&upper, &work, &merged}) makeDirectory(*directory);
  std::string options = "lowerdir=" + root.lower + ",upperdir=" + upper + ",workdir=" + work;
  if (root.userXattrs) options += ",userxattr";
  mountOrFail("overlay", merged, "overlay", 0, options,
              "overlay of " + root.lower + " on " + merged);
  makeDirectory(merged + "/dev");  // an image may have none
  mountOrFail("/dev", merged + "/dev", nullptr, MS_BIND | MS_REC, "", "bind /dev");
  for (const std::string& hostPath : root.hostMounts) bindReadOnly(hostPath, merged);
  pivotInto(merged);
}

struct OwnedNamespaces {
  int user;
  int net;
};

OwnedNamespaces receiveOwnedNamespaces() {
  int received[kMaxFdsPerMessage];
  if (receiveFds(kNamespaceFds, "namespaces", received) != 2) {
    failNode(kControlFd, "receive", "namespaces", EPROTO);
  }
  return {received[0], received[1]};
}

void enter(int namespaceFd, int type, const char* what) {
  if (::setns(namespaceFd, type) < 0) failNode(kControlFd, "setns", what, errno);
  ::close(namespaceFd);
}

// The order is the one kOwnedNamespaces, kStartNamespaces and kJoinedNamespaces describe.
void setUp(const NodeSetup& setup) {
  OwnedNamespaces owned = receiveOwnedNamespaces();
  std::vector<int> sourceFds = receiveBindSources(setup);
  enter(owned.net, CLONE_NEWNET, "network namespace");
  makeMountsSlave();
  if (!setup.root.layers.empty()) switchToOverlayRoot(setup.root);
  for (size_t i = 0; i < setup.mounts.size(); ++i) mountStep(setup.mounts[i], sourceFds[i]);
  for (int fd : sourceFds) {
    if (fd >= 0) ::close(fd);
  }
  if (!setup.root.layers.empty()) detachHostRoot();
  enter(owned.user, CLONE_NEWUSER, "user namespace");
  if (const char* failed = becomeNamespaceRoot()) failNode(kControlFd, failed, "0", errno);
  if (::unshare(kJoinedNamespaces) < 0) {
    failNode(kControlFd, "unshare", "mount, UTS, IPC and cgroup namespaces", errno);
  }
  if (::sethostname(setup.hostname.c_str(), setup.hostname.size()) < 0) {
    failNode(kControlFd, "sethostname", setup.hostname.c_str(), errno);
  }
  ::chdir("/");
}

// The setup message netlab sends once the node runs netlab-init.
NodeSetup receiveSetup() {
  ssize_t length;
  while ((length = ::recv(kControlFd, nullptr, 0, MSG_PEEK | MSG_TRUNC)) < 0 && errno == EINTR) {
  }
  if (length <= 0) ::_exit(1);  // netlab is gone
  std::string message(static_cast<size_t>(length), '\0');
  if (::recv(kControlFd, message.data(), message.size(), 0) != length) ::_exit(1);
  NodeSetup setup;
  if (!decodeNodeSetup(message, setup)) failNode(kControlFd, "decode", "setup message", EPROTO);
  return setup;
}

// Every child that has ended, until none has (0) or there is none left (ECHILD).
void reapChildren() {
  for (;;) {
    pid_t reaped = ::waitpid(-1, nullptr, WNOHANG);
    if (reaped > 0 || (reaped < 0 && errno == EINTR)) continue;
    return;
  }
}

// Whether init is the node's only process: its /proc, the node's PID namespace's, lists no
// other pid. Not known, so false, when /proc cannot be read (node root may unmount it).
bool aloneInNode() {
  int proc = ::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (proc < 0) return false;
  alignas(dirent64) char entries[4096];
  bool alone = true;
  long got = 0;
  while (alone && (got = ::syscall(SYS_getdents64, proc, entries, sizeof entries)) > 0) {
    for (long offset = 0; offset < got;) {
      const auto* entry = reinterpret_cast<const dirent64*>(entries + offset);
      offset += entry->d_reclen;
      const char* name = entry->d_name;
      if (name[0] >= '1' && name[0] <= '9' && std::strcmp(name, "1") != 0) alone = false;
    }
  }
  if (got < 0) alone = false;
  ::close(proc);
  return alone;
}

// After SIGTERM: every other process of the node gets it, and a grace period to exit, which
// init spends reaping its children. Alone, init leaves at once: kill(-1) walks every process
// of the machine, and a thousand inits stopped together by `down` walked them a thousand times.
[[noreturn]] void shutDown() {
  if (aloneInNode()) ::_exit(0);
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

// The next of `signals`, from signalFd while it works. A signalfd read with room for a whole
// signal fails only with EINTR, but should it ever fail otherwise, or return no signal, init
// closes it and waits with sigwaitinfo instead, whose only failure is EINTR: retrying a failed
// read at once would spin PID 1 at full CPU, and leave the node's orphans unreaped.
int nextSignal(int& signalFd, const sigset_t& signals) {
  for (;;) {
    if (signalFd >= 0) {
      signalfd_siginfo info;
      ssize_t got = ::read(signalFd, &info, sizeof info);
      if (got == sizeof info) return static_cast<int>(info.ssi_signo);
      if (got < 0 && errno == EINTR) continue;
      ::close(signalFd);
      signalFd = -1;
    }
    int signal = ::sigwaitinfo(&signals, nullptr);
    if (signal > 0) return signal;
    if (errno != EINTR) {
      // No such failure is documented; should one come, wait rather than spin.
      timespec pause{1, 0};
      ::nanosleep(&pause, nullptr);
    }
  }
}

}  // namespace

void serveAsInit(int signalFd, const sigset_t& signals) noexcept {
  for (;;) {
    int signal = nextSignal(signalFd, signals);
    if (signal == SIGCHLD) reapChildren();
    if (signal == SIGTERM || signal == SIGINT) shutDown();
  }
}

const char* becomeNamespaceRoot() noexcept {
  // EPERM only where setgroups is denied: a rootless lab's user namespace denies it (the kernel
  // lets an ordinary user map their gid only so), and its nodes' namespaces inherit that. The
  // groups kept then are the user's own, which the user has on the host anyway.
  if (::syscall(SYS_setgroups, 0, nullptr) < 0 && errno != EPERM) return "setgroups";
  if (::syscall(SYS_setresgid, 0, 0, 0) < 0) return "setresgid";
  if (::syscall(SYS_setresuid, 0, 0, 0) < 0) return "setresuid";
  return nullptr;
}

std::string encodeNodeSetup(const NodeSetup& setup) {
  std::string message;
  for (const std::string& field : {setup.hostname, setup.root.layers, setup.root.lower,
                                   std::string(setup.root.userXattrs ? "1" : "0"),
                                   std::to_string(setup.root.hostMounts.size())}) {
    message += field;
    message += '\0';
  }
  for (const std::string& mount : setup.root.hostMounts) {
    message += mount;
    message += '\0';
  }
  for (const MountStep& step : setup.mounts) {
    for (const std::string& field : {std::to_string(step.flags), stepFlags(step).to_string(),
                                     step.what, step.source, step.target, step.fsType, step.data}) {
      message += field;
      message += '\0';
    }
  }
  return message;
}

bool decodeNodeSetup(std::string_view message, NodeSetup& setup) {
  // Every field ends with a NUL (paths, names and mount data cannot hold one).
  std::vector<std::string_view> fields;
  for (size_t end; !message.empty(); message.remove_prefix(end + 1)) {
    end = message.find('\0');
    if (end == std::string_view::npos) return false;
    fields.push_back(message.substr(0, end));
  }
  if (fields.size() < kHeaderFields || (fields[3] != "0" && fields[3] != "1")) return false;
  size_t hostMounts = 0;
  auto [countEnd, countError] =
      std::from_chars(fields[4].data(), fields[4].data() + fields[4].size(), hostMounts);
  if (countError != std::errc() || countEnd != fields[4].data() + fields[4].size() ||
      hostMounts > fields.size() - kHeaderFields) {
    return false;
  }
  const size_t firstStep = kHeaderFields + hostMounts;
  if ((fields.size() - firstStep) % kStepFields != 0) return false;
  setup = NodeSetup{std::string(fields[0]),
                    {std::string(fields[1]),
                     std::string(fields[2]),
                     {fields.begin() + kHeaderFields, fields.begin() + firstStep},
                     fields[3] == "1"},
                    {}};
  for (size_t first = firstStep; first < fields.size(); first += kStepFields) {
    const std::string_view* field = &fields[first];
    MountStep step;
    auto [end, error] =
        std::from_chars(field[0].data(), field[0].data() + field[0].size(), step.flags);
    if (error != std::errc() || end != field[0].data() + field[0].size()) return false;
    if (field[1].size() != kStepFlags || field[1].find_first_not_of("01") != std::string::npos) {
      return false;
    }
    setStepFlags(step, std::bitset<kStepFlags>(field[1].data(), field[1].size()));
    step.what = field[2];
    step.source = field[3];
    step.target = field[4];
    step.fsType = field[5];
    step.data = field[6];
    setup.mounts.push_back(std::move(step));
  }
  return true;
}

ChildReport failureReport(const char* operation, const char* object, int error) noexcept {
  ChildReport report;
  report.error = error;
  MessageBuffer message{report.message, sizeof report.message};
  message << operation << "(" << object << ")";
  return report;
}

void failNode(int controlFd, const char* operation, const char* object, int error) noexcept {
  ChildReport report = failureReport(operation, object, error);
  (void)!::write(controlFd, &report, sizeof report);
  ::_exit(1);
}

char awaitControl(int controlFd) noexcept {
  char byte = 0;
  for (;;) {
    ssize_t got = ::read(controlFd, &byte, 1);
    if (got == 1) return byte;
    if (got == 0 || errno != EINTR) ::_exit(1);
  }
}

void runNodeInit() noexcept {
  // Signals stay blocked for the node's whole life: init takes them from a signalfd, and a
  // PID namespace's init ignores signals it has no handler for anyway.
  sigset_t signals;
  ::sigfillset(&signals);
  ::sigprocmask(SIG_SETMASK, &signals, nullptr);
  // A failed allocation (the only exception possible) terminates the node: the parent reads
  // end-of-file.
  setUp(receiveSetup());
  ChildReport ready;
  if (::write(kControlFd, &ready, sizeof ready) != sizeof ready) ::_exit(1);
  if (awaitControl(kControlFd) != kDetach) ::_exit(1);
  ::close(kControlFd);
  // Without a signalfd (-1), serveAsInit waits with sigwaitinfo.
  serveAsInit(::signalfd(-1, &signals, SFD_CLOEXEC), signals);
}

}  // namespace netlab::nsmgr
