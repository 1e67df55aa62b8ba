#include "nsmgr/node_process.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <utility>
#include <vector>

#include "base/error.hpp"
#include "nsmgr/namespaces.hpp"

namespace netlab::nsmgr {

// The node runs here only until it execs: a few system calls, no allocation.
constexpr size_t kLaunchStackBytes = 64 * 1024;
// The namespace owner only waits to be killed.
constexpr size_t kOwnerStackBytes = 16 * 1024;

struct NodeLaunch {
  static constexpr int kUnsharing = -1;

  NodeLaunch(int controlFd, const char* program) : controlFd(controlFd), program(program) {}
  int controlFd;        // the node's end of the control socket: the launcher's slot
  const char* program;  // netlab-init
  // Set by the node once it has a fd table of its own: 0, or the errno of failing to.
  std::atomic<int> unshareError{kUnsharing};
  alignas(16) std::byte stack[kLaunchStackBytes];  // left uninitialised: only its top is used
  // The namespace owner's parent.
  pid_t netlabPid = 0;
  alignas(16) std::byte ownerStack[kOwnerStackBytes];
};

void NodeLaunchDeleter::operator()(NodeLaunch* launch) const noexcept {
  delete launch;
}

namespace {

// By default node root is host root (uid and gid 0 map to 0, and so on for the whole range), so
// host programs and files work unchanged inside; the node's capabilities still reach only the
// namespaces its user namespace owns. An isolated node maps its ids to a block of unprivileged
// host ids instead. One line either way, far below the kernel's 340 (5 before Linux 4.15).
// setgroups stays allowed: daemons such as FRR drop privileges with it.
std::string idMap(const std::optional<topo::IdRange>& isolatedIds) {
  if (!isolatedIds) return "0 0 4294967295\n";
  return "0 " + std::to_string(isolatedIds->first) + " " + std::to_string(isolatedIds->count) +
         "\n";
}

void writeProcFile(pid_t pid, const char* name, std::string_view content) {
  std::string path = "/proc/" + std::to_string(pid) + "/" + name;
  Fd file = openFile(path, O_WRONLY);
  writeAll(file.get(), content, path);
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

// netlab-init beside the running program (an installed netlab), else the one built with it.
const std::string& initProgram() {
  static const std::string path = [] {
    std::error_code error;
    auto beside =
        std::filesystem::read_symlink("/proc/self/exe", error).parent_path() / "netlab-init";
    return !error && ::access(beside.c_str(), X_OK) == 0 ? beside.string()
                                                         : std::string(NETLAB_INIT_PATH);
  }();
  return path;
}

static_assert(sizeof(std::atomic<int>) == sizeof(int) && std::atomic<int>::is_always_lock_free,
              "the unshare flag doubles as a futex word");
int* futexWord(std::atomic<int>& word) {
  return reinterpret_cast<int*>(&word);
}

// Lives only to create the node's user and network namespaces (kOwnedNamespaces), which
// netlab then opens; with every signal blocked, only SIGKILL ends it: netlab's, or the
// kernel's when the thread that cloned it is gone (netlab killed meanwhile). It shares
// netlab's fd table, so it must not outlive netlab, or it would keep netlab's stdout open.
int holdNamespaces(void* argument) noexcept {
  pid_t netlab = *static_cast<pid_t*>(argument);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != netlab) ::_exit(1);  // netlab died before the prctl
  for (;;) ::pause();
}

// The node's user namespace, owning its network namespace, made by a short-lived process:
// netlab, multithreaded, cannot unshare a user namespace itself, and the node must begin in the
// host's (see kOwnedNamespaces). Returns the owner, killed but not yet reaped: it runs on the
// launch's stack until it is.
ChildProcess createOwnedNamespaces(NodeLaunch& launch,
                                   const std::optional<topo::IdRange>& isolatedIds,
                                   const std::string& nodeName, Fd& userns, Fd& netns) {
  launch.netlabPid = ::getpid();
  pid_t pid = ::clone(holdNamespaces, launch.ownerStack + kOwnerStackBytes,
                      kOwnedNamespaces | CLONE_VM | CLONE_FILES | SIGCHLD, &launch.netlabPid);
  if (pid < 0) throw SystemError("clone", "user and network namespaces of node " + nodeName);
  // Held by pid alone until reaped: a pidfd per node until the nodes are ready would take a
  // fourth of the fds a lab needs.
  ChildProcess owner(pid, Fd());
  writeIdMaps(pid, isolatedIds);
  userns = openNamespace(pid, "user");
  netns = openNamespace(pid, "net");
  ::kill(pid, SIGKILL);
  return owner;
}

// The node's first moments. It shares netlab's memory, this thread's errno included, until the
// exec; the cloning thread does not wait for it, so the node only makes system calls on its
// launch data, and only a failure (reported, then the node ends) changes errno. It shares
// netlab's fd table until its first system call, which takes a table of its own holding only
// the fds up to its control socket.
int launchNode(void* argument) noexcept {
  auto& launch = *static_cast<NodeLaunch*>(argument);
  int unshared = ::close_range(launch.controlFd + 1, ~0U, CLOSE_RANGE_UNSHARE);
  launch.unshareError.store(unshared < 0 ? errno : 0);
  ::syscall(SYS_futex, futexWord(launch.unshareError), FUTEX_WAKE_PRIVATE, 1);
  if (unshared < 0) ::_exit(1);
  keepOnlyControlSocket(launch.controlFd);
  char name[] = "netlab-init";
  char* const argv[] = {name, nullptr};
  char* const envp[] = {nullptr};
  ::execve(launch.program, argv, envp);
  failNode(kControlFd, "execve", launch.program, errno);
}

// The launcher's slot must hold the node's control socket until the node has its own fd table.
void awaitUnshared(NodeLaunch& launch, const std::string& nodeName) {
  int error;
  while ((error = launch.unshareError.load()) == NodeLaunch::kUnsharing) {
    ::syscall(SYS_futex, futexWord(launch.unshareError), FUTEX_WAIT_PRIVATE, NodeLaunch::kUnsharing,
              nullptr);
  }
  if (error != 0) throw SystemError("close_range", "fd table of node " + nodeName, error);
}

}  // namespace

void writeIdMaps(pid_t pid, const std::optional<topo::IdRange>& isolatedIds) {
  std::string map = idMap(isolatedIds);
  writeProcFile(pid, "uid_map", map);
  writeProcFile(pid, "gid_map", map);
}

NodeLauncher::NodeLauncher() : slot_(openFile("/dev/null", O_RDONLY)) {}

NodeLauncher::~NodeLauncher() {
  try {
    awaitPrevious();
  } catch (const Error&) {
    // That node ends, and reports so when netlab waits for it to be ready.
  }
}

void NodeLauncher::awaitPrevious() {
  if (!previous_) return;
  NodeLaunch* launch = std::exchange(previous_, nullptr);
  awaitUnshared(*launch, previousName_);
}

NodeProcess NodeLauncher::start(const NodeSetup& setup,
                                const std::optional<topo::IdRange>& isolatedIds,
                                const std::string& nodeName) {
  std::string setupMessage = encodeNodeSetup(setup);
  int sockets[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sockets) < 0) {
    throw SystemError("socketpair", "control socket of node " + nodeName);
  }
  Fd parentEnd(sockets[0]);
  Fd childEnd(sockets[1]);

