// Tearing a lab down: only what the state file records is touched, found again by identity.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <optional>
#include <utility>

#include "base/error.hpp"
#include "nsmgr/cgroups.hpp"
#include "nsmgr/lab.hpp"
#include "nsmgr/lab_dir.hpp"
#include "nsmgr/lab_state.hpp"
#include "nsmgr/limits.hpp"
#include "nsmgr/namespaces.hpp"
#include "nsmgr/network_pin.hpp"
#include "nsmgr/node_keeper.hpp"
#include "nsmgr/node_process.hpp"
#include "nsmgr/node_record.hpp"
#include "nsmgr/process.hpp"

namespace netlab::nsmgr {
namespace {

// How long `down` lets the `netlab exec`s of stopped nodes report their commands' ends.
constexpr auto kCommandReportGrace = std::chrono::milliseconds(1000);

// Open per node while its lab goes down: its pidfd and its network namespace.
constexpr uint64_t kFilesPerNode = 2;
constexpr uint64_t kFilesReserved = 64;

struct LiveNode {
  std::string name;
  int pid = 0;
  Fd pidfd;
  Fd network;  // held until every node has stopped (heldNetwork)
};

struct NodeSearch {
  std::vector<LiveNode> live;
  std::vector<UnidentifiedNode> unidentified;
};

// The state file, read only when some node's own record cannot be used: for a thousand nodes
// parsing it takes longer than the rest of `down`.
class StateFallback {
 public:
  StateFallback(const LabDirectory& directory, const std::string& lab)
      : directory_(directory), lab_(lab) {}

  const LabState* state() {
    if (!read_) {
      read_ = true;
      try {
        state_ = readStateFile(directory_, lab_);
      } catch (const Error& error) {
        problem_ = error.what();
      }
    }
    return state_ ? &*state_ : nullptr;
  }
  const NodeRuntime* find(const std::string& node) {
    if (!state()) return nullptr;
    for (const auto& runtime : state_->nodes) {
      if (runtime.name == node) return &runtime;
    }
    return nullptr;
  }
  const std::string& problem() const { return problem_; }

