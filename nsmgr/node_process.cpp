#include "nsmgr/node_process.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/futex.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <utility>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

#include "base/error.hpp"
#include "base/helper_program.hpp"
#include "nsmgr/namespaces.hpp"
#include "nsmgr/raw_syscall.hpp"
#include "nsmgr/rootless.hpp"

namespace netlab::nsmgr {

// The node runs here only until it execs: a few system calls, no allocation.
constexpr size_t kLaunchStackBytes = 64 * 1024;
// The namespace owner only waits to be killed.
constexpr size_t kOwnerStackBytes = 16 * 1024;

// What a launcher's children run on while they share netlab's memory: the node until it has
// exec'd netlab-init, the owner of its namespaces until it has died. The launcher keeps one for
// all its nodes and waits, before each reuse and before freeing it, until the kernel says that
// child has left netlab's address space (awaitLeft).
struct LaunchArea {
  // Set non-zero before each clone; the kernel zeroes it and wakes its futex once the child no
  // longer runs in this address space, at exec or at exit (CLONE_CHILD_CLEARTID: the futex
  // pthread_join waits on).
  std::atomic<int> nodeHere{0};
  std::atomic<int> ownerHere{0};
  pid_t nodePid = 0;
  pid_t ownerPid = 0;
  // Read by the node, written only while no node runs here.
  int controlFd = -1;   // the node's end of the control socket: the launcher's slot
  const char* program;  // netlab-init
  pid_t netlabPid = 0;  // the owner's parent
  alignas(16) std::byte stack[kLaunchStackBytes];  // left uninitialised: only its top is used
  alignas(16) std::byte ownerStack[kOwnerStackBytes];
};

namespace {

// By default node root is host root (uid and gid 0 map to 0, and so on for the whole range), so
// host programs and files work unchanged inside; the node's capabilities still reach only the
// namespaces its user namespace owns. An isolated node maps its ids to a block of unprivileged
// host ids instead. One line either way, far below the kernel's 340 (5 before Linux 4.15).
// setgroups stays allowed: daemons such as FRR drop privileges with it.
// In a rootless lab (nsmgr/rootless.hpp) a node maps what the lab's user namespace maps: its
// root (the user) and, given one, the user's subordinate range.
std::string idMap(const std::optional<topo::IdRange>& isolatedIds) {
  if (rootless()) {
    // Line for line as the lab's own map: the kernel maps each line of a child's map through a
    // single line of its parent's.
    const uint32_t ids = labIdCount();
    return ids == 1 ? "0 0 1\n" : "0 0 1\n1 1 " + std::to_string(ids - 1) + "\n";
  }
  if (!isolatedIds) return "0 0 4294967295\n";
  return "0 " + std::to_string(isolatedIds->first) + " " + std::to_string(isolatedIds->count) +
         "\n";
}

void writeProcFile(pid_t pid, const char* name, std::string_view content) {
  writeWholeFile("/proc/" + std::to_string(pid) + "/" + name, content);
}

void sendControl(const Fd& control, std::string_view message, const std::string& nodeName) {
  while (::send(control.get(), message.data(), message.size(), MSG_NOSIGNAL) < 0) {
    if (errno != EINTR) throw SystemError("send", "control socket of node " + nodeName);
  }
}

void sendFds(const Fd& control, char kind, const int* fds, size_t count, const std::string& what) {
  char byte = kind;
  iovec data{&byte, 1};
  alignas(cmsghdr) char buffer[CMSG_SPACE(kMaxFdsPerMessage * sizeof(int))] = {};
  msghdr message{};
  message.msg_iov = &data;
  message.msg_iovlen = 1;
  message.msg_control = buffer;
  message.msg_controllen = CMSG_SPACE(count * sizeof(int));
  cmsghdr* header = CMSG_FIRSTHDR(&message);
  header->cmsg_level = SOL_SOCKET;
  header->cmsg_type = SCM_RIGHTS;
  header->cmsg_len = CMSG_LEN(count * sizeof(int));
  std::memcpy(CMSG_DATA(header), fds, count * sizeof(int));
  while (::sendmsg(control.get(), &message, MSG_NOSIGNAL) < 0) {
    if (errno != EINTR) throw SystemError("sendmsg", what);
  }
}

// The node's bind sources (needsSourceFd), opened in its mount namespace: a bind mount's source
// must belong to the mount namespace it is mounted in. Resolved inside the node's root, where
// an absolute symlink means what it will mean in the node.
void sendBindSources(pid_t pid, const NodeSetup& setup, const Fd& control,
                     const std::string& nodeName) {
  Fd root;
  std::vector<Fd> sources;
  std::vector<int> numbers;
  for (const MountStep& step : setup.mounts) {
    if (!needsSourceFd(step)) continue;
    if (!root) root = openFile("/proc/" + std::to_string(pid) + "/root", O_PATH | O_DIRECTORY);
    sources.push_back(openInRoot(root, step.source, O_PATH, step.source));
    numbers.push_back(sources.back().get());
  }
  for (size_t first = 0; first < numbers.size(); first += kMaxFdsPerMessage) {
    size_t count = std::min(kMaxFdsPerMessage, numbers.size() - first);
    sendFds(control, kSourceFds, numbers.data() + first, count, "bind sources of node " + nodeName);
  }
}

// netlab-init beside the running program, in the install's helper directory, else the one built
// with it (base/helper_program.hpp).
const std::string& initProgram() {
  static const std::string path = helperProgram("netlab-init", NETLAB_INIT_PATH);
  return path;
}

static_assert(sizeof(std::atomic<int>) == sizeof(int) && std::atomic<int>::is_always_lock_free,
              "the kernel clears and wakes these words as plain ints");
int* futexWord(std::atomic<int>& word) {
  return reinterpret_cast<int*>(&word);
}
// Any value but 0 means "a child runs here"; the kernel's own write is 0.
constexpr int kChildHere = 1;

// Whether the child has ended (a zombie, or already reaped), without reaping it.
bool hasEnded(pid_t pid) noexcept {
  siginfo_t info{};
  if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) < 0) {
    return errno == ECHILD;
  }
  return info.si_pid == pid;
}

