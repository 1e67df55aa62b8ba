// What commands report about running labs, as plain data; topo/ gives it its JSON form.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "topo/plan.hpp"

namespace netlab::topo {

struct InterfaceStatus {
  std::string name;
  std::string operState;  // "up", "down", "lowerlayerdown", ...
  std::string mac;
  uint32_t mtu = 0;
  std::vector<std::string> addresses;  // "10.0.0.1/30"
};

struct NodeStatus {
  std::string name;
  NodeKind kind = NodeKind::Host;
  bool running = false;
  int pid = 0;
  std::vector<InterfaceStatus> interfaces;
};

struct LabStatus {
  std::string name;
  std::string sourceFile;
  int64_t createdUnixSeconds = 0;
  std::vector<NodeStatus> nodes;
};

struct ExecOutcome {
  std::string node;
  int exitCode = 0;
  std::string stdoutText;
  std::string stderrText;
};

std::string labStatusToJson(const LabStatus& status);
std::string labListToJson(const std::vector<LabStatus>& labs);
std::string execOutcomesToJson(const std::vector<ExecOutcome>& outcomes);

}  // namespace netlab::topo
