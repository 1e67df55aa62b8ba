// The lab as a whole: bring-up, tear-down, status and finding nodes again. These are the entry
// points the netlab command calls.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/fd.hpp"
#include "base/phase_timings.hpp"
#include "nsmgr/cgroups.hpp"
#include "nsmgr/report.hpp"
#include "nsmgr/state_file.hpp"
#include "topo/plan.hpp"

namespace netlab::nsmgr {

// Progress of long work: a stage name and how far it got.
using ProgressFn = std::function<void(const std::string& stage, size_t done, size_t total)>;

struct UpOptions {
  ProgressFn progress;
  // Tasks (processes and threads) each node may have; 0 for no limit.
  uint32_t pidsLimit = kDefaultNodePidsLimit;
  // When set, each phase of the build is timed into it (`netlab up --timings`).
  PhaseTimings* timings = nullptr;
};

// Builds the lab the plan describes and returns its recorded state. Any failure (or SIGINT,
// SIGTERM) rolls back everything already made before the error is thrown.
nsmgr::LabState bringUp(const topo::Plan& plan, const UpOptions& options = {});

// A node whose init outlived SIGKILL: a process in uninterruptible sleep (a hung NFS or FUSE
// call) or in a frozen cgroup dies only when that ends.
struct SurvivingNode {
  std::string name;
  int pid = 0;
};

// A node whose record is unusable (not a regular file of netlab's, truncated, a symlink) and
// that the state file does not identify either: it is never signalled.
struct UnidentifiedNode {
  std::string name;
  std::string reason;
};

struct DownOptions {
  // Remove the lab's state even when some nodes could not be identified (once the user has
  // made sure they are gone).
  bool force = false;
  // When set, each phase of the removal is timed into it (`netlab down --timings`).
  PhaseTimings* timings = nullptr;
};

struct DownResult {
  bool existed = false;
  size_t nodesStopped = 0;
  // Either non-empty (unidentified without `force`): the lab is not down. Those nodes' records
  // and the lab's state are kept, so the next `down` finds them again; the stopped nodes'
  // records are gone.
  std::vector<SurvivingNode> survivors;
  std::vector<UnidentifiedNode> unidentified;
};

// Stops every node recorded in the lab's state, waits until the kernel has removed their
// namespaces and devices, and removes the state. Idempotent; never forgets a node that is
// still alive (see DownResult::survivors).
DownResult tearDown(const std::string& lab, const DownOptions& options = {});

std::vector<std::string> listLabs();
// Live status read from the kernel; throws when the lab is not running.
// Interfaces: every node's, read in its network namespace. Summary: whether each runs (its
// recorded process is alive), how it exited and its usage, without its interfaces: needs no
// entry into any namespace, so a rootless netlab, which can enter only one lab's user
// namespace, can list every lab of its user; and `top` reads it every interval.
enum class StatusDetail { Interfaces, Summary };
nsmgr::LabStatus labStatus(const std::string& lab, StatusDetail detail = StatusDetail::Interfaces);
// A running node's routes (main table, IPv4 and IPv6), read live from its kernel; throws when
// the lab or node is not running.
std::vector<nsmgr::RouteStatus> nodeRoutes(const std::string& lab, const std::string& node);
// The recorded state of a running lab; throws when the lab is not running.
nsmgr::LabState readLabState(const std::string& lab);

// A running node, found again by its recorded identity.
struct NodeHandle {
  std::string name;
  Fd pidfd;
  int pid = 0;  // the node's init, identified by pidfd (and start time when it was opened)
  std::vector<std::string> env;  // the node's environment, "NAME=value"
};

// Throws when the lab or node does not exist or the node is not running.
NodeHandle openNode(const nsmgr::LabState& state, const std::string& node);
// The same from the node's own record, without reading the lab's whole state.
NodeHandle openNode(const std::string& lab, const std::string& node);

// The environment commands see in a node: a sane PATH, HOME, the lab's and node's names, then
// the node's own variables.
std::vector<std::string> nodeEnvironment(const std::string& lab, const topo::Node& node);

}  // namespace netlab::nsmgr