// Waits until the child cloned with CLONE_CHILD_CLEARTID on word has left netlab's address
// space. The kernel clears the word at exec and at exit, except for a child killed by a signal
// that dumps core, whose word it leaves for the debugger: hence the look every so often at
// whether the child has ended.
void awaitLeft(std::atomic<int>& word, pid_t pid) noexcept {
  constexpr timespec kLook{0, 50'000'000};
  while (word.load() != 0) {
    // Shared, not private: the kernel wakes a child's tid word as a shared futex.
    long waited = ::syscall(SYS_futex, futexWord(word), FUTEX_WAIT, kChildHere, &kLook);
    if (waited < 0 && errno == ETIMEDOUT && hasEnded(pid)) return;
  }
}

// AddressSanitizer marks the redzones of a child's stack frames in the shadow memory it shares
// with netlab, and a child that execs or exits never returns from those frames to clear them:
// before a stack is used again, its marks go, or the next child's writes look like overflows
// and it dies reporting one instead of its failure.
void forgetEarlierFrames(std::byte* stack, size_t bytes) noexcept {
#if defined(__SANITIZE_ADDRESS__)
  ASAN_UNPOISON_MEMORY_REGION(stack, bytes);
#else
  static_cast<void>(stack);
  static_cast<void>(bytes);
#endif
}

