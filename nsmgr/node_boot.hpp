// The steps that boot a node's network and its startup commands once its init is ready, shared
// by `up` (every node at once) and `node start` (one node again, in the network namespace it
// kept).
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "netlink/session.hpp"
#include "nsmgr/lab_dir.hpp"
#include "nsmgr/wiring.hpp"
#include "topo/plan.hpp"

namespace netlab::nsmgr {

// Node i's sysctls as the plan has them, with netlab's own (no duplicate address detection
// where it carries IPv6, unprivileged ping), written through the /proc/sys of its init (pid).
// The calling thread must be in the node's network namespace.
void writeNodeSysctls(const topo::Plan& plan, const Wiring& wiring, size_t i, pid_t init);

// The sysctls of one interface of node i (its duplicate address detection, and the plan's that
// name it), for an end made again while the node runs; as writeNodeSysctls.
void writeInterfaceSysctls(const topo::Plan& plan, const Wiring& wiring, const InterfaceRef& ref,
                           pid_t init);

// Returns once every veth of the namespace the session is in (or each of them that `awaited`
// takes, by ifindex) is operationally up; throws after a timeout naming those that are not.
void awaitLinksUp(
    netlink::Session& session,
    const std::function<bool(uint32_t)>& awaited = [](uint32_t) { return true; });

// Runs node i's startup commands one after the other in the node (initPidfd), each in its
// cgroups (procsFiles), logging to nodes/NAME/log; throws on the first that fails, with the end
// of its output.
void runStartupCommands(const LabDirectory& directory, const topo::Plan& plan, size_t i,
                        int initPidfd, const std::vector<std::string>& procsFiles);

}  // namespace netlab::nsmgr
