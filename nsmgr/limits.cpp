#include "nsmgr/limits.hpp"

#include <fcntl.h>
#include <sys/resource.h>

#include <charconv>
#include <map>
#include <sstream>
#include <string>

#include "base/error.hpp"
#include "base/fd.hpp"
#include "nsmgr/parallel.hpp"

namespace netlab::nsmgr {
namespace {

// Per node while building: pidfd, control socket and network namespace; plus netlab's own
// (worker sockets and launch slots, the state directory, a bind source while it is sent).
constexpr uint64_t kFdsPerNode = 3;
constexpr uint64_t kFdsReserved = 64;

// The kernel counts a namespace against its creator until its asynchronous cleanup has run, so
// the namespaces of the waiting probe and of two phases' workers may overlap.
constexpr size_t kScratchPerWorker = 2;
constexpr size_t kCleanupProbeNamespaces = 2;

std::string describeType(std::string_view name) {
  return name == "net"   ? "network"
         : name == "mnt" ? "mount"
         : name == "uts" ? "UTS"
         : name == "ipc" ? "IPC"
         : name == "pid" ? "PID"
                         : std::string(name);
}

std::optional<uint64_t> readNumberFile(const std::string& path) {
  Fd file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!file) return std::nullopt;
  char text[32];
  ssize_t got = ::read(file.get(), text, sizeof text);
  if (got <= 0) return std::nullopt;
  uint64_t value = 0;
  auto [end, error] = std::from_chars(text, text + got, value);
  if (error != std::errc()) return std::nullopt;
  return value;
}

// The first field of the first line of numbers in /proc/net/stat/<table>: its entries, in hex.
std::optional<uint64_t> readTableEntries(const std::string& table) {
  std::string text;
  try {
    text = readWholeFile("/proc/net/stat/" + table);
  } catch (const Error&) {
    return std::nullopt;
  }
  std::istringstream lines(text);
  std::string header, values;
  if (!std::getline(lines, header) || !std::getline(lines, values)) return std::nullopt;
  uint64_t entries = 0;
  auto [end, error] = std::from_chars(values.data(), values.data() + values.size(), entries, 16);
  if (error != std::errc()) return std::nullopt;
  return entries;
}

std::optional<NeighbourTable> readNeighbourTable(const std::string& family,
                                                 const std::string& table) {
  auto threshold = readNumberFile("/proc/sys/net/" + family + "/neigh/default/gc_thresh3");
  auto entries = readTableEntries(table);
  if (!threshold || !entries) return std::nullopt;
  return NeighbourTable{*threshold, *entries};
}

std::optional<std::string> tableWarning(const std::optional<NeighbourTable>& table, uint64_t demand,
                                        const std::string& family, const std::string& what) {
  if (!table || table->entries + demand <= table->gcThresh3) return std::nullopt;
  const uint64_t wanted = table->entries + demand;
  // Linux's own defaults keep gc_thresh2, where the collector starts in earnest, at half.
  return "the lab's nodes may learn " + std::to_string(demand) + " " + what + " neighbours, and " +
         std::to_string(table->entries) +
         " are in use already, but the kernel's table, shared by every lab of this machine, "
         "holds " +
         std::to_string(table->gcThresh3) +
         ": past that, pings in every lab fail with `No buffer space available` (raise it with "
         "`sysctl -w net." +
         family + ".neigh.default.gc_thresh3=" + std::to_string(wanted) + " net." + family +
         ".neigh.default.gc_thresh2=" + std::to_string(wanted / 2) + "`)";
}

}  // namespace

NeighbourTables readNeighbourTables() {
  return {readNeighbourTable("ipv4", "arp_cache"), readNeighbourTable("ipv6", "ndisc_cache")};
}

NeighbourDemand neighboursOf(const topo::Plan& plan) {
  std::map<std::string, NeighbourDemand> lanEnds;  // per switch
  NeighbourDemand demand;
  std::map<std::string, bool> isSwitch;
  for (const auto& node : plan.nodes) isSwitch[node.name] = node.kind == topo::NodeKind::Switch;
  for (const auto& node : plan.nodes) {
    if (isSwitch[node.name]) continue;
    for (const auto& interface : node.interfaces) {
      bool v4 = false, v6 = false;
      for (const auto& prefix : interface.addresses) {
        v4 = v4 || prefix.address.family == Family::V4;
        v6 = v6 || prefix.address.family == Family::V6;
      }
      NeighbourDemand& into = isSwitch[interface.peerNode] ? lanEnds[interface.peerNode] : demand;
      into.v4 += v4;
      into.v6 += v6;
    }
  }
  for (const auto& [name, ends] : lanEnds) {
    demand.v4 += ends.v4 * (ends.v4 > 0 ? ends.v4 - 1 : 0);
    demand.v6 += ends.v6 * (ends.v6 > 0 ? ends.v6 - 1 : 0);
  }
  return demand;
}

