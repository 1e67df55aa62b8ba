// What commands report about running labs, as plain data; tools/ prints it as text or JSON.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "topo/plan.hpp"

namespace netlab::nsmgr {

using topo::Impairment;
using topo::NodeKind;

struct InterfaceStatus {
  std::string name;
  std::string operState;  // "up", "down", "lowerlayerdown", ...
  std::string mac;
  uint32_t mtu = 0;
  std::vector<std::string> addresses;  // "10.0.0.1/30"
  Impairment egress;                   // in force, as recorded; empty for lo and bridges
};

// How a node's init ended by itself (nsmgr/node_keeper.hpp records it).
struct InitExit {
  std::optional<int> code;    // it exited with this status
  std::optional<int> signal;  // or was killed by this signal
  bool coreDumped = false;
  // Neither: not known (an older kernel, or no keeper).
  bool operator==(const InitExit&) const = default;
};

// "exit status 3", "killed by SIGKILL", "killed by SIGSEGV (core dumped)" or "status unknown".
std::string describe(const InitExit& exit);
// "SIGKILL", or "signal 70" for one without a name.
std::string signalName(int signal);

// What a node's processes have used, read from its cgroups (its own subtree included); nullopt
// where no hierarchy has the reading (a lab made by an older netlab, or a cgroup v2 whose memory
// controller is not handed down to netlab).
struct NodeUsage {
  std::optional<uint64_t> cpuNanoseconds;  // v2's cpu.stat usage_usec, or v1's cpuacct.usage
  std::optional<uint64_t> memoryBytes;     // v2's memory.current, or v1's memory.usage_in_bytes
};

struct NodeStatus {
  std::string name;
  NodeKind kind = NodeKind::Host;
  bool running = false;
  bool stopped = false;  // by `netlab node stop`; not running and not stopped: its init exited
  int pid = 0;
  InitExit exit;  // when it exited
  NodeUsage usage;
  std::vector<InterfaceStatus> interfaces;
};

// A node in `top`: its status, and its share of one CPU over the last interval (nullopt: no
// earlier reading of the same init).
struct NodeCpuShare {
  const NodeStatus* node;
  std::optional<double> cpuPercent;
};

// "running", "stopped" or "exited".
const char* stateName(const NodeStatus& node);
// The same, with how it exited: "exited (killed by SIGKILL)".
std::string stateDescription(const NodeStatus& node);

struct LabStatus {
  std::string name;
  std::string sourceFile;
  int64_t createdUnixSeconds = 0;
  std::vector<NodeStatus> nodes;
};

// One route of a node's main table, read live (what a routing daemon installed included).
struct RouteStatus {
  std::string destination;  // "10.0.0.0/24", "0.0.0.0/0"
  std::string protocol;     // who installed it: "kernel", "static", "ospf", "bgp", ... or a number
  struct NextHop {
    std::string gateway;  // "" when the destination is on the link
    std::string device;   // "" when the kernel names no device
  };
  std::vector<NextHop> nextHops;
};

// Traffic through one interface, as the kernel counts it.
struct InterfaceCounters {
  uint64_t rxPackets = 0, txPackets = 0, rxBytes = 0, txBytes = 0, rxDropped = 0, txDropped = 0;
  // Drops in the egress qdiscs (netem's loss, a full shaper queue), which the kernel counts
  // apart from the device's own.
  uint64_t qdiscDropped = 0;
};

struct LinkEndReport {
  std::string node;
  std::string interface;
  std::string operState;  // "up", "down", "lowerlayerdown"; "unknown" when the node is gone
  Impairment egress;      // in force: read from the kernel, in the record's words where they agree
  InterfaceCounters counters;
  std::string foreignQdiscs;  // qdiscs on the end that netlab did not lay out ("" when none)
};

// One veth pair of a running lab: a point-to-point link, or a node's port on a switch.
struct LinkReport {
  LinkEndReport a;
  LinkEndReport b;
};

// One ping of `netlab pingall`: from a node to one address of another node.
struct PingResult {
  std::string from;
  std::string to;
  std::string address;
  bool replied = false;
};

// How one of the lab's checks (`netlab test`) went.
struct CheckResult {
  std::string label;  // the check's name, or its description
  std::string node;
  bool passed = false;
  uint32_t attempts = 0;
  double seconds = 0;    // from its first try to the verdict
  std::string detail;    // why its last try failed; empty when it passed
  bool stopped = false;  // ended undecided, another check having failed (CheckOptions::failFast)
};

struct PingSummary {
  size_t sent = 0;
  size_t received = 0;
  double lossPercent = 0;
};
PingSummary summarize(const std::vector<PingResult>& pings);

struct ExecOutcome {
  std::string node;
  int exitCode = 0;
  std::string stdoutText;
  std::string stderrText;
};

}  // namespace netlab::nsmgr
