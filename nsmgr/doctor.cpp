#include "nsmgr/doctor.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <optional>
#include <sstream>
#include <thread>

#include "base/error.hpp"
#include "base/fd.hpp"
#include "base/helper_program.hpp"
#include "netlink/qdisc.hpp"
#include "netlink/requests.hpp"
#include "netlink/session.hpp"
#include "nsmgr/cgroups.hpp"
#include "nsmgr/kernel_features.hpp"
#include "nsmgr/namespaces.hpp"
#include "topo/plan.hpp"

namespace netlab::nsmgr {
namespace {

// nullopt: the file cannot be read (absent, or not ours to read).
std::optional<std::string> readText(const std::string& path) {
  Fd file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!file) return std::nullopt;
  std::string text;
  char buffer[4096];
  ssize_t got = 0;
  while ((got = ::read(file.get(), buffer, sizeof buffer)) > 0) text.append(buffer, got);
  if (got < 0) return std::nullopt;
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

std::vector<DoctorCheck> kernelChecks() {
  std::vector<DoctorCheck> checks;
  const std::string release = kernelRelease();
  checks.push_back({"kernel", "release", CheckStatus::Ok,
                    release + " (netlab needs Linux " + std::to_string(kMinimumKernelMajor) + "." +
                        std::to_string(kMinimumKernelMinor) + ")",
                    true});
  for (const auto& feature : kernelFeatures()) {
    checks.push_back(
        {"kernel", feature.name, feature.present ? CheckStatus::Ok : CheckStatus::Wrong,
         feature.present ? feature.purpose
                         : "absent: " + feature.purpose + "; needs " + feature.since + " or later",
         true});
    if (!feature.present) checks.front().status = CheckStatus::Wrong;
  }
  return checks;
}

// What a device or qdisc kind is for, when it is missing, and the kernel option that has it.
struct DeviceProbe {
  const char* name;
  const char* disables;
  const char* config;
  bool neededByDefault;
};
constexpr DeviceProbe kVeth{"veth", "every link: no lab can be built", "CONFIG_VETH", true};
constexpr DeviceProbe kBridge{"bridge", "switches and LANs of more than two nodes", "CONFIG_BRIDGE",
                              true};
constexpr DeviceProbe kTbf{"tbf", "link rates (`rate`, `netlab link set --rate`)",
                           "CONFIG_NET_SCH_TBF", false};
constexpr DeviceProbe kNetem{"netem",
                             "link delay, jitter, loss, corruption, duplication and reordering "
                             "(examples/satellite, `netlab link set --delay/--loss`)",
                             "CONFIG_NET_SCH_NETEM", false};
constexpr DeviceProbe kVxlan{"vxlan", "nothing yet (labs spanning several machines would need it)",
                             "CONFIG_VXLAN", false};

// Interface numbers of the probe's devices, in its scratch namespace.
constexpr uint32_t kProbeLeft = 10, kProbeRight = 11, kProbeBridge = 12, kProbeVxlan = 13;

// A probe's failure: the kernel's errno, or the message when there is none.
struct ProbeFailure {
  int errnoValue = 0;
  std::string message;
};

DoctorCheck deviceCheck(const DeviceProbe& probe, const std::optional<ProbeFailure>& failure) {
  if (!failure) {
    return {"devices", probe.name, CheckStatus::Ok, "created in a scratch namespace",
            probe.neededByDefault};
  }
  const std::string reason =
      failure->errnoValue != 0 ? std::strerror(failure->errnoValue) : failure->message;
  return {"devices", probe.name, CheckStatus::Missing,
          "disables " + std::string(probe.disables) + "; the kernel refuses it (" + reason +
              "): it needs " + probe.config,
          probe.neededByDefault};
}

// Runs one batch; nullopt when the kernel accepted it, else why not.
std::optional<ProbeFailure> tryBatch(netlink::Session& session,
                                     const std::function<void(netlink::RequestBatch&)>& build) {
  try {
    netlink::RequestBatch batch;
    build(batch);
    session.execute(batch);
    return std::nullopt;
  } catch (const Error& error) {
    return ProbeFailure{error.errnoValue(), error.what()};
  }
}

netlink::LinkEnd probeEnd(const char* name, uint32_t ifindex) {
  netlink::LinkEnd end;
  end.name = name;
  end.ifindex = ifindex;
  return end;
}

// Every probe, in the calling thread's (scratch) namespace; tbf and netem on the veth pair's
// ends, so only when the pair could be made.
std::vector<DoctorCheck> probeDevices(netlink::Session& session) {
  std::vector<DoctorCheck> checks;
  const auto veth = tryBatch(session, [](netlink::RequestBatch& batch) {
    batch.newVethPair(probeEnd("probe0", kProbeLeft), probeEnd("probe1", kProbeRight),
                      "veth probe0 <-> probe1");
  });
  checks.push_back(deviceCheck(kVeth, veth));
  checks.push_back(deviceCheck(kBridge, tryBatch(session, [](netlink::RequestBatch& batch) {
                                 batch.newBridge(probeEnd("probebr", kProbeBridge),
                                                 "bridge probebr");
                               })));
  struct QdiscProbe {
    const DeviceProbe* probe;
    uint32_t ifindex;
    netlink::QdiscSettings settings;
  };
  QdiscProbe qdiscs[2] = {{&kTbf, kProbeLeft, {}}, {&kNetem, kProbeRight, {}}};
  qdiscs[0].settings.rateBitsPerSecond = 10'000'000;
  qdiscs[1].settings.delayUs = 1000;
  for (const QdiscProbe& qdisc : qdiscs) {
    if (veth) {
      checks.push_back({"devices", qdisc.probe->name, CheckStatus::Unchecked,
                        "not probed: it needs the veth pair", false});
      continue;
    }
    checks.push_back(deviceCheck(*qdisc.probe, tryBatch(session, [&](netlink::RequestBatch& batch) {
      netlink::addImpairment(batch, qdisc.ifindex, qdisc.settings, qdisc.probe->name);
    })));
  }
  checks.push_back(deviceCheck(kVxlan, tryBatch(session, [](netlink::RequestBatch& batch) {
                                 batch.newVxlan(probeEnd("probevx", kProbeVxlan), 42,
                                                "vxlan probevx");
                               })));
  return checks;
}

// On a thread of its own, which leaves for a scratch network namespace: the devices it makes
// go with that namespace when the thread ends, and none is ever made in the host's.
std::vector<DoctorCheck> probeDevicesInScratchNamespace() {
  std::vector<DoctorCheck> checks;
  std::thread prober([&checks] {
    try {
      enterScratchNetworkNamespace();
      netlink::Session session = netlink::Session::openInCurrentNamespace();
      checks = probeDevices(session);
    } catch (const std::exception& error) {
      checks.push_back({"devices", "scratch namespace", CheckStatus::Wrong,
                        std::string(error.what()) + ": no lab can be built here", true});
    }
  });
  prober.join();
  return checks;
}

std::vector<DoctorCheck> deviceChecks() {
  if (::geteuid() == 0) return probeDevicesInScratchNamespace();
  std::vector<DoctorCheck> checks;
  for (const auto* probe : {&kVeth, &kBridge, &kTbf, &kNetem, &kVxlan}) {
    checks.push_back({"devices", probe->name, CheckStatus::Unchecked,
                      "probed only as root (sudo netlab doctor)", probe->neededByDefault});
  }
  return checks;
}

// As nsmgr/cgroups does: v2's pids controller where netlab's cgroup has it, else v1's pids
// hierarchy.
DoctorCheck cgroupCheck() {
  std::vector<CgroupHierarchy> hierarchies;
  try {
    hierarchies = cgroupHierarchies();
  } catch (const Error& error) {
    return {"cgroups", "controllers", CheckStatus::Wrong, error.what(), false};
  }
  std::string v2 = "no cgroup v2";
  for (const auto& hierarchy : hierarchies) {
    if (!hierarchy.unified) continue;
    const std::string path =
        std::filesystem::path(hierarchy.mountPoint + "/" + hierarchy.ownCgroup).lexically_normal();
    const auto controllers = readText(path + "/cgroup.controllers");
    const std::string list = controllers && !controllers->empty() ? *controllers : "none";
    if ((" " + list + " ").find(" pids ") != std::string::npos) {
      return {"cgroups", "v2 controllers", CheckStatus::Ok, list + " (at " + path + ")", false};
    }
    v2 = "cgroup v2 controllers at " + path + ": " + list + ", no pids";
  }
  for (const auto& hierarchy : hierarchies) {
    if (!hierarchy.unified && hierarchy.controllers.find("pids") != std::string::npos) {
      return {"cgroups", "pids", CheckStatus::Ok,
              v2 + "; the cgroup v1 pids hierarchy (" + hierarchy.mountPoint +
                  ") limits the nodes' tasks",
              false};
    }
  }
  return {"cgroups", "pids", CheckStatus::Missing,
          v2 + " and no cgroup v1 pids hierarchy: disables the nodes' task limit (--pids-limit)",
          false};
}

DoctorCheck unprivilegedUsernsCheck() {
  // Debian's switch; kernels without it allow them, within user.max_user_namespaces.
  const auto allowed = readText("/proc/sys/kernel/unprivileged_userns_clone");
  if (allowed && *allowed == "0") {
    return {"users", "unprivileged user namespaces", CheckStatus::Missing,
            "kernel.unprivileged_userns_clone is 0: netlab runs as root and needs none, but "
            "sandboxes that use them (Chromium's, for e2e_web_browser) fail; "
            "`sysctl -w kernel.unprivileged_userns_clone=1` allows them",
            false};
  }
  return {"users", "unprivileged user namespaces", CheckStatus::Ok, "allowed", false};
}

}  // namespace

std::string_view toString(CheckStatus status) {
  switch (status) {
    case CheckStatus::Ok:
      return "ok";
    case CheckStatus::Missing:
      return "missing";
    case CheckStatus::Wrong:
      return "wrong";
    case CheckStatus::Unchecked:
      return "unchecked";
  }
  return "?";
}

bool DoctorReport::defaultExampleRuns() const {
  for (const auto& check : checks) {
    if (check.neededByDefault && check.status != CheckStatus::Ok) return false;
  }
  return true;
}

std::vector<DoctorCheck> namespaceChecks(const KernelLimits& limits) {
  const std::vector<std::string> problems =
      limitProblems(limits, demandOfNodes(kDefaultExampleNodes));
  std::vector<DoctorCheck> checks;
  for (size_t i = 0; i < kNamespaceLimitNames.size(); ++i) {
    const std::string name(kNamespaceLimitNames[i]);
    const std::string sysctl = "user.max_" + name + "_namespaces";
    DoctorCheck check{"namespaces", name, CheckStatus::Ok, "", true};
    const auto& limit = limits.maxNamespaces[i];
    check.detail = limit ? sysctl + " = " + std::to_string(*limit) : sysctl + " unreadable";
    for (const auto& problem : problems) {
      if (problem.find(sysctl) == std::string::npos) continue;
      check.status = CheckStatus::Wrong;
      check.detail = "the default example: " + problem;
    }
    checks.push_back(check);
  }
  DoctorCheck files{"namespaces", "open files", CheckStatus::Ok,
                    "hard limit " + std::to_string(limits.openFilesHard), true};
  for (const auto& problem : problems) {
    if (problem.find("open files") == std::string::npos) continue;
    files.status = CheckStatus::Wrong;
    files.detail = problem;
  }
  checks.push_back(files);
  return checks;
}

DoctorCheck subuidCheck(const std::string& subuidText) {
  // Isolated nodes take blocks of host ids from kIsolatedFirstHostId on, with no entry here:
  // a range handed to a user there would let that user own an isolated node's files.
  const uint64_t first = topo::kIsolatedFirstHostId;
  const uint64_t last = first + uint64_t{topo::kIsolatedIdsPerNode} * topo::kMaxIsolatedNodeIndex;
  std::istringstream lines(subuidText);
  std::string line;
  size_t ranges = 0;
  while (std::getline(lines, line)) {
    const auto colon = line.find(':'), second = line.rfind(':');
    if (line.empty() || line[0] == '#' || colon == std::string::npos || colon == second) continue;
    ++ranges;
    uint64_t start = 0, count = 0;
    try {
      start = std::stoull(line.substr(colon + 1, second - colon - 1));
      count = std::stoull(line.substr(second + 1));
    } catch (const std::exception&) {
      continue;
    }
    if (start < last && start + count > first) {
      return {"users", "subuid ranges", CheckStatus::Wrong,
              "`" + line + "` overlaps the host ids of isolated nodes (" + std::to_string(first) +
                  " and up): give that user a range below " + std::to_string(first) +
                  " in /etc/subuid",
              false};
    }
  }
  return {"users", "subuid ranges", CheckStatus::Ok,
          std::to_string(ranges) + " in /etc/subuid, none among isolated nodes' ids (" +
              std::to_string(first) + " and up)",
          false};
}

DoctorCheck programCheck(const std::string& name, const std::string& program,
                         const std::string& disables, const std::string& path) {
  std::istringstream directories(path);
  std::string directory;
  while (std::getline(directories, directory, ':')) {
    if (directory.empty()) continue;
    const std::string candidate = directory + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) {
      return {"programs", name, CheckStatus::Ok, candidate, false};
    }
  }
  return {"programs", name, CheckStatus::Missing,
          "no " + program + " on PATH: disables " + disables, false};
}

