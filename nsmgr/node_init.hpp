// What runs inside a node, and how netlab talks to it. A node starts as a child that shares
// netlab's address space (copying a large parent's page tables would cost more than the six
// namespaces together) and execs netlab-init, a small static program that performs the node's
// setup and then stays its PID 1. Everything here runs in one of those two and so may not
// throw; the child before exec may not allocate either.
#pragma once

#include <sched.h>
#include <signal.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace netlab::nsmgr {

// Every node lives in all of these; `exec` enters them all.
inline constexpr int kNodeNamespaces = CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWNS |
                                       CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWCGROUP;

// A node's mounts are locked: the kernel locks the mounts of a mount namespace copied into a
// less privileged user namespace, so node root can neither unmount them nor make a read-only
// one writable (such as /proc/sys, through which host root could change host-wide settings).
// So a node is born in three steps:
// - a short-lived process creates the node's user namespace and the network namespace it owns;
inline constexpr int kOwnedNamespaces = CLONE_NEWUSER | CLONE_NEWNET;
// - the node starts as host root in a mount namespace and a PID namespace the host's user
//   namespace owns: it mounts its /proc, /sys and binds there, joined to its network namespace
//   (/sys shows the mounter's). Node root then cannot mount a /proc of its own either;
inline constexpr int kStartNamespaces = CLONE_NEWNS | CLONE_NEWPID;
// - it joins its user namespace and copies its mounts into one it owns, with the rest.
inline constexpr int kJoinedNamespaces =
    CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWCGROUP;
static_assert((kOwnedNamespaces | kStartNamespaces | kJoinedNamespaces) == kNodeNamespaces);

// Takes uid 0, gid 0 and no supplementary groups in the user namespace the caller has just
// created or joined. Neither changes a process's host ids, which an isolated node's namespace
// does not map: without this, its root would run as `nobody` and, on the host, still be root.
// Raw system calls: glibc's wrappers also change the ids of every other thread of the
// process, and signal them to do so. Returns the failed call (its errno in errno), or nullptr.
const char* becomeNamespaceRoot() noexcept;

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
  // What is mounted on the target goes first (detached, with all below it): a covered mount
  // still counts when the kernel decides whether a new mount would show more than the node's.
  bool replaceMounted = false;

  bool operator==(const MountStep&) const = default;
};

// Whether netlab opens the step's source and hands it to the node (kSourceFds).
inline bool needsSourceFd(const MountStep& step) {
  return step.bindSource && !step.sourceInNode;
}

// A root of the node's own (topo::RootMode::Overlay), made before its other mounts: a tmpfs of
// the node's on `layers` holds the overlay's upper and work directories, so what the node writes
// is gone with it and no host filesystem's limits (or its lack of xattrs) apply; the overlay of
// that upper layer on `lower` gets the host's /dev and `hostMounts`, and becomes the node's root
// (pivot_root), the host's root detached beneath it.
struct OverlayRoot {
  std::string layers;  // an empty directory of the lab's state; empty: the node keeps the host's
  std::string lower;   // "/" (the host's root filesystem) or an image directory
  // The host's filesystems mounted below its root (a separate /home), bound read-only with what
  // is mounted below them: overlayfs shows the lower filesystem alone.
  std::vector<std::string> hostMounts;
  // The overlay keeps its own attributes in user.* rather than trusted.* xattrs: required where
  // the mount belongs to a user namespace other than the host's (a rootless lab).
  bool userXattrs = false;

  bool operator==(const OverlayRoot&) const = default;
};

struct NodeSetup {
  std::string hostname;
  OverlayRoot root;
  std::vector<MountStep> mounts;  // after the root, in order

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

// Messages the parent sends over the control socket, in this order: the encoded NodeSetup,
// which netlab-init reads first; the node's user and network namespaces (kOwnedNamespaces), as
// SCM_RIGHTS of a message holding this byte;
inline constexpr char kNamespaceFds = 'N';
// ...then the sources of its binds
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

// The report of a failed step: "mount(proc on /proc)" and its errno. Neither allocates nor
// touches errno, so the child before exec can build it too.
ChildReport failureReport(const char* operation, const char* object, int error) noexcept;

// Reports a failed step to the parent and ends the node. For netlab-init only: it writes
// through glibc (errno), which the child before exec must not.
[[noreturn]] void failNode(int controlFd, const char* operation, const char* object,
                           int error) noexcept;

// Reads one control byte; end-of-file (the parent is gone) ends the node.
char awaitControl(int controlFd) noexcept;

// netlab-init's whole life, from its control socket on kControlFd: read the setup, perform it,
// report, then reap orphans until SIGTERM. Until kDetach arrives, losing the parent (the
// control socket reads end-of-file) ends the node, so a netlab killed mid-build leaves no node
// behind.
[[noreturn]] void runNodeInit() noexcept;

// netlab-init once detached: the node's PID 1, which reaps orphans as SIGCHLD comes and turns
// SIGTERM or SIGINT into an orderly end of the node (every process gets SIGTERM, then a grace
// period). Takes `signals`, blocked, from signalFd, a signalfd of them (or -1); no failing call
// makes it spin.
[[noreturn]] void serveAsInit(int signalFd, const sigset_t& signals) noexcept;

}  // namespace netlab::nsmgr
