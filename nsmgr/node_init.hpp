// What runs inside a node, and how netlab talks to it. A node starts as a child that shares
// netlab's address space (copying a large parent's page tables would cost more than the six
// namespaces together) and execs netlab-init, a small static program that performs the node's
// setup and then stays its PID 1. Everything here runs in one of those two and so may not
// throw; the child before exec may not allocate either.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace netlab::nsmgr {

// One mount(2) in the node's mount namespace, prepared by the parent.
struct MountStep {
  std::string what;    // for errors: "bind /etc/hosts"
  std::string source;  // for a bind: opened by netlab before any mount (see kSourceFds)
  std::string target;
  std::string fsType;
  std::string data;
  unsigned long flags = 0;
  bool bindSource = false;       // source is a path to bind from
  bool sourceInNode = false;     // ...resolved inside the node's new mounts (its /proc)
  bool remountReadOnly = false;  // a bind made read-only by a second mount(2)
  bool skipIfTargetMissing = false;
  // The target is created (parents included) when missing: only for targets on the node's own
  // tmpfs (/tmp, /run), never on the host's filesystem.
  bool createTarget = false;
  bool targetIsDirectory = false;

  bool operator==(const MountStep&) const = default;
};

// Whether netlab opens the step's source and hands it to the node (kSourceFds).
inline bool needsSourceFd(const MountStep& step) {
  return step.bindSource && !step.sourceInNode;
}

struct NodeSetup {
  std::string hostname;
  std::vector<MountStep> mounts;

  bool operator==(const NodeSetup&) const = default;
};

// The setup as one control message, and back; decoding fails (false) only on a message that
// encodeNodeSetup did not produce.
std::string encodeNodeSetup(const NodeSetup& setup);
bool decodeNodeSetup(std::string_view message, NodeSetup& setup);

// What the node tells the parent over the control socket when setup ends.
struct ChildReport {
  int32_t error = 0;  // errno of the failed step; 0: ready
  char message[480] = {};
};

// Messages the parent sends over the control socket, in this order.
inline constexpr char kMapsWritten = 'M';  // uid/gid maps are in place: exec netlab-init
// ...then the encoded NodeSetup, which netlab-init reads first, then the sources of its binds
// (needsSourceFd) in step order, as SCM_RIGHTS of messages holding this byte. netlab opens them
// in the node's mount namespace, through /proc/PID/root, before the node mounts anything (so
// no mount hides them): a node whose root is an unprivileged host user could not open the
// lab's root-only files, or a topology mount under a private directory, itself...
inline constexpr char kSourceFds = 'F';
inline constexpr size_t kMaxFdsPerMessage = 250;  // the kernel's SCM_MAX_FD is 253
// ...and when the lab is built:
inline constexpr char kDetach = 'D';  // the lab is built: become the node's init for good

// Where the node keeps its control socket, across exec.
inline constexpr int kControlFd = 3;

// Reports a failed step ("mount(proc on /proc)" and its errno) to the parent and ends the node.
[[noreturn]] void failNode(int controlFd, const char* operation, const char* object,
                           int error) noexcept;

// Reads one control byte; end-of-file (the parent is gone) ends the node.
char awaitControl(int controlFd) noexcept;

// Leaves the node with its control socket on kControlFd, kept across exec, and /dev/null as
// stdin, stdout and stderr: fds inherited from netlab would otherwise keep other nodes'
// namespaces alive and netlab's stdout open.
void keepOnlyControlSocket(int controlFd) noexcept;

// netlab-init's whole life, from its control socket on kControlFd: read the setup, perform it,
// report, then reap orphans until SIGTERM. Until kDetach arrives, losing the parent (the
// control socket reads end-of-file) ends the node, so a netlab killed mid-build leaves no node
// behind.
[[noreturn]] void runNodeInit() noexcept;

}  // namespace netlab::nsmgr
