#include "nsmgr/cgroups.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <optional>
#include <sstream>
#include <thread>

#include "base/error.hpp"
#include "nsmgr/process.hpp"
#include "nsmgr/rootless.hpp"

namespace netlab::nsmgr {
namespace {

constexpr const char* kRecordFile = "cgroups";
constexpr const char* kLabPrefix = "netlab-";
// After a node's init dies the kernel ends the rest of its processes; their cgroups are busy
// until they have.
constexpr auto kBusyTimeout = std::chrono::seconds(5);

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::istringstream stream(text);
  for (std::string part; std::getline(stream, part, separator);) parts.push_back(part);
  return parts;
}

std::string joinPath(const std::string& directory, const std::string& name) {
  return directory.ends_with('/') ? directory + name : directory + "/" + name;
}

// A mountinfo line's mount root, mount point, type and super options.
struct Mount {
  std::string root, point, type, options;
};

std::optional<Mount> parseMountLine(const std::string& line) {
  const size_t separator = line.find(" - ");
  if (separator == std::string::npos) return std::nullopt;
  const auto left = split(line.substr(0, separator), ' ');
  const auto right = split(line.substr(separator + 3), ' ');
  if (left.size() < 5 || right.size() < 3) return std::nullopt;
  return Mount{left[3], left[4], right[0], right[2]};
}

// The hierarchy's directory for a cgroup path, seen through a mount whose root may be below the
// hierarchy's own (a container's view); nullopt when the cgroup is outside the mount.
std::optional<std::string> below(const Mount& mount, const std::string& cgroup) {
  if (mount.root == "/") return cgroup;
  if (cgroup != mount.root && !cgroup.starts_with(mount.root + "/")) return std::nullopt;
  const std::string rest = cgroup.substr(mount.root.size());
  return rest.empty() ? "/" : rest;
}

bool containsAll(const std::string& options, const std::string& controllers) {
  const auto have = split(options, ',');
  for (const auto& wanted : split(controllers, ',')) {
    if (std::find(have.begin(), have.end(), wanted) == have.end()) return false;
  }
  return true;
}

bool onCgroupFilesystem(const std::string& path) {
  struct statfs info {};
  if (::statfs(path.c_str(), &info) != 0) return false;
  return info.f_type == CGROUP_SUPER_MAGIC || info.f_type == CGROUP2_SUPER_MAGIC;
}

void makeCgroup(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) < 0 && errno != EEXIST) throw SystemError("mkdir", path);
}

// A v1 cpuset takes tasks only once it has CPUs and memory nodes: the lab's gets its parent's,
// and hands them to the nodes' (clone_children).
void prepareCpuset(const std::string& lab) {
  const std::string parent = std::filesystem::path(lab).parent_path();
  for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
    writeWholeFile(joinPath(lab, file), readWholeFile(joinPath(parent, file)));
  }
  writeWholeFile(joinPath(lab, "cgroup.clone_children"), "1");
}

// Depth first: a node may have made cgroups inside its own.
void removeTree(const std::string& path) {
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(path, error)) {
    if (entry.is_directory() && !entry.is_symlink()) removeTree(entry.path());
  }
  const auto deadline = std::chrono::steady_clock::now() + kBusyTimeout;
  while (::rmdir(path.c_str()) < 0) {
    if (errno == ENOENT) return;
    if (errno != EBUSY || std::chrono::steady_clock::now() > deadline) {
      throw SystemError("rmdir", path);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// The lab cgroups the directory records, each checked to be a lab's cgroup: the record is
// netlab's own file, but nothing is signalled or removed on its word alone.
std::optional<std::vector<std::string>> recordedLabCgroups(const LabDirectory& directory) {
  const auto record = directory.readFile(kRecordFile);
  if (!record) return std::nullopt;
  std::vector<std::string> paths;
  for (const auto& path : split(*record, '\n')) {
    if (!path.empty() && std::filesystem::path(path).filename().string().starts_with(kLabPrefix) &&
        onCgroupFilesystem(path)) {
      paths.push_back(path);
    }
  }
  return paths;
}

// The pids a cgroup.procs file lists now; none when the cgroup is gone.
std::vector<std::string> processesIn(const std::string& cgroup) {
  try {
    return split(readWholeFile(joinPath(cgroup, "cgroup.procs")), '\n');
  } catch (const Error&) {
    return {};
  }
}

// cgroup v1: every process of the cgroup and those below it, by pidfd, each checked to be in it
// after its pidfd is open (a pid read from cgroup.procs may have been reused since).
void killEachProcess(const std::string& cgroup) {
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(cgroup, error)) {
    if (entry.is_directory() && !entry.is_symlink()) killEachProcess(entry.path());
  }
  for (const auto& pid : processesIn(cgroup)) {
    if (pid.empty()) continue;
    const auto pidfd = openPidfd(std::stoi(pid));
    const auto now = processesIn(cgroup);
    if (pidfd && std::find(now.begin(), now.end(), pid) != now.end()) {
      signalProcess(*pidfd, SIGKILL);
    }
  }
}

}  // namespace

