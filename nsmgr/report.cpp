#include "nsmgr/report.hpp"

namespace netlab::nsmgr {

const char* stateName(const NodeStatus& node) {
  if (node.running) return "running";
  return node.stopped ? "stopped" : "exited";
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
