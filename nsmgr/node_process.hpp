// Starting a node: its user and network namespaces made by a short-lived owner whose maps the
// parent writes, the node cloned into the rest (kStartNamespaces), then a handshake over a
// control socket (crun's pattern: the node reports {errno, message}, never an exception).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "base/fd.hpp"
#include "nsmgr/node_init.hpp"
#include "nsmgr/process.hpp"
#include "topo/plan.hpp"

namespace netlab::nsmgr {

// Maps the ids of a fresh user namespace, that of process pid: node root as host root, or as
// the first of isolatedIds (topo::Node::isolatedIds).
void writeIdMaps(pid_t pid, const std::optional<topo::IdRange>& isolatedIds);

// The stack and arguments of a node that still runs in netlab's address space: it must outlive
// the node's exec of netlab-init.
struct NodeLaunch;
struct NodeLaunchDeleter {
  void operator()(NodeLaunch* launch) const noexcept;
};

struct NodeProcess {
  // First, so it is freed last: after the guard below has killed and reaped the node.
  std::unique_ptr<NodeLaunch, NodeLaunchDeleter> launch;
  ChildProcess namespaceOwner;  // runs on the launch's memory until reaped
  ChildProcess process;
  Fd control;  // parent's end of the control socket
  Fd netns;    // the node's network namespace, for creating links inside it
};

// Starts nodes, one at a time (a thread that starts nodes concurrently with others needs a
// launcher of its own). A node begins in netlab's fd table and leaves it for a private copy of
// only the fds numbered up to the launcher's slot, where its control socket waits: a copy of
// the whole table (several fds per node already started) would make every node cost more than
// the one before. Make the launcher early, while netlab holds few fds, so its slot is low. The
// slot holds a node's control socket until the next start or the launcher's end, which wait
// for that node to have left the table; only then does the node alone hold its end, and read
// end-of-file when netlab is gone. The nodes a launcher started must outlive it.
class NodeLauncher {
 public:
  NodeLauncher();
  ~NodeLauncher();
  NodeLauncher(const NodeLauncher&) = delete;
  NodeLauncher& operator=(const NodeLauncher&) = delete;

  // Makes the node's user namespace (its maps from isolatedIds: topo::Node::isolatedIds) and
  // network namespace, clones the node (its setup runs concurrently from here on) and hands it
  // its setup, those namespaces and its bind sources. Must be called from a thread whose signals
  // are all blocked, so the node starts with them blocked.
  NodeProcess start(const NodeSetup& setup, const std::optional<topo::IdRange>& isolatedIds,
                    const std::string& nodeName);

 private:
  void awaitPrevious();

  Fd slot_;
  NodeLaunch* previous_ = nullptr;  // the last node started, until it has left the slot
  std::string previousName_;
};

// Waits for the node's setup to finish; throws with the node's own account of a failure.
void awaitNodeReady(NodeProcess& node, const std::string& nodeName);

// Lets the node go: it no longer dies with netlab, and netlab no longer owns it.
void detachNode(NodeProcess& node);

}  // namespace netlab::nsmgr
