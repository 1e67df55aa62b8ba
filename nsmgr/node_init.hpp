// What runs inside a node: the setup a node needs before anything else runs in it, then the
// node's PID 1. It runs in a child cloned from a possibly multi-threaded netlab, so it only
// makes system calls on data the parent prepared: no allocation, no exceptions, no locks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace netlab::nsmgr {

// One mount(2) in the node's mount namespace, prepared by the parent.
struct MountStep {
  std::string what;    // for errors: "bind /etc/hosts"
  std::string source;  // for a bind: opened before any mount, so later mounts cannot hide it
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
};

struct NodeSetup {
  std::string hostname;
  std::vector<MountStep> mounts;
  // Filled in by the child (its own copy): the O_PATH fds of bind sources.
  std::vector<int> sourceFds;
};

// What the child tells the parent over the control socket when setup ends.
struct ChildReport {
  int32_t error = 0;  // errno of the failed step; 0: ready
  char message[480] = {};
};

// Bytes the parent sends over the control socket.
inline constexpr char kMapsWritten = 'M';  // uid/gid maps are in place: set up
inline constexpr char kDetach = 'D';       // the lab is built: become the node's init for good

// The child's whole life. Until kDetach arrives, losing the parent (the control socket reads
// end-of-file) ends the node, so a netlab killed mid-build leaves no node behind.
[[noreturn]] void runNode(NodeSetup& setup, int controlFd) noexcept;

}  // namespace netlab::nsmgr