// Blocks every signal of the calling thread while it lives, so a child cloned meanwhile starts
// with them all blocked: no handler of netlab's can run in it, on memory it shares with netlab,
// before it execs (which resets the handlers).
class SignalsBlocked {
 public:
  SignalsBlocked() {
    sigset_t all;
    ::sigfillset(&all);
    ::pthread_sigmask(SIG_SETMASK, &all, &previous_);
  }
  ~SignalsBlocked() { ::pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }
  SignalsBlocked(const SignalsBlocked&) = delete;
  SignalsBlocked& operator=(const SignalsBlocked&) = delete;

 private:
  sigset_t previous_;
};

// Lives only to create the node's user and network namespaces (kOwnedNamespaces), which
// netlab then opens; with every signal blocked, only SIGKILL ends it: netlab's, or the
// kernel's when the thread that cloned it is gone (netlab killed meanwhile). It shares
// netlab's fd table, so it must not outlive netlab, or it would keep netlab's stdout open.
// Raw system calls only (nsmgr/raw_syscall.hpp): it shares netlab's memory, errno included.
int holdNamespaces(void* argument) noexcept {
  pid_t netlab = *static_cast<pid_t*>(argument);
  raw::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (raw::getppid() != netlab) raw::exitNow(1);  // netlab died before the prctl
  const raw::KernelSigset all = ~raw::KernelSigset{0};
  for (;;) raw::sigsuspend(&all);
}

// The node's user namespace, owning its network namespace, made by a short-lived process:
// netlab, multithreaded, cannot unshare a user namespace itself, and the node must begin in the
// host's (see kOwnedNamespaces). Returns the owner, killed but not yet reaped: it runs on the
// area's owner stack until the kernel clears area.ownerHere.
ChildProcess createOwnedNamespaces(LaunchArea& area,
                                   const std::optional<topo::IdRange>& isolatedIds,
                                   const std::string& nodeName, Fd& userns, Fd& netns) {
  awaitLeft(area.ownerHere, area.ownerPid);  // the previous node's, killed long ago
  forgetEarlierFrames(area.ownerStack, kOwnerStackBytes);
  area.netlabPid = ::getpid();
  area.ownerHere.store(kChildHere);
  pid_t pid;
  {
    SignalsBlocked blocked;
    pid = ::clone(holdNamespaces, area.ownerStack + kOwnerStackBytes,
                  kOwnedNamespaces | CLONE_VM | CLONE_FILES | CLONE_CHILD_CLEARTID | SIGCHLD,
                  &area.netlabPid, nullptr, nullptr, futexWord(area.ownerHere));
  }
  if (pid < 0) {
    area.ownerHere.store(0);
    throw SystemError("clone", "user and network namespaces of node " + nodeName);
  }
  area.ownerPid = pid;
  // Held by pid alone until reaped: a pidfd per node until the nodes are ready would take a
  // fourth of the fds a lab needs.
  ChildProcess owner(pid, Fd());
  writeIdMaps(pid, isolatedIds);
  userns = openNamespace(pid, "user");
  netns = openNamespace(pid, "net");
  ::kill(pid, SIGKILL);
  return owner;
}

// The node's first moments, in netlab's memory until the exec, while the thread that cloned it
// goes on (it waits for the exec only at the next start). So the node reads only the launch
// area, which nothing writes while the node runs on it, and writes nothing of netlab's: raw
// system calls, whose failures come back as values, never through the errno it would share
// with that thread; a failure goes to netlab as a ChildReport over the control socket. Signals
// stay blocked (SignalsBlocked) through the exec, and in netlab-init.
[[noreturn]] void failLaunch(int controlFd, const char* operation, const char* object,
                             long result) noexcept {
  ChildReport report = failureReport(operation, object, raw::errorOf(result));
  raw::write(controlFd, &report, sizeof report);
  raw::exitNow(1);
}

