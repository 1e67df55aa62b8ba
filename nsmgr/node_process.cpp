#include "nsmgr/node_process.hpp"

#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/error.hpp"
#include "nsmgr/namespaces.hpp"

namespace netlab::nsmgr {
namespace {

// Node root is host root (uid and gid 0 map to 0, and so on for the whole range), so host
// programs and files work unchanged inside; the node's capabilities still reach only the
// namespaces its user namespace owns. setgroups stays allowed: daemons such as FRR drop
// privileges with it.
constexpr std::string_view kIdentityMap = "0 0 4294967295\n";

void writeProcFile(pid_t pid, const char* name, std::string_view content) {
  std::string path = "/proc/" + std::to_string(pid) + "/" + name;
  Fd file = openFile(path, O_WRONLY);
  writeAll(file.get(), content, path);
}

void sendControl(const Fd& control, char byte, const std::string& nodeName) {
  while (::write(control.get(), &byte, 1) < 0) {
    if (errno != EINTR) throw SystemError("write", "control socket of node " + nodeName);
  }
}

}  // namespace

NodeProcess startNode(NodeSetup& setup, const std::string& nodeName) {
  int sockets[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sockets) < 0) {
    throw SystemError("socketpair", "control socket of node " + nodeName);
  }
  Fd parentEnd(sockets[0]);
  Fd childEnd(sockets[1]);
  setup.sourceFds.assign(setup.mounts.size(), -1);

  int pidfd = -1;
  clone_args args{};
  args.flags = kNodeNamespaces | CLONE_PIDFD;
  args.pidfd = reinterpret_cast<uint64_t>(&pidfd);
  args.exit_signal = SIGCHLD;
  long pid = ::syscall(SYS_clone3, &args, sizeof args);
  if (pid < 0) throw SystemError("clone3", "node " + nodeName);
  if (pid == 0) runNode(setup, childEnd.get());

  NodeProcess node{ChildProcess(static_cast<pid_t>(pid), Fd(pidfd)), std::move(parentEnd), Fd()};
  childEnd.reset();
  writeProcFile(node.process.pid(), "uid_map", kIdentityMap);
  writeProcFile(node.process.pid(), "gid_map", kIdentityMap);
  sendControl(node.control, kMapsWritten, nodeName);
  node.netns = openNamespace(node.process.pid(), "net");
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
}

void detachNode(NodeProcess& node) {
  sendControl(node.control, kDetach, "");
  node.control.reset();
  node.process.release();
}

}  // namespace netlab::nsmgr
