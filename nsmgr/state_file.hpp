// What a running lab's state file holds: the plan it was built from (with the changes made to
// it since) and what the kernel gave each node, so every later command finds it again.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "topo/plan.hpp"

namespace netlab::nsmgr {

// An interface as the kernel numbered it in its node's network namespace.
struct InterfaceRuntime {
  std::string name;
  uint32_t ifindex = 0;
  bool operator==(const InterfaceRuntime&) const = default;
};

struct NodeRuntime {
  std::string name;
  int pid = 0;
  // The process's start time (field 22 of /proc/PID/stat): with the pid it identifies the
  // process, so a recycled pid is never mistaken for a node.
  uint64_t startTime = 0;
  // Every interface of the node's plan, lo excluded, in plan order.
  std::vector<InterfaceRuntime> interfaces;
  bool operator==(const NodeRuntime&) const = default;
};

struct LabState {
  topo::Plan plan;
  std::vector<NodeRuntime> nodes;
  int64_t createdUnixSeconds = 0;
  // Each node's limit of tasks, and what enforces it: "cgroup v2", "cgroup v1", or "" (none).
  uint32_t pidsLimit = 0;
  std::string pidsLimitedBy;
  bool operator==(const LabState&) const = default;
};

std::string labStateToJson(const LabState& state);
// Throws netlab::Error naming the location of the first problem.
LabState labStateFromJson(std::string_view json);

}  // namespace netlab::nsmgr
