// Tearing a lab down: only what the state file records is touched, found again by identity.
#include <signal.h>
#include <unistd.h>

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

// From the nodes' own records: parsing the whole state would take longer than the rest.
std::vector<Fd> findLiveNodes(const LabDirectory& directory) {
  std::vector<Fd> live;
  for (const auto& name : recordedNodeNames(directory)) {
    auto record = readNodeRecord(directory, name);
    if (!record) continue;
    if (auto pidfd = openProcess(record->pid, record->startTime)) live.push_back(std::move(*pidfd));
  }
  return live;
}

void stopNodes(const std::vector<Fd>& nodes) {
  for (const auto& node : nodes) signalProcess(node, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + kStopTimeout;
  for (const auto& node : nodes) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (waitForExit(node, std::max(left, std::chrono::milliseconds(0)))) continue;
    signalProcess(node, SIGKILL);
    waitForExit(node, kStopTimeout);
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
  std::vector<Fd> live;
  if (::access(directory->pathOf("nodes").c_str(), F_OK) == 0) live = findLiveNodes(*directory);
  stopNodes(live);
  result.nodesStopped = live.size();
  live.clear();
  // The nodes are gone: their state goes while the kernel finishes removing their namespaces.
  auto removal = std::async(std::launch::async, [&] { directory->remove(); });
  if (result.nodesStopped > 0) waitForNamespaceCleanup();
  removal.get();
  return result;
}

}  // namespace netlab::nsmgr
