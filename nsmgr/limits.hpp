// The kernel's limits a lab must fit, checked before anything is created: a lab that cannot be
// built should fail with the limit to raise, not halfway through with an errno.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "topo/plan.hpp"

namespace netlab::nsmgr {

// The namespace types of a node, as /proc/sys/user/max_<name>_namespaces names them.
inline constexpr std::array<std::string_view, 7> kNamespaceLimitNames{"user", "net", "uts",   "mnt",
                                                                      "pid",  "ipc", "cgroup"};

struct KernelLimits {
  // user.max_<name>_namespaces in the order of kNamespaceLimitNames; nullopt: not readable.
  std::array<std::optional<uint64_t>, kNamespaceLimitNames.size()> maxNamespaces;
  uint64_t openFilesHard = 0;  // RLIMIT_NOFILE
};

// What a lab needs while it is built.
struct LabDemand {
  size_t nodes = 0;
  // netlab's own network namespaces on top of the nodes': one per worker thread, and those
  // that wait for the kernel's cleanup.
  size_t scratchNetworkNamespaces = 0;
  uint64_t openFiles = 0;
};

LabDemand demandOf(const topo::Plan& plan);
// The same for a lab of this many nodes (switches included).
LabDemand demandOfNodes(size_t nodes);

// One sentence per limit the demand exceeds, naming the limit and how to raise it; empty when
// the lab fits.
std::vector<std::string> limitProblems(const KernelLimits& limits, const LabDemand& demand);

KernelLimits readKernelLimits();

// Raises the open-file soft limit to the hard limit when it is below `needed`; throws, naming
// `purpose`, when the hard limit is below it too.
void raiseOpenFileLimit(uint64_t needed, const std::string& purpose);

// Raises the open-file soft limit to what the lab needs, and throws, naming every limit to
// raise, when the lab cannot fit.
void ensureLabFitsLimits(const topo::Plan& plan);

}  // namespace netlab::nsmgr