  NodeProcess node;
  node.launch.reset(new NodeLaunch(slot_.get(), initProgram().c_str()));
  Fd userns;
  node.namespaceOwner =
      createOwnedNamespaces(*node.launch, isolatedIds, nodeName, userns, node.netns);
  // The previous node has had all that time to leave the slot: waiting only now spares waiting
  // for it to be scheduled.
  awaitPrevious();
  if (::dup3(childEnd.get(), slot_.get(), O_CLOEXEC) < 0) {
    throw SystemError("dup3", "control socket of node " + nodeName);
  }
  childEnd.reset();
  int pidfd = -1;
  // Sharing the address space spares copying netlab's page tables, which would cost more than
  // creating all the namespaces; sharing the fd table spares copying it.
  pid_t pid = ::clone(launchNode, node.launch->stack + kLaunchStackBytes,
                      kStartNamespaces | CLONE_VM | CLONE_FILES | CLONE_PIDFD | SIGCHLD,
                      node.launch.get(), &pidfd);
  if (pid < 0) throw SystemError("clone", "node " + nodeName);
  node.process = ChildProcess(pid, Fd(pidfd));
  node.control = std::move(parentEnd);
  sendControl(node.control, setupMessage, nodeName);
  int namespaces[] = {userns.get(), node.netns.get()};
  sendFds(node.control, kNamespaceFds, namespaces, std::size(namespaces),
          "namespaces of node " + nodeName);
  sendBindSources(pid, setup, node.control, nodeName);
  // Awaited by the next start, or the launcher's end; should this start fail instead, its node
  // is killed and reaped first, and touches the slot no more.
  previous_ = node.launch.get();
  previousName_ = nodeName;
  return node;
}

void awaitNodeReady(NodeProcess& node, const std::string& nodeName) {
  ChildReport report;
  ssize_t got;
  while ((got = ::read(node.control.get(), &report, sizeof report)) < 0 && errno == EINTR) {
  }
  if (got < 0) throw SystemError("read", "control socket of node " + nodeName);
  if (got != sizeof report) throw Error("node " + nodeName + " ended during its setup");
  report.message[sizeof report.message - 1] = '\0';
  if (report.error != 0) {
    throw Error(
        "setting up node " + nodeName + ": " + report.message + ": " + errnoText(report.error),
        report.error);
  }
  // netlab-init sent the report: the node runs in its own address space now, and the owner of
  // its namespaces, long dead, is reaped before the stack it ran on goes.
  node.namespaceOwner.killAndReap();
  node.launch.reset();
}

void detachNode(NodeProcess& node) {
  sendControl(node.control, {&kDetach, 1}, "");
  node.control.reset();
  node.process.release();
}

}  // namespace netlab::nsmgr
