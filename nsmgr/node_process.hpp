// Starting a node: one clone3 with every namespace flag, the user namespace maps written by the
// parent, then a handshake over a control socket (crun's pattern: the child reports
// {errno, message}, never an exception).
#pragma once

#include <string>

#include "base/fd.hpp"
#include "nsmgr/node_init.hpp"
#include "nsmgr/process.hpp"

namespace netlab::nsmgr {

struct NodeProcess {
  ChildProcess process;
  Fd control;  // parent's end of the control socket
  Fd netns;    // /proc/PID/ns/net, for creating links inside the node
};

// Clones the node (its setup runs concurrently from here on), writes its maps and opens its
// network namespace. Must be called from a thread whose signals are all blocked, so the child
// starts with them blocked.
NodeProcess startNode(NodeSetup& setup, const std::string& nodeName);

// Waits for the node's setup to finish; throws with the child's own account of a failure.
void awaitNodeReady(NodeProcess& node, const std::string& nodeName);

// Lets the node go: it no longer dies with netlab, and netlab no longer owns it.
void detachNode(NodeProcess& node);

}  // namespace netlab::nsmgr
