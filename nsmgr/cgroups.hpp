// Every node in cgroups of its own: one in each cgroup hierarchy mounted here (cgroup v2 and
// every v1 one), under a cgroup of the lab's, entered before the node unshares its cgroup
// namespace. The namespace is then rooted at the node's own cgroups, so a cgroup filesystem the
// node mounts shows only its own subtree, and a pids limit keeps a fork bomb inside one node.
// A node's `resources` (CPU time, memory, tasks) are written into its cgroups before its first
// process runs: each through v2's controller where netlab's cgroup hands it down, else through
// the v1 hierarchy that has it. Without root netlab divides only a cgroup v2 cgroup delegated to
// the user (docs/rootless.md): the one it was started in, when the user may write it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/fd.hpp"
#include "nsmgr/lab_dir.hpp"
#include "nsmgr/report.hpp"
#include "topo/plan.hpp"

namespace netlab::nsmgr {

// A node may have this many tasks (processes and threads) unless the lab says otherwise.
inline constexpr uint32_t kDefaultNodePidsLimit = 1024;
// The period of a node's CPU quota: `"cpus": 0.5` is 50 ms of CPU time in every 100 ms.
inline constexpr uint64_t kCpuPeriodMicroseconds = 100'000;

// One mounted cgroup hierarchy, and netlab's own cgroup in it.
struct CgroupHierarchy {
  std::string mountPoint;   // "/sys/fs/cgroup/pids"
  bool unified = false;     // cgroup2
  std::string controllers;  // v1: as /proc/self/cgroup names them ("pids", "name=systemd")
  std::string ownCgroup;    // where netlab runs in it, as a directory below mountPoint
};

// Parsed from /proc/PID/mountinfo and /proc/PID/cgroup text (unit-tested on samples).
std::vector<CgroupHierarchy> parseCgroupHierarchies(const std::string& mountinfo,
                                                    const std::string& ownCgroups);
// netlab's own, or those of another process (a node's init, to run a command beside it).
std::vector<CgroupHierarchy> cgroupHierarchies(pid_t pid = 0);

// Without root: whether netlab's own cgroup v2 cgroup was delegated to the user (its directory,
// cgroup.procs and cgroup.subtree_control are the user's to write, as systemd's `Delegate=`
// leaves them). As root: false.
bool inDelegatedCgroup();

// The cgroups a command joins to run beside a node's init (pid), so the node's limits hold for it.
struct CommandCgroups {
  std::vector<std::string> procsFiles;  // writing 0 to one moves the writer
  // Without root: the node's cgroup when this netlab may not move into it (cgroup v2 moves a
  // process only through a common ancestor the user may write: netlab runs outside the cgroup
  // delegated to the user that the lab was made in); empty otherwise.
  std::string outOfReach;
};
CommandCgroups commandCgroupsOf(pid_t pid);

// The cgroup.procs files of one node, opened before it is cloned.
class NodeCgroups {
 public:
  // Moves the node in; it must not have unshared its cgroup namespace yet.
  void attach(pid_t pid, const std::string& node) const;

 private:
  friend class LabCgroups;
  std::vector<Fd> procs_;
  std::vector<std::string> paths_;
};

class LabCgroups {
 public:
  // For `up`: records the lab's cgroups in its directory (file `cgroups`), below netlab's own,
  // then makes them, so that `down` finds them after any crash, with the controllers the plan's
  // nodes need handed down. pidsLimit: each node's unless its `resources` say otherwise; 0 for
  // none. Throws, naming the node and the controller, when a node's `resources` ask for one that
  // no hierarchy offers.
  static LabCgroups make(const LabDirectory& directory, const topo::Plan& plan, uint32_t pidsLimit);
  // For a lab that runs (`node restart`, `apply`): the cgroups its directory records, wherever
  // this netlab runs, with the controllers the plan's nodes need handed down.
  static LabCgroups reopen(const LabDirectory& directory, const topo::Plan& plan,
                           uint32_t pidsLimit);

  // Makes the node's cgroups, with its limits.
  NodeCgroups makeNode(const topo::Node& node) const;
  // The cgroup.procs files of the node's cgroups (a command joins them: writing 0 moves it).
  std::vector<std::string> procsFilesOf(const std::string& node) const;
  // Where the lab's pids limit is applied: "cgroup v2", "cgroup v1", or "" when nowhere.
  const std::string& pidsLimitedBy() const { return pidsLimitedBy_; }

 private:
  // The lab cgroup whose children get a controller's limits, and its hierarchy's version.
  struct Controller {
    std::string labCgroup;
    bool unified = false;
  };

  LabCgroups(const topo::Plan& plan, uint32_t pidsLimit, std::vector<CgroupHierarchy> hierarchies,
             std::vector<std::string> labCgroups);
  std::optional<Controller> place(const std::string& controller, bool needed);
  bool handDownFromDelegated(const std::string& lab, const std::string& controller);
  void refuseMissing(const topo::Node* node, const char* controller, const char* setting) const;

  std::vector<CgroupHierarchy> hierarchies_;
  std::vector<std::string> labCgroups_;  // one per hierarchy, absolute
  // Why the delegated cgroup hands no controller down (it holds processes besides netlab).
  std::string delegatedBusy_;
  std::optional<Controller> cpu_, memory_, pids_;
  uint32_t pidsLimit_ = 0;
  std::string pidsLimitedBy_;
};

// Whether the lab's cgroups are empty, or become so within `grace`: cgroup v2 says it of a whole
// subtree in one file (cgroup.events). False when a process stays, or when the lab has no v2
// cgroup recorded (v1 has no such file).
bool awaitLabCgroupsEmpty(const LabDirectory& directory, std::chrono::milliseconds grace);

// Ends whatever is still in the lab's cgroups: processes of nodes no record identified, or that
// a command left behind. Only processes in a cgroup netlab made for the lab are signalled: the
// whole subtree at once through cgroup v2's cgroup.kill where there is one, else each process by
// pidfd, checked to be in the cgroup once the pidfd is open. False when the lab has no cgroups
// recorded (it was made by an older netlab).
bool killLabCgroups(const LabDirectory& directory);

// Once every process of the lab is gone: removes the cgroups its directory records, the ones its
// nodes made inside theirs included, waiting briefly for the kernel to let the last tasks go.
// Throws, naming the cgroup, when one stays busy.
void removeLabCgroups(const LabDirectory& directory);

// What each node's cgroups say it has used, in the order of nodes.
std::vector<NodeUsage> nodeUsages(const LabDirectory& directory,
                                  const std::vector<std::string>& nodes);
// The CPU time in a cgroup v2 cpu.stat text, in nanoseconds; nullopt without usage_usec.
std::optional<uint64_t> cpuNanosecondsFromCpuStat(const std::string& cpuStat);

}  // namespace netlab::nsmgr
