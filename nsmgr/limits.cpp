#include "nsmgr/limits.hpp"

#include <fcntl.h>
#include <sys/resource.h>

#include <charconv>
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

}  // namespace

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