// Leaves the node with its control socket on kControlFd, kept across exec, and /dev/null as
// stdin, stdout and stderr: fds inherited from netlab would otherwise keep other nodes'
// namespaces alive and netlab's stdout open.
void keepOnlyControlSocket(int controlFd) noexcept {
  // The control socket goes first, so /dev/null cannot land on kControlFd; dup3 cannot move a
  // fd onto itself, so one already there only loses its close-on-exec flag.
  long moved = controlFd == kControlFd ? raw::fcntl(controlFd, F_SETFD, 0)
                                       : raw::dup3(controlFd, kControlFd, 0);
  if (moved < 0) failLaunch(controlFd, "dup2", "control socket", moved);
  // Not close-on-exec: started with a standard fd closed, netlab may see /dev/null land on it.
  long null = raw::openat(AT_FDCWD, "/dev/null", O_RDWR);
  if (null < 0) failLaunch(kControlFd, "open", "/dev/null", null);
  for (int stdFd = 0; stdFd < 3; ++stdFd) {
    long duplicated = null == stdFd ? 0 : raw::dup3(static_cast<int>(null), stdFd, 0);
    if (duplicated < 0) failLaunch(kControlFd, "dup2", "/dev/null", duplicated);
  }
  long closed = raw::closeRange(kControlFd + 1, ~0U, 0);
  if (closed < 0) failLaunch(kControlFd, "close_range", "netlab's fds", closed);
}

// It shares netlab's fd table until its first system call, which takes a table of its own
// holding only the fds up to its control socket.
int launchNode(void* argument) noexcept {
  const auto& area = *static_cast<const LaunchArea*>(argument);
  long unshared = raw::closeRange(area.controlFd + 1, ~0U, CLOSE_RANGE_UNSHARE);
  if (unshared < 0) failLaunch(area.controlFd, "close_range", "netlab's fd table", unshared);
  keepOnlyControlSocket(area.controlFd);
  char name[] = "netlab-init";
  char* const argv[] = {name, nullptr};
  char* const envp[] = {nullptr};
  long executed = raw::execve(area.program, argv, envp);
  failLaunch(kControlFd, "execve", area.program, executed);
}

// Sharing the address space spares copying netlab's page tables, which would cost more than
// creating all the namespaces; sharing the fd table spares copying it.
ChildProcess cloneNode(LaunchArea& area, const std::string& nodeName) {
  forgetEarlierFrames(area.stack, kLaunchStackBytes);
  area.nodeHere.store(kChildHere);
  int pidfd = -1;
  pid_t pid;
  {
    SignalsBlocked blocked;
    pid = ::clone(
        launchNode, area.stack + kLaunchStackBytes,
        kStartNamespaces | CLONE_VM | CLONE_FILES | CLONE_PIDFD | CLONE_CHILD_CLEARTID | SIGCHLD,
        &area, &pidfd, nullptr, futexWord(area.nodeHere));
  }
  if (pid < 0) {
    area.nodeHere.store(0);
    throw SystemError("clone", "node " + nodeName);
  }
  area.nodePid = pid;
  return ChildProcess(pid, Fd(pidfd));
}

}  // namespace

void writeIdMaps(pid_t pid, const std::optional<topo::IdRange>& isolatedIds) {
  std::string map = idMap(isolatedIds);
  writeProcFile(pid, "uid_map", map);
  writeProcFile(pid, "gid_map", map);
}

NodeLauncher::NodeLauncher() : NodeLauncher(initProgram()) {}

NodeLauncher::NodeLauncher(std::string program)
    : slot_(openFile("/dev/null", O_RDONLY)),
      program_(std::move(program)),
      area_(std::make_unique<LaunchArea>()) {
  area_->program = program_.c_str();
}

NodeLauncher::~NodeLauncher() {
  // The area goes with the launcher: not before its last node has exec'd (or ended), and its
  // last owner, killed already, has died.
  awaitLeft(area_->nodeHere, area_->nodePid);
  awaitLeft(area_->ownerHere, area_->ownerPid);
}

