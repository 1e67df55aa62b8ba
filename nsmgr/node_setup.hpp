// From a planned node to the steps its init performs before anything runs in it.
#pragma once

#include <string>

#include "nsmgr/lab_dir.hpp"
#include "nsmgr/node_init.hpp"
#include "topo/plan.hpp"

namespace netlab::nsmgr {

// The lab's /etc/hosts: every node's addresses under its name (loopbacks first, so `ping r2`
// reaches r2 whichever interface is up) and under name-interface.
std::string hostsFileFor(const topo::Plan& plan);

// What the nodes of a lab share.
struct SharedSetup {
  std::string hosts;                    // hostsFileFor
  std::vector<std::string> hostMounts;  // OverlayRoot's, read when a node's root is an overlay
};
SharedSetup prepareSharedSetup(const topo::Plan& plan);

// Writes the node's own state files (hostname, its copy of `hosts`, inline files) and returns
// its setup: its root (OverlayRoot), its own /proc (with /proc/sys read-only but for /proc/sys/net,
// the other host-wide files read-only or masked), a read-only /sys, /tmp and /run, then
// /etc/hostname, /etc/hosts and the topology's mounts and files.
NodeSetup prepareNodeSetup(const topo::Node& node, const LabDirectory& directory,
                           const SharedSetup& shared);

}  // namespace netlab::nsmgr