 private:
  const LabDirectory& directory_;
  const std::string& lab_;
  bool read_ = false;
  std::optional<LabState> state_;
  std::string problem_;
};

// Nodes named by their records' directories, or by the state file when that listing fails.
std::vector<std::string> nodeNames(const LabDirectory& directory, StateFallback& fallback,
                                   std::vector<UnidentifiedNode>& unidentified) {
  try {
    return recordedNodeNames(directory);
  } catch (const Error& error) {
    std::vector<std::string> names;
    if (const LabState* state = fallback.state()) {
      for (const auto& node : state->nodes) names.push_back(node.name);
    } else {
      unidentified.push_back({"(every node)", std::string(error.what()) +
                                                  "; and the state file: " + fallback.problem()});
    }
    return names;
  }
}

// The node's network namespace, held while the nodes stop, so that all of them die when `down`
// lets go of them, together. The kernel's cleanup worker takes the namespaces that have died by
// the time it runs as one batch; nodes that die one by one over half a second made batch after
// batch, and `down` then waited for the last (star 1000: 0.6 or 1.2 s, as the batches fell;
// held, 0.7 s). None when the node is gone, or the pidfd no longer names a living process once
// the file is open (its pid may have been reused).
Fd heldNetwork(pid_t pid, const Fd& pidfd) {
  try {
    Fd network = openNamespace(pid, "net");
    if (signalProcess(pidfd, 0)) return network;
  } catch (const Error&) {
    // Gone meanwhile: nothing to hold.
  }
  return Fd();
}

// Every node found again by pid and start time, from its own record or else the state file;
// a node that neither identifies is reported and never signalled.
NodeSearch findLiveNodes(const LabDirectory& directory, const std::string& lab) {
  NodeSearch search;
  StateFallback fallback(directory, lab);
  const auto names = nodeNames(directory, fallback, search.unidentified);
  raiseOpenFileLimit(names.size() * kFilesPerNode + kFilesReserved, "taking down its nodes");
  for (const auto& name : names) {
    std::optional<std::pair<int, uint64_t>> identity;
    std::string problem;
    try {
      if (auto record = readNodeRecord(directory, name)) {
        identity = {record->pid, record->startTime};
      }
    } catch (const Error& error) {
      problem = error.what();
    }
    if (!identity && !problem.empty()) {
      if (const NodeRuntime* runtime = fallback.find(name)) {
        identity = {runtime->pid, runtime->startTime};
      } else {
        search.unidentified.push_back(
            {name, problem + "; and the state file: " +
                       (fallback.problem().empty() ? "no such node" : fallback.problem())});
      }
    }
    if (!identity) continue;  // no record: a bring-up that never started it
    if (auto pidfd = openProcess(identity->first, identity->second)) {
      Fd network = heldNetwork(identity->first, *pidfd);
      search.live.push_back({name, identity->first, std::move(*pidfd), std::move(network)});
    }
  }
  return search;
}

// SIGTERM to all, then SIGKILL to those still there at the deadline; returns the nodes that
// outlived even that.
std::vector<SurvivingNode> stopNodes(const std::vector<LiveNode>& nodes) {
  std::vector<const Fd*> pidfds;
  for (const auto& node : nodes) pidfds.push_back(&node.pidfd);
  std::vector<SurvivingNode> survivors;
  for (size_t i : endProcesses(pidfds, SIGTERM, kNodeStopTimeout)) {
    survivors.push_back({nodes[i].name, nodes[i].pid});
  }
  return survivors;
}

// Some nodes live on, or could not be identified: the lab stays, with only their records, so a
// later `down` finds them again.
void keepOnly(const LabDirectory& directory, const DownResult& result) {
  std::vector<std::string> kept;
  for (const auto& node : result.survivors) kept.push_back(node.name);
  for (const auto& node : result.unidentified) kept.push_back(node.name);
  std::vector<std::string> recorded;
  try {
    recorded = recordedNodeNames(directory);
  } catch (const Error&) {
    return;  // `nodes` itself is not netlab's: left for the user to look at
  }
  for (const auto& name : recorded) {
    if (std::find(kept.begin(), kept.end(), name) == kept.end()) {
      directory.removeEntry("nodes/" + name);
    }
  }
}

// The pins of stopped nodes' network namespaces (nsmgr/network_pin.hpp), the last holders of
// those namespaces once every node is gone; returns how many there were.
size_t unpinNetworks(const LabDirectory& directory, const std::string& lab) {
  StateFallback fallback(directory, lab);
  std::vector<UnidentifiedNode> unlisted;
  size_t unpinned = 0;
  for (const auto& name : nodeNames(directory, fallback, unlisted)) {
    unpinned += unpinNetwork(directory, name) ? 1 : 0;
  }
  return unpinned;
}

}  // namespace

DownResult tearDown(const std::string& lab, const DownOptions& options) {
  DownResult result;
  removeAbandonedTemporaries(lab);
  auto directory = LabDirectory::open(lab, LabDirectory::Lock::Exclusive);
  if (!directory) return result;
  result.existed = true;
  // Nodes are recorded as they start: after a crash of `up` its nodes are dying on their own
  // (they die with the netlab that builds them), and are waited for here like any other.
  auto phaseDone = [&](const char* phase) {
    if (options.timings) options.timings->phaseDone(phase);
  };
  NodeSearch search = findLiveNodes(*directory, lab);
  result.unidentified = std::move(search.unidentified);
  phaseDone("find nodes");
  result.survivors = stopNodes(search.live);
  result.nodesStopped = search.live.size() - result.survivors.size();
  // What is left in the lab's cgroups is the lab's: the nodes no record identified, or a
  // `netlab exec` (it runs in its node's cgroups) still reporting how its command ended, which
  // is given a moment to finish before it is killed too.
  if (result.survivors.empty()) {
    const bool empty =
        result.unidentified.empty() && awaitLabCgroupsEmpty(*directory, kCommandReportGrace);
    if (!empty && killLabCgroups(*directory)) result.unidentified.clear();
  }
  phaseDone("stop nodes");
  if (!result.survivors.empty() || (!result.unidentified.empty() && !options.force)) {
    keepOnly(*directory, result);
    return result;
  }
  // Every node has stopped: their network namespaces die together, let go of here.
  search.live.clear();
  const size_t unpinned = unpinNetworks(*directory, lab);
  // The nodes are gone: their state goes while the kernel finishes removing their namespaces.
  // The cgroups go first (once their last tasks have), so a failure leaves them recorded.
  auto removal = std::async(std::launch::async, [&] {
    // The nodes' keepers write their last records, then end.
    awaitKeepers(*directory, kNodeStopTimeout);
    removeLabCgroups(*directory);
    directory->remove();
  });
  if (result.nodesStopped > 0 || unpinned > 0) waitForNamespaceCleanup();
  phaseDone("await namespace removal");
  removal.get();
  phaseDone("remove state");
  return result;
}

}  // namespace netlab::nsmgr