std::vector<CgroupHierarchy> parseCgroupHierarchies(const std::string& mountinfo,
                                                    const std::string& ownCgroups) {
  std::vector<Mount> mounts;
  for (const auto& line : split(mountinfo, '\n')) {
    auto mount = parseMountLine(line);
    if (mount && (mount->type == "cgroup" || mount->type == "cgroup2")) mounts.push_back(*mount);
  }
  std::vector<CgroupHierarchy> hierarchies;
  for (const auto& line : split(ownCgroups, '\n')) {
    // "ID:CONTROLLERS:PATH"; v2 is "0::PATH".
    const size_t first = line.find(':');
    const size_t second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1);
    const std::string cgroup = line.substr(second + 1);
    const bool unified = controllers.empty();
    for (const auto& mount : mounts) {
      if (unified != (mount.type == "cgroup2")) continue;
      if (!unified && !containsAll(mount.options, controllers)) continue;
      if (auto own = below(mount, cgroup)) {
        hierarchies.push_back({mount.point, unified, controllers, *own});
        break;  // the first mount of a hierarchy will do
      }
    }
  }
  return hierarchies;
}

std::vector<CgroupHierarchy> cgroupHierarchies(pid_t pid) {
  const std::string process = pid == 0 ? "self" : std::to_string(pid);
  // netlab's mounts with the process's cgroups: read from here, its paths are netlab's view.
  return parseCgroupHierarchies(readWholeFile("/proc/self/mountinfo"),
                                readWholeFile("/proc/" + process + "/cgroup"));
}

std::vector<std::string> LabCgroups::procsFilesOf(const std::string& node) const {
  std::vector<std::string> files;
  for (const auto& lab : labCgroups_)
    files.push_back(joinPath(joinPath(lab, node), "cgroup.procs"));
  return files;
}

std::vector<std::string> cgroupProcsFilesOf(pid_t pid) {
  std::vector<std::string> files;
  // A rootless lab's nodes have no cgroups of their own (LabCgroups): commands stay in
  // netlab's, which an ordinary user may not write even to join it again.
  if (rootless()) return files;
  for (const auto& hierarchy : cgroupHierarchies(pid)) {
    files.push_back(joinPath(hierarchy.mountPoint + hierarchy.ownCgroup, "cgroup.procs"));
  }
  return files;
}

void NodeCgroups::attach(pid_t pid, const std::string& node) const {
  const std::string text = std::to_string(pid);
  for (size_t i = 0; i < procs_.size(); ++i) {
    withContext("putting node " + node + " in its cgroup",
                [&] { writeAll(procs_[i].get(), text, paths_[i]); });
  }
}

LabCgroups::LabCgroups(const LabDirectory& directory, const std::string& lab, uint32_t pidsLimit)
    : pidsLimit_(pidsLimit) {
  // Without root the host's cgroups are not netlab's to divide (nsmgr/rootless.hpp): the lab
  // records none, and its nodes stay in netlab's.
  const auto hierarchies = rootless() ? std::vector<CgroupHierarchy>{} : cgroupHierarchies();
  std::string record;
  for (const auto& hierarchy : hierarchies) {
    labCgroups_.push_back(joinPath(hierarchy.mountPoint + hierarchy.ownCgroup, kLabPrefix + lab));
    record += labCgroups_.back() + "\n";
  }
  directory.writeFile(kRecordFile, record);
  for (size_t i = 0; i < hierarchies.size(); ++i) {
    const std::string& path = labCgroups_[i];
    makeCgroup(path);
    if (hierarchies[i].controllers == "cpuset") prepareCpuset(path);
    // Each node's memory.current, for `status` and `top`, where netlab's cgroup hands the
    // memory controller down (the file's presence says so).
    if (hierarchies[i].unified && std::filesystem::exists(joinPath(path, "memory.max"))) {
      writeWholeFile(joinPath(path, "cgroup.subtree_control"), "+memory");
    }
    if (pidsLimit == 0 || !pidsCgroup_.empty()) continue;
    if (hierarchies[i].unified) {
      // Only where netlab's own cgroup already hands pids down: enabling it there would change a
      // cgroup netlab did not make.
      if (!std::filesystem::exists(joinPath(path, "pids.max"))) continue;
      writeWholeFile(joinPath(path, "cgroup.subtree_control"), "+pids");
      pidsCgroup_ = path;
      pidsLimitedBy_ = "cgroup v2";
    }
  }
  // v1's pids hierarchy where v2 has no pids controller to offer.
  for (size_t i = 0; i < hierarchies.size() && pidsLimit > 0 && pidsCgroup_.empty(); ++i) {
    if (hierarchies[i].controllers == "pids") {
      pidsCgroup_ = labCgroups_[i];
      pidsLimitedBy_ = "cgroup v1";
    }
  }
}

