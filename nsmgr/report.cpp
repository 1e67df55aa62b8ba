#include "nsmgr/report.hpp"

#include <string.h>

namespace netlab::nsmgr {

const char* stateName(const NodeStatus& node) {
  if (node.running) return "running";
  return node.stopped ? "stopped" : "exited";
}

std::string stateDescription(const NodeStatus& node) {
  if (node.running || node.stopped) return stateName(node);
  return std::string(stateName(node)) + " (" + describe(node.exit) + ")";
}

std::string signalName(int signal) {
  const char* name = sigabbrev_np(signal);
  return name ? "SIG" + std::string(name) : "signal " + std::to_string(signal);
}

std::string describe(const InitExit& exit) {
  if (exit.code) return "exit status " + std::to_string(*exit.code);
  if (exit.signal)
    return "killed by " + signalName(*exit.signal) + (exit.coreDumped ? " (core dumped)" : "");
  return "status unknown";
}

PingSummary summarize(const std::vector<PingResult>& pings) {
  PingSummary summary;
  summary.sent = pings.size();
  for (const auto& ping : pings) summary.received += ping.replied ? 1 : 0;
  if (summary.sent > 0) {
    summary.lossPercent = 100.0 * double(summary.sent - summary.received) / double(summary.sent);
  }
  return summary;
}

}  // namespace netlab::nsmgr
