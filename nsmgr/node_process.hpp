// Starting a node: its user and network namespaces made by a short-lived owner whose maps the
// parent writes, the node cloned into the rest (kStartNamespaces), then a handshake over a
// control socket (crun's pattern: the node reports {errno, message}, never an exception).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "base/fd.hpp"
#include "nsmgr/cgroups.hpp"
#include "nsmgr/node_init.hpp"
#include "nsmgr/process.hpp"
#include "topo/plan.hpp"

namespace netlab::nsmgr {

// Maps the ids of a fresh user namespace, that of process pid: node root as host root, or as
// the first of isolatedIds (topo::Node::isolatedIds).
void writeIdMaps(pid_t pid, const std::optional<topo::IdRange>& isolatedIds);

// A node's user namespace and the network namespace it owns (kOwnedNamespaces).
struct OwnedNamespaces {
  Fd userns;
  Fd netns;
};

struct NodeProcess {
  ChildProcess namespaceOwner;  // killed, reaped once the node is ready (none on a restart)
  ChildProcess process;
  Fd control;  // parent's end of the control socket
  Fd netns;    // the node's network namespace, for creating links inside it
};

// The memory a launcher's children run on while they share netlab's (nsmgr/node_process.cpp).
struct LaunchArea;

// Starts nodes, one at a time (a thread that starts nodes concurrently with others needs a
// launcher of its own), the way posix_spawn starts a program: the node is cloned with every
// signal blocked, shares netlab's memory and fd table until it execs netlab-init, and makes only
// raw system calls until then, reporting a failure as a value over its control socket. Its
// stack and arguments are the launcher's, which waits until the node has exec'd (or ended)
// before the next start reuses them and before its destructor frees them: the kernel says so
// (CLONE_CHILD_CLEARTID), whatever becomes of the NodeProcess meanwhile.
//
// The node leaves netlab's fd table for a private copy of only the fds numbered up to the
// launcher's slot, where its control socket waits: a copy of the whole table (several fds per
// node already started) would make every node cost more than the one before. Make the launcher
// early, while netlab holds few fds, so its slot is low. The slot holds a node's control socket
// until the next start or the launcher's end; only then does the node alone hold its end, and
// read end-of-file when netlab is gone.
class NodeLauncher {
 public:
  NodeLauncher();  // starts netlab-init
  explicit NodeLauncher(std::string program);
  // Waits until no child of the launcher runs on its memory any more. The nodes it started may
  // go before it, or outlive it.
  ~NodeLauncher();
  NodeLauncher(const NodeLauncher&) = delete;
  NodeLauncher& operator=(const NodeLauncher&) = delete;

  // Makes the node's user namespace (its maps from isolatedIds: topo::Node::isolatedIds) and
  // network namespace, clones the node (its setup runs concurrently from here on), puts it in
  // its cgroups (before it can unshare its cgroup namespace) and hands it its setup, those
  // namespaces and its bind sources. A failure of the node's own comes from awaitNodeReady.
  // Any thread may call it: signals are blocked around the clones here.
  NodeProcess start(const NodeSetup& setup, const std::optional<topo::IdRange>& isolatedIds,
                    const std::string& nodeName, const NodeCgroups* cgroups = nullptr);
  // The same in namespaces the node had before (`node start`): its links are already there.
  NodeProcess restart(const NodeSetup& setup, OwnedNamespaces namespaces,
                      const std::string& nodeName, const NodeCgroups* cgroups = nullptr);

 private:
  // Clones the node into the rest of its namespaces and hands it its setup and these.
  void launch(NodeProcess& node, const NodeSetup& setup, const Fd& userns,
              const std::string& nodeName, const NodeCgroups* cgroups);

  Fd slot_;
  std::string program_;
  std::unique_ptr<LaunchArea> area_;
};

// How long a node's init has to end after SIGTERM before SIGKILL: it passes SIGTERM on to the
// node's processes and gives them 2 s (nsmgr/node_init.cpp).
inline constexpr auto kNodeStopTimeout = std::chrono::milliseconds(3000);

// An isolated node changes its ids while it still shares netlab's memory, and the kernel then
// marks that memory (netlab's) as not dumpable, which closes netlab's own /proc/self to it:
// once every node started has exec'd, netlab is made dumpable again.
void restoreDumpable();

// Waits for the node's setup to finish; throws with the node's own account of a failure.
void awaitNodeReady(NodeProcess& node, const std::string& nodeName);

// Lets the node go: it no longer dies with netlab, and netlab no longer owns it.
void detachNode(NodeProcess& node);

}  // namespace netlab::nsmgr