NodeCgroups LabCgroups::makeNode(const std::string& node) const {
  NodeCgroups cgroups;
  for (const auto& lab : labCgroups_) {
    const std::string path = joinPath(lab, node);
    makeCgroup(path);
    if (lab == pidsCgroup_) {
      writeWholeFile(joinPath(path, "pids.max"), std::to_string(pidsLimit_));
    }
  }
  cgroups.paths_ = procsFilesOf(node);
  for (const auto& procs : cgroups.paths_) cgroups.procs_.push_back(openFile(procs, O_WRONLY));
  return cgroups;
}

bool killLabCgroups(const LabDirectory& directory) {
  const auto paths = recordedLabCgroups(directory);
  // No cgroup recorded (a rootless lab): nothing was killed through one.
  if (!paths || paths->empty()) return false;
  for (const auto& path : *paths) {
    const std::string kill = joinPath(path, "cgroup.kill");
    if (std::filesystem::exists(kill)) {
      writeWholeFile(kill, "1");
      return true;  // every process of the lab is in its v2 cgroup
    }
  }
  for (const auto& path : *paths) killEachProcess(path);
  return true;
}

void removeLabCgroups(const LabDirectory& directory) {
  if (const auto paths = recordedLabCgroups(directory)) {
    for (const auto& path : *paths) removeTree(path);
  }
}

std::optional<uint64_t> cpuNanosecondsFromCpuStat(const std::string& cpuStat) {
  for (const auto& line : split(cpuStat, '\n')) {
    if (line.starts_with("usage_usec ")) return std::stoull(line.substr(11)) * 1000;
  }
  return std::nullopt;
}

namespace {

// A reading is a number the kernel wrote; a file that is missing or vanishes (the node going
// meanwhile) is no reading.
std::optional<std::string> readCgroupFile(const std::string& path) {
  try {
    return readWholeFile(path);
  } catch (const Error&) {
    return std::nullopt;
  }
}

std::optional<uint64_t> cgroupNumber(const std::optional<std::string>& text) {
  if (!text || text->empty() || !std::isdigit(static_cast<unsigned char>((*text)[0]))) {
    return std::nullopt;
  }
  return std::stoull(*text);
}

NodeUsage nodeUsage(const std::vector<std::string>& labCgroups, const std::string& node) {
  NodeUsage usage;
  for (const auto& lab : labCgroups) {
    const std::string cgroup = joinPath(lab, node);
    if (!usage.cpuNanoseconds) {
      if (auto stat = readCgroupFile(joinPath(cgroup, "cpu.stat"))) {
        usage.cpuNanoseconds = cpuNanosecondsFromCpuStat(*stat);
      }
    }
    if (!usage.cpuNanoseconds) {
      usage.cpuNanoseconds = cgroupNumber(readCgroupFile(joinPath(cgroup, "cpuacct.usage")));
    }
    if (!usage.memoryBytes) {
      usage.memoryBytes = cgroupNumber(readCgroupFile(joinPath(cgroup, "memory.current")));
    }
    if (!usage.memoryBytes) {
      usage.memoryBytes = cgroupNumber(readCgroupFile(joinPath(cgroup, "memory.usage_in_bytes")));
    }
  }
  return usage;
}

}  // namespace

std::vector<NodeUsage> nodeUsages(const LabDirectory& directory,
                                  const std::vector<std::string>& nodes) {
  // The record is read and checked once for all the nodes.
  const std::vector<std::string> labCgroups =
      recordedLabCgroups(directory).value_or(std::vector<std::string>{});
  std::vector<NodeUsage> usages;
  for (const auto& node : nodes) usages.push_back(nodeUsage(labCgroups, node));
  return usages;
}

}  // namespace netlab::nsmgr
