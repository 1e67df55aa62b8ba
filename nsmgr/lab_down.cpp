// Tearing a lab down: only what the state file records is touched, found again by identity.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <future>

#include "base/error.hpp"
#include "nsmgr/lab.hpp"
#include "nsmgr/lab_dir.hpp"
#include "nsmgr/namespaces.hpp"
#include "nsmgr/node_record.hpp"
#include "nsmgr/process.hpp"

namespace netlab::nsmgr {
namespace {

// Init forwards SIGTERM to the node's processes and gives them 2 s; past this, SIGKILL.
constexpr auto kStopTimeout = std::chrono::milliseconds(3000);

struct LiveNode {
  std::string name;
  int pid = 0;
  Fd pidfd;
};

// From the nodes' own records: parsing the whole state would take longer than the rest.
std::vector<LiveNode> findLiveNodes(const LabDirectory& directory) {
  std::vector<LiveNode> live;
  for (const auto& name : recordedNodeNames(directory)) {
    auto record = readNodeRecord(directory, name);
    if (!record) continue;
    if (auto pidfd = openProcess(record->pid, record->startTime)) {
      live.push_back({name, record->pid, std::move(*pidfd)});
    }
  }
  return live;
}

// SIGTERM to all, then SIGKILL to those still there at the deadline; returns the nodes that
// outlived even that.
std::vector<SurvivingNode> stopNodes(const std::vector<LiveNode>& nodes) {
  for (const auto& node : nodes) signalProcess(node.pidfd, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + kStopTimeout;
  std::vector<SurvivingNode> survivors;
  for (const auto& node : nodes) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (waitForExit(node.pidfd, std::max(left, std::chrono::milliseconds(0)))) continue;
    signalProcess(node.pidfd, SIGKILL);
    if (!waitForExit(node.pidfd, kStopTimeout)) survivors.push_back({node.name, node.pid});
  }
  return survivors;
}

// Some nodes live on: the lab stays, with only their records, so a later `down` ends them.
void keepOnlySurvivors(const LabDirectory& directory,
                       const std::vector<SurvivingNode>& survivors) {
  for (const auto& name : recordedNodeNames(directory)) {
    const bool survived = std::any_of(survivors.begin(), survivors.end(),
                                      [&](const SurvivingNode& node) { return node.name == name; });
    if (!survived) directory.removeEntry("nodes/" + name);
  }
}

}  // namespace

DownResult tearDown(const std::string& lab) {
  DownResult result;
  removeAbandonedTemporaries(lab);
  auto directory = LabDirectory::open(lab, LabDirectory::Lock::Exclusive);
  if (!directory) return result;
  result.existed = true;
  // Nodes are recorded as they start: after a crash of `up` its nodes are dying on their own
  // (they die with the netlab that builds them), and are waited for here like any other.
  std::vector<LiveNode> live;
  if (::access(directory->pathOf("nodes").c_str(), F_OK) == 0) live = findLiveNodes(*directory);
  result.survivors = stopNodes(live);
  result.nodesStopped = live.size() - result.survivors.size();
  if (!result.survivors.empty()) {
    keepOnlySurvivors(*directory, result.survivors);
    return result;
  }
  live.clear();
  // The nodes are gone: their state goes while the kernel finishes removing their namespaces.
  auto removal = std::async(std::launch::async, [&] { directory->remove(); });
  if (result.nodesStopped > 0) waitForNamespaceCleanup();
  removal.get();
  return result;
}

}  // namespace netlab::nsmgr