std::vector<std::string> neighbourTableWarnings(const NeighbourTables& tables,
                                                const NeighbourDemand& demand) {
  std::vector<std::string> warnings;
  if (auto warning = tableWarning(tables.v4, demand.v4, "ipv4", "IPv4")) {
    warnings.push_back(*warning);
  }
  if (auto warning = tableWarning(tables.v6, demand.v6, "ipv6", "IPv6")) {
    warnings.push_back(*warning);
  }
  return warnings;
}

LabDemand demandOf(const topo::Plan& plan) {
  return demandOfNodes(plan.nodes.size());
}

LabDemand demandOfNodes(size_t nodes) {
  LabDemand demand;
  demand.nodes = nodes;
  demand.scratchNetworkNamespaces =
      kScratchPerWorker * workerCount(nodes) + kCleanupProbeNamespaces;
  demand.openFiles = demand.nodes * kFdsPerNode + kFdsReserved;
  return demand;
}

std::vector<std::string> limitProblems(const KernelLimits& limits, const LabDemand& demand) {
  std::vector<std::string> problems;
  for (size_t i = 0; i < kNamespaceLimitNames.size(); ++i) {
    const auto& maximum = limits.maxNamespaces[i];
    std::string_view name = kNamespaceLimitNames[i];
    // A node makes its mounts in a first mount namespace, which lives until the node has copied
    // them into its own (kStartNamespaces); nodes start concurrently, so all may live at once.
    uint64_t perNode = name == "mnt" ? 2 : 1;
    uint64_t needed =
        demand.nodes * perNode + (name == "net" ? demand.scratchNetworkNamespaces : 0);
    if (!maximum || *maximum >= needed) continue;
    std::string sysctl = "user.max_" + std::string(name) + "_namespaces";
    // The kernel does not say how many are in use already: those count against the limit too.
    problems.push_back("the lab needs " + std::to_string(needed) + " " + describeType(name) +
                       " namespaces but " + sysctl + " is " + std::to_string(*maximum) +
                       " (raise it with `sysctl -w " + sysctl + "=" +
                       std::to_string(needed + *maximum) + "`)");
  }
  if (limits.openFilesHard < demand.openFiles) {
    problems.push_back("a lab of " + std::to_string(demand.nodes) + " nodes needs about " +
                       std::to_string(demand.openFiles) + " open files, but the hard limit is " +
                       std::to_string(limits.openFilesHard) + " (raise it with `ulimit -Hn " +
                       std::to_string(demand.openFiles) + "`)");
  }
  return problems;
}

KernelLimits readKernelLimits() {
  KernelLimits limits;
  for (size_t i = 0; i < kNamespaceLimitNames.size(); ++i) {
    limits.maxNamespaces[i] = readNumberFile("/proc/sys/user/max_" +
                                             std::string(kNamespaceLimitNames[i]) + "_namespaces");
  }
  rlimit openFiles{};
  if (::getrlimit(RLIMIT_NOFILE, &openFiles) < 0) throw SystemError("getrlimit", "RLIMIT_NOFILE");
  limits.openFilesHard = openFiles.rlim_max;
  return limits;
}

void ensureLabFitsLimits(const topo::Plan& plan) {
  LabDemand demand = demandOf(plan);
  std::vector<std::string> problems = limitProblems(readKernelLimits(), demand);
  if (!problems.empty()) {
    std::string message = problems.front();
    for (size_t i = 1; i < problems.size(); ++i) message += "; " + problems[i];
    throw Error(message);
  }
  raiseOpenFileLimit(demand.openFiles, "the lab");
}

void raiseOpenFileLimit(uint64_t needed, const std::string& purpose) {
  rlimit openFiles{};
  if (::getrlimit(RLIMIT_NOFILE, &openFiles) < 0) throw SystemError("getrlimit", "RLIMIT_NOFILE");
  if (openFiles.rlim_cur >= needed) return;
  if (openFiles.rlim_max < needed) {
    throw Error(purpose + " needs about " + std::to_string(needed) +
                    " open files, above the hard limit of " + std::to_string(openFiles.rlim_max) +
                    " (raise it with `ulimit -Hn " + std::to_string(needed) + "`)",
                EMFILE);
  }
  openFiles.rlim_cur = openFiles.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &openFiles) < 0) {
    throw SystemError("setrlimit", "RLIMIT_NOFILE to " + std::to_string(openFiles.rlim_max) + " (" +
                                       purpose + " needs about " + std::to_string(needed) +
                                       " open files)");
  }
}

}  // namespace netlab::nsmgr
