// Stopping, starting and restarting a running lab's nodes in place (`netlab node`). A stopped
// node keeps its network namespace (nsmgr/network_pin.hpp), so its interfaces and its peers'
// ends stay, administratively down; starting it boots a fresh init there as `up` would.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "base/ip.hpp"

namespace netlab::nsmgr {

class LockedLabState;

enum class NodeAction {
  Stop,     // SIGTERM to the node's init (which passes it on), SIGKILL after a grace period
  Kill,     // SIGKILL at once
  Start,    // a fresh init, set up from the plan
  Restart,  // Stop, then Start, under one hold of the lab's lock
};

struct NodeActionResult {
  std::string node;
  bool changed = false;  // false: it was already as asked (stopped, or running)
  bool exited = false;   // not stopped by netlab: its init had died by itself
  int pid = 0;           // its init's pid after a start
};

// The nodes named by patterns (shell globs, each matching at least one node), in plan order.
// Throws when a pattern names no node.
std::vector<std::string> matchNodes(const std::vector<std::string>& names,
                                    const std::vector<std::string>& patterns);

// Acts on the nodes of the lab that patterns name, under the lab's exclusive lock, recording
// each in the lab's state as it goes: a command killed at any point leaves a lab that `down`
// removes (see node_control.cpp for the order that guarantees it).
std::vector<NodeActionResult> changeNodes(const std::string& lab,
                                          const std::vector<std::string>& patterns,
                                          NodeAction action);

// The same for the nodes named (exactly) in a lab whose state the caller holds locked: `apply`
// records a node it adds, and starts it as one whose init ended.
std::vector<NodeActionResult> changeNodes(LockedLabState& locked,
                                          const std::vector<std::string>& names, NodeAction action);

// Makes the links of the locked lab's plan that the ends ("r1:eth2", one per link) name, between
// nodes running or stopped, as `up` makes them (`apply`'s links between nodes it keeps).
void connectLinks(LockedLabState& locked, const std::vector<std::string>& ends);

// An address on a node's device, by ifindex.
using NodeAddress = std::pair<uint32_t, IpPrefix>;

// Removes addresses from a node of the locked lab, running or stopped: a restart replaces the
// plan's addresses over those its network kept, so one the plan no longer has would stay
// (`apply` of a changed node).
void removeAddresses(LockedLabState& locked, const std::string& node,
                     const std::vector<NodeAddress>& addresses);

}  // namespace netlab::nsmgr
