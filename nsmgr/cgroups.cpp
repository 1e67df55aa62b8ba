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
#include <cmath>
#include <filesystem>
#include <optional>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "base/error.hpp"
#include "nsmgr/mountinfo.hpp"
#include "nsmgr/node_keeper.hpp"
#include "nsmgr/process.hpp"
#include "nsmgr/rootless.hpp"

namespace netlab::nsmgr {
namespace {

constexpr const char* kRecordFile = "cgroups";
constexpr const char* kLabPrefix = "netlab-";
// Where netlab moves itself in a cgroup delegated to the user (LabCgroups::handDownFromDelegated).
constexpr const char* kNetlabLeaf = "netlab";
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

// The hierarchy's directory for a cgroup path, seen through a mount whose root may be below the
// hierarchy's own (a container's view); nullopt when the cgroup is outside the mount.
std::optional<std::string> below(const MountEntry& mount, const std::string& cgroup) {
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

// False when it was there already (a restarted node's).
bool makeCgroup(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) == 0) return true;
  if (errno != EEXIST) throw SystemError("mkdir", path);
  return false;
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

// Depth first: a node may have made cgroups inside its own. A cgroup is listed only when it
// cannot be removed at once: `down` of a thousand nodes removes ten thousand cgroups here, and
// reading each directory first cost more than removing it.
void removeTree(const std::string& path) {
  if (::rmdir(path.c_str()) == 0 || errno == ENOENT) return;
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

// A cgroup file's text; none when it is missing or vanishes (its cgroup going meanwhile).
std::optional<std::string> readCgroupFile(const std::string& path) {
  try {
    return readWholeFile(path);
  } catch (const Error&) {
    return std::nullopt;
  }
}

// The pids a cgroup.procs file lists now; none when the cgroup is gone.
std::vector<std::string> processesIn(const std::string& cgroup) {
  if (auto procs = readCgroupFile(joinPath(cgroup, "cgroup.procs"))) return split(*procs, '\n');
  return {};
}

// "812 sleep, 815 bash": what is in a cgroup, for a message.
std::string describeProcesses(const std::string& cgroup) {
  std::string described;
  for (const auto& pid : processesIn(cgroup)) {
    if (pid.empty()) continue;
    std::string name;
    try {
      name = readWholeFile("/proc/" + pid + "/comm");
      std::erase(name, '\n');
    } catch (const Error&) {
      name = "gone";
    }
    described += (described.empty() ? "" : ", ") + pid + " " + name;
  }
  return described;
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
  std::vector<MountEntry> mounts;
  for (auto& mount : parseMountinfo(mountinfo)) {
    if (mount.type == "cgroup" || mount.type == "cgroup2") mounts.push_back(std::move(mount));
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

namespace {

bool writableByUser(const std::string& path) {
  return ::faccessat(AT_FDCWD, path.c_str(), W_OK, AT_EACCESS) == 0;
}

// What systemd's `Delegate=` (or an administrator's chown) hands a user: the cgroup's directory
// and the files that move processes and hand controllers down.
bool delegatedToUser(const CgroupHierarchy& hierarchy) {
  const std::string cgroup = hierarchy.mountPoint + hierarchy.ownCgroup;
  return hierarchy.unified && writableByUser(cgroup) &&
         writableByUser(joinPath(cgroup, "cgroup.procs")) &&
         writableByUser(joinPath(cgroup, "cgroup.subtree_control"));
}

// The hierarchies netlab may divide: every one as root; without root the host's cgroups are not
// the user's, and only a cgroup v2 cgroup delegated to the user is.
std::vector<CgroupHierarchy> dividableHierarchies() {
  std::vector<CgroupHierarchy> hierarchies = cgroupHierarchies();
  if (rootless()) std::erase_if(hierarchies, [](const auto& h) { return !delegatedToUser(h); });
  return hierarchies;
}

// cgroup v2 moves a process between two cgroups only for a mover who may write the cgroup.procs
// of their nearest common ancestor (the kernel's cgroup_procs_write_permission). from and to are
// paths below the hierarchy's mount point.
bool mayMoveBetween(const std::string& mountPoint, const std::string& from, const std::string& to) {
  std::filesystem::path ancestor = "/";
  const std::filesystem::path source = from, target = to;
  for (auto a = source.begin(), b = target.begin();
       a != source.end() && b != target.end() && *a == *b; ++a, ++b) {
    ancestor /= *a;
  }
  return writableByUser(
      joinPath(mountPoint + ancestor.lexically_normal().string(), "cgroup.procs"));
}

// A node's cgroup is a child of a lab's; anything else is a cgroup netlab did not make.
bool isNodeCgroup(const std::string& cgroup) {
  return std::filesystem::path(cgroup).parent_path().filename().string().starts_with(kLabPrefix);
}

}  // namespace

bool inDelegatedCgroup() {
  return rootless() && !dividableHierarchies().empty();
}

CommandCgroups commandCgroupsOf(pid_t pid) {
  CommandCgroups cgroups;
  if (!rootless()) {
    for (const auto& hierarchy : cgroupHierarchies(pid)) {
      cgroups.procsFiles.push_back(
          joinPath(hierarchy.mountPoint + hierarchy.ownCgroup, "cgroup.procs"));
    }
    return cgroups;
  }
  // Without root a node has a cgroup of its own only in cgroup v2, below a delegated cgroup;
  // else it shares the one `up` ran in, and so do its commands.
  std::string own;
  for (const auto& hierarchy : cgroupHierarchies()) {
    if (hierarchy.unified) own = hierarchy.ownCgroup;
  }
  for (const auto& hierarchy : cgroupHierarchies(pid)) {
    if (!hierarchy.unified || !isNodeCgroup(hierarchy.ownCgroup)) continue;
    if (mayMoveBetween(hierarchy.mountPoint, own, hierarchy.ownCgroup)) {
      cgroups.procsFiles.push_back(
          joinPath(hierarchy.mountPoint + hierarchy.ownCgroup, "cgroup.procs"));
    } else {
      cgroups.outOfReach = hierarchy.mountPoint + hierarchy.ownCgroup;
    }
  }
  return cgroups;
}

void NodeCgroups::attach(pid_t pid, const std::string& node) const {
  const std::string text = std::to_string(pid);
  for (size_t i = 0; i < procs_.size(); ++i) {
    withContext("putting node " + node + " in its cgroup",
                [&] { writeAll(procs_[i].get(), text, paths_[i]); });
  }
}

namespace {

// The controllers a limit of `resources` needs, with the first node that asks for each.
struct Requests {
  const topo::Node* cpu = nullptr;
  const topo::Node* memory = nullptr;
  const topo::Node* pids = nullptr;
};

Requests requestsOf(const topo::Plan& plan) {
  Requests requests;
  for (const auto& node : plan.nodes) {
    if (node.resources.cpus && !requests.cpu) requests.cpu = &node;
    if (node.resources.memoryBytes && !requests.memory) requests.memory = &node;
    if (node.resources.pids && !requests.pids) requests.pids = &node;
  }
  return requests;
}

// The controller's interface file in a v2 cgroup, present when its parent hands it down.
std::string v2File(const std::string& controller) {
  return controller == "cpu" ? "cpu.max" : controller == "memory" ? "memory.max" : "pids.max";
}

void writeIfPresent(const std::string& path, const std::string& value) {
  if (std::filesystem::exists(path)) writeWholeFile(path, value);
}

// A restarted node's cgroup (`node restart`, `apply`) still holds the limits of its old plan:
// each one the new plan drops is lifted, in whichever version's files the cgroup has.
void liftDroppedLimits(const std::string& cgroup, const topo::Resources& resources,
                       uint32_t pidsLimit) {
  if (!resources.cpus) {
    writeIfPresent(joinPath(cgroup, "cpu.max"), "max");
    writeIfPresent(joinPath(cgroup, "cpu.cfs_quota_us"), "-1");
  }
  if (!resources.memoryBytes) {
    for (const char* file : {"memory.max", "memory.swap.max"}) {
      writeIfPresent(joinPath(cgroup, file), "max");
    }
    for (const char* file : {"memory.memsw.limit_in_bytes", "memory.limit_in_bytes"}) {
      writeIfPresent(joinPath(cgroup, file), "-1");
    }
  }
  if (!resources.pids && pidsLimit == 0) writeIfPresent(joinPath(cgroup, "pids.max"), "max");
}

}  // namespace

LabCgroups LabCgroups::make(const LabDirectory& directory, const topo::Plan& plan,
                            uint32_t pidsLimit) {
  std::vector<CgroupHierarchy> hierarchies = dividableHierarchies();
  std::vector<std::string> labCgroups;
  std::string record;
  for (const auto& hierarchy : hierarchies) {
    labCgroups.push_back(
        joinPath(hierarchy.mountPoint + hierarchy.ownCgroup, kLabPrefix + plan.name));
    record += labCgroups.back() + "\n";
  }
  directory.writeFile(kRecordFile, record);
  for (size_t i = 0; i < hierarchies.size(); ++i) {
    makeCgroup(labCgroups[i]);
    if (hierarchies[i].controllers == "cpuset") prepareCpuset(labCgroups[i]);
  }
  return LabCgroups(plan, pidsLimit, std::move(hierarchies), std::move(labCgroups));
}

LabCgroups LabCgroups::reopen(const LabDirectory& directory, const topo::Plan& plan,
                              uint32_t pidsLimit) {
  // Matched to the hierarchies by mount point: netlab may run in another cgroup than `up` did.
  const auto recorded = recordedLabCgroups(directory).value_or(std::vector<std::string>{});
  std::vector<CgroupHierarchy> hierarchies;
  std::vector<std::string> labCgroups;
  for (auto& hierarchy : cgroupHierarchies()) {
    for (const auto& lab : recorded) {
      if (!lab.starts_with(hierarchy.mountPoint + "/")) continue;
      const std::string below = lab.substr(hierarchy.mountPoint.size());
      if (rootless() && !mayMoveBetween(hierarchy.mountPoint, hierarchy.ownCgroup, below)) {
        throw Error(fmt::format("the lab's nodes are in cgroup {}, which this netlab may not "
                                "move a node into: it runs in {}{}, outside the cgroup delegated "
                                "to you that `up` ran in (run it there, for example with "
                                "`systemd-run --user --scope`; docs/rootless.md)",
                                lab, hierarchy.mountPoint, hierarchy.ownCgroup),
                    EACCES);
      }
      hierarchies.push_back(std::move(hierarchy));
      labCgroups.push_back(lab);
      break;
    }
  }
  return LabCgroups(plan, pidsLimit, std::move(hierarchies), std::move(labCgroups));
}

LabCgroups::LabCgroups(const topo::Plan& plan, uint32_t pidsLimit,
                       std::vector<CgroupHierarchy> hierarchies,
                       std::vector<std::string> labCgroups)
    : hierarchies_(std::move(hierarchies)),
      labCgroups_(std::move(labCgroups)),
      pidsLimit_(pidsLimit) {
  const Requests requests = requestsOf(plan);
  // Memory always where v2 hands it down: each node's memory.current, for `status` and `top`.
  memory_ = place("memory", true);
  cpu_ = place("cpu", requests.cpu != nullptr);
  pids_ = place("pids", pidsLimit > 0 || requests.pids != nullptr);
  refuseMissing(cpu_ ? nullptr : requests.cpu, "cpu", "cpus");
  refuseMissing(memory_ ? nullptr : requests.memory, "memory", "memory");
  refuseMissing(pids_ ? nullptr : requests.pids, "pids", "pids");
  if (pids_ && pidsLimit > 0) pidsLimitedBy_ = pids_->unified ? "cgroup v2" : "cgroup v1";
}

void LabCgroups::refuseMissing(const topo::Node* node, const char* controller,
                               const char* setting) const {
  if (!node) return;
  const std::string start = "node " + node->name + " has `resources` `" + setting + "`, but ";
  if (!delegatedBusy_.empty()) throw Error(start + delegatedBusy_, EBUSY);
  if (rootless()) {
    throw Error(start + "the cgroup delegated to you offers no " + controller +
                    " controller (not in its cgroup.controllers: the manager that delegated it "
                    "did not hand it down)",
                EOPNOTSUPP);
  }
  throw Error(start + "no cgroup hierarchy here offers the " + controller +
                  " controller to netlab's cgroup (cgroup v2: not enabled in the "
                  "cgroup.subtree_control of netlab's cgroup's parent; no cgroup v1 " +
                  controller + " hierarchy mounted)",
              EOPNOTSUPP);
}

// v2's controller where the parent of the lab's cgroup already hands it down (enabling it higher
// up would change a cgroup netlab did not make), or where the user may hand it down, in a cgroup
// delegated to them; else the v1 hierarchy that has it.
std::optional<LabCgroups::Controller> LabCgroups::place(const std::string& controller,
                                                        bool needed) {
  if (!needed) return std::nullopt;
  for (size_t i = 0; i < hierarchies_.size(); ++i) {
    const std::string& lab = labCgroups_[i];
    if (!hierarchies_[i].unified) continue;
    if (std::filesystem::exists(joinPath(lab, v2File(controller))) ||
        (rootless() && handDownFromDelegated(lab, controller))) {
      writeWholeFile(joinPath(lab, "cgroup.subtree_control"), "+" + controller);
      return Controller{lab, true};
    }
  }
  for (size_t i = 0; i < hierarchies_.size(); ++i) {
    if (!hierarchies_[i].unified && containsAll(hierarchies_[i].controllers, controller)) {
      return Controller{labCgroups_[i], false};
    }
  }
  return std::nullopt;
}

// A delegatee may hand its cgroup's controllers down (systemd's delegation guide), but cgroup v2
// lets a cgroup other than the root do so only while no process is in it: netlab first moves
// itself to a leaf of its own there, beside the lab's cgroup (kept for later commands; empty once
// they end). False, with the reason kept, while other processes (a shell started in it) are in it
// too.
bool LabCgroups::handDownFromDelegated(const std::string& lab, const std::string& controller) {
  const std::string delegated = std::filesystem::path(lab).parent_path();
  // "cpu memory pids\n", as a list like a v1 mount's options.
  std::string offered = readWholeFile(joinPath(delegated, "cgroup.controllers"));
  std::erase(offered, '\n');
  std::replace(offered.begin(), offered.end(), ' ', ',');
  if (!containsAll(offered, controller)) return false;
  const std::string leaf = joinPath(delegated, kNetlabLeaf);
  makeCgroup(leaf);
  // Both of netlab's processes: this one and, in a worker, the command that waits for it.
  writeWholeFile(joinPath(leaf, "cgroup.procs"), "0");
  if (const auto command = waitingCommand()) {
    writeWholeFile(joinPath(leaf, "cgroup.procs"), std::to_string(*command));
  }
  try {
    writeWholeFile(joinPath(delegated, "cgroup.subtree_control"), "+" + controller);
  } catch (const Error& error) {
    if (error.errnoValue() != EBUSY) throw;
    delegatedBusy_ = "the cgroup delegated to you, " + delegated +
                     ", holds processes besides netlab (" + describeProcesses(delegated) +
                     "), and cgroup v2 hands controllers down only from a cgroup without any: "
                     "start netlab in a cgroup of its own, for example with `systemd-run --user "
                     "--scope -p Delegate=yes netlab up ...` (docs/rootless.md)";
    return false;
  }
  return true;
}

NodeCgroups LabCgroups::makeNode(const topo::Node& node) const {
  const topo::Resources& resources = node.resources;
  for (const auto& lab : labCgroups_) {
    const std::string cgroup = joinPath(lab, node.name);
    if (!makeCgroup(cgroup)) liftDroppedLimits(cgroup, resources, pidsLimit_);
  }
  const uint32_t pids = resources.pids.value_or(pidsLimit_);
  if (pids_ && pids > 0) {
    writeWholeFile(joinPath(joinPath(pids_->labCgroup, node.name), "pids.max"),
                   std::to_string(pids));
  }
  if (cpu_ && resources.cpus) {
    const std::string cgroup = joinPath(cpu_->labCgroup, node.name);
    const auto quota =
        std::to_string(std::llround(*resources.cpus * static_cast<double>(kCpuPeriodMicroseconds)));
    const auto period = std::to_string(kCpuPeriodMicroseconds);
    if (cpu_->unified) {
      writeWholeFile(joinPath(cgroup, "cpu.max"), quota + " " + period);
    } else {
      writeWholeFile(joinPath(cgroup, "cpu.cfs_period_us"), period);
      writeWholeFile(joinPath(cgroup, "cpu.cfs_quota_us"), quota);
    }
  }
  if (memory_ && resources.memoryBytes) {
    // Swap counted in the limit (where the kernel accounts it), so a node over its memory is
    // OOM-killed in its cgroup rather than pushed to swap.
    const std::string cgroup = joinPath(memory_->labCgroup, node.name);
    const std::string bytes = std::to_string(*resources.memoryBytes);
    if (memory_->unified) {
      writeWholeFile(joinPath(cgroup, "memory.max"), bytes);
      writeIfPresent(joinPath(cgroup, "memory.swap.max"), "0");
    } else {
      // v1 wants memory and swap at least memory at every moment: swap lifted first.
      const std::string swap = joinPath(cgroup, "memory.memsw.limit_in_bytes");
      writeIfPresent(swap, "-1");
      writeWholeFile(joinPath(cgroup, "memory.limit_in_bytes"), bytes);
      writeIfPresent(swap, bytes);
    }
  }
  NodeCgroups cgroups;
  cgroups.paths_ = procsFilesOf(node.name);
  for (const auto& procs : cgroups.paths_) cgroups.procs_.push_back(openFile(procs, O_WRONLY));
  return cgroups;
}

bool awaitLabCgroupsEmpty(const LabDirectory& directory, std::chrono::milliseconds grace) {
  const auto paths = recordedLabCgroups(directory);
  if (!paths) return false;
  const auto unified = std::find_if(paths->begin(), paths->end(), [](const std::string& path) {
    return std::filesystem::exists(joinPath(path, "cgroup.events"));
  });
  if (unified == paths->end()) return false;
  const std::string events = joinPath(*unified, "cgroup.events");
  const auto deadline = std::chrono::steady_clock::now() + grace;
  for (;;) {
    // "populated 0": no process in the cgroup or below it; a cgroup gone is empty too.
    const auto text = readCgroupFile(events);
    if (!text || text->find("populated 0") != std::string::npos) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
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
