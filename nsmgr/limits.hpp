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

// The kernel's neighbour tables (ARP for IPv4, ND for IPv6) are shared by every network
// namespace of the machine: past gc_thresh3 entries in all, the kernel refuses new neighbours
// (`No buffer space available`), in every lab at once. Readable only from the host's network
// namespace, where the sysctl lives.
struct NeighbourTable {
  uint64_t gcThresh3 = 0;  // net.ipv4.neigh.default.gc_thresh3 (net.ipv6.neigh.default.* for v6)
  uint64_t entries = 0;    // in use now, by every namespace (/proc/net/stat/arp_cache)
};
struct NeighbourTables {
  std::optional<NeighbourTable> v4;
  std::optional<NeighbourTable> v6;
};
NeighbourTables readNeighbourTables();

// The neighbours the lab's nodes may learn, per family: every other address-holding end of
// each LAN (counted per switch) and the peer of each point-to-point link.
struct NeighbourDemand {
  uint64_t v4 = 0;
  uint64_t v6 = 0;
};
NeighbourDemand neighboursOf(const topo::Plan& plan);

// A warning, with the sysctls to raise, for each table the lab would fill beside what is in
// use; empty when it fits (or the table cannot be read).
std::vector<std::string> neighbourTableWarnings(const NeighbourTables& tables,
                                                const NeighbourDemand& demand);

// Raises the open-file soft limit to the hard limit when it is below `needed`; throws, naming
// `purpose`, when the hard limit is below it too.
void raiseOpenFileLimit(uint64_t needed, const std::string& purpose);

// Raises the open-file soft limit to what the lab needs, and throws, naming every limit to
// raise, when the lab cannot fit.
void ensureLabFitsLimits(const topo::Plan& plan);

}  // namespace netlab::nsmgr