DoctorReport examineMachine() {
  DoctorReport report;
  auto add = [&report](std::vector<DoctorCheck> checks) {
    for (auto& check : checks) report.checks.push_back(std::move(check));
  };
  add(kernelChecks());
  add(namespaceChecks(readKernelLimits()));
  add(deviceChecks());
  add({cgroupCheck(), unprivilegedUsernsCheck(),
       subuidCheck(readText("/etc/subuid").value_or(""))});

  const std::string init = helperProgram("netlab-init", NETLAB_INIT_PATH);
  const bool initFound = ::access(init.c_str(), X_OK) == 0;
  report.checks.push_back({"programs", "netlab-init",
                           initFound ? CheckStatus::Ok : CheckStatus::Wrong,
                           initFound ? init
                                     : "not found (looked beside netlab and in its helper "
                                       "directory): reinstall netlab",
                           true});
  const char* path = ::getenv("PATH");
  const std::string searchPath = path ? path : "/usr/sbin:/usr/bin:/sbin:/bin";
  report.checks.push_back(programCheck("FRR", "vtysh", "examples/ospf (OSPF routers)", searchPath));
  report.checks.push_back(programCheck("BIRD", "bird", "examples/bgp (BGP routers)", searchPath));
  report.checks.push_back(programCheck("iperf3", "iperf3",
                                       "throughput measurements (examples/bufferbloat, "
                                       "examples/satellite, docs/links.md)",
                                       searchPath));
  report.checks.push_back(programCheck("tshark", "tshark",
                                       "reading captures in a terminal (netlab capture -w writes "
                                       "pcapng without it)",
                                       searchPath));
  report.checks.push_back(programCheck("iproute2", "ip",
                                       "`ip` inside nodes (the README's `netlab exec h1 -- ip -br "
                                       "address`)",
                                       searchPath));
  return report;
}

}  // namespace netlab::nsmgr