NodeProcess NodeLauncher::start(const NodeSetup& setup,
                                const std::optional<topo::IdRange>& isolatedIds,
                                const std::string& nodeName, const NodeCgroups* cgroups) {
  NodeProcess node;
  Fd userns;
  node.namespaceOwner = createOwnedNamespaces(*area_, isolatedIds, nodeName, userns, node.netns);
  launch(node, setup, userns, nodeName, cgroups);
  return node;
}

NodeProcess NodeLauncher::restart(const NodeSetup& setup, OwnedNamespaces namespaces,
                                  const std::string& nodeName, const NodeCgroups* cgroups) {
  NodeProcess node;
  node.netns = std::move(namespaces.netns);
  launch(node, setup, namespaces.userns, nodeName, cgroups);
  return node;
}

void NodeLauncher::launch(NodeProcess& node, const NodeSetup& setup, const Fd& userns,
                          const std::string& nodeName, const NodeCgroups* cgroups) {
  std::string setupMessage = encodeNodeSetup(setup);
  int sockets[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sockets) < 0) {
    throw SystemError("socketpair", "control socket of node " + nodeName);
  }
  Fd parentEnd(sockets[0]);
  Fd childEnd(sockets[1]);
  // The previous node has had all that time to exec netlab-init: waiting only now spares
  // waiting for it to be scheduled. From its exec (or its end) on, it no longer runs on the
  // area, and holds its end of the control socket in a fd table of its own, so the slot may
  // take this node's.
  awaitLeft(area_->nodeHere, area_->nodePid);
  if (::dup3(childEnd.get(), slot_.get(), O_CLOEXEC) < 0) {
    throw SystemError("dup3", "control socket of node " + nodeName);
  }
  childEnd.reset();
  area_->controlFd = slot_.get();
  node.process = cloneNode(*area_, nodeName);
  // The node waits for its setup before it unshares anything.
  if (cgroups) cgroups->attach(node.process.pid(), nodeName);
  node.control = std::move(parentEnd);
  sendControl(node.control, setupMessage, nodeName);
  int namespaces[] = {userns.get(), node.netns.get()};
  sendFds(node.control, kNamespaceFds, namespaces, std::size(namespaces),
          "namespaces of node " + nodeName);
  sendBindSources(node.process.pid(), setup, node.control, nodeName);
}

// The control socket's other end stays open in the launcher's slot after the node has gone,
// so a node that dies without a report (killed, or crashed) shows no end of file there: its
// pidfd says it has ended.
bool reportOrEnd(NodeProcess& node, const std::string& nodeName) {
  pollfd waited[] = {{node.control.get(), POLLIN, 0}, {node.process.pidfd().get(), POLLIN, 0}};
  while (::poll(waited, std::size(waited), -1) < 0) {
    if (errno != EINTR) throw SystemError("poll", "control socket of node " + nodeName);
  }
  return waited[0].revents != 0;
}

void awaitNodeReady(NodeProcess& node, const std::string& nodeName) {
  ChildReport report;
  ssize_t got = 0;
  if (reportOrEnd(node, nodeName)) {
    while ((got = ::read(node.control.get(), &report, sizeof report)) < 0 && errno == EINTR) {
    }
  }
  if (got < 0) throw SystemError("read", "control socket of node " + nodeName);
  if (got != sizeof report) throw Error("node " + nodeName + " ended during its setup");
  report.message[sizeof report.message - 1] = '\0';
  if (report.error != 0) {
    throw Error(
        "setting up node " + nodeName + ": " + report.message + ": " + errnoText(report.error),
        report.error);
  }
  // The owner of its namespaces, long dead, has left its zombie until now.
  node.namespaceOwner.killAndReap();
}

void restoreDumpable() {
  ::prctl(PR_SET_DUMPABLE, 1);
}

void detachNode(NodeProcess& node) {
  sendControl(node.control, {&kDetach, 1}, "");
  node.control.reset();
  node.process.release();
}

}  // namespace netlab::nsmgr
