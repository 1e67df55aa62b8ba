#include "report/report_json.hpp"

#include <nlohmann/json.hpp>

#include "topo/impairment_json.hpp"

namespace netlab::report {
namespace {

using nlohmann::ordered_json;
using namespace nsmgr;

ordered_json toJsonValue(const InterfaceStatus& interface) {
  return {{"name", interface.name},
          {"oper_state", interface.operState},
          {"mac", interface.mac},
          {"mtu", interface.mtu},
          {"addresses", interface.addresses},
          {"egress", impairmentToJson(interface.egress)}};
}

// How an exited node's init ended: {"code": 0}, {"signal": "SIGKILL", "core_dumped": false},
// or {} when that is not known; null for a node that has not exited.
ordered_json exitToJson(const NodeStatus& node) {
  if (node.running || node.stopped) return nullptr;
  ordered_json exit = ordered_json::object();
  if (node.exit.code) exit["code"] = *node.exit.code;
  if (node.exit.signal) {
    exit["signal"] = signalName(*node.exit.signal);
    exit["core_dumped"] = node.exit.coreDumped;
  }
  return exit;
}

ordered_json cpuSecondsToJson(const NodeUsage& usage) {
  if (!usage.cpuNanoseconds) return nullptr;
  return double(*usage.cpuNanoseconds) / 1e9;
}

ordered_json memoryBytesToJson(const NodeUsage& usage) {
  if (!usage.memoryBytes) return nullptr;
  return *usage.memoryBytes;
}

ordered_json toJsonValue(const NodeStatus& node) {
  ordered_json interfaces = ordered_json::array();
  for (const auto& interface : node.interfaces) interfaces.push_back(toJsonValue(interface));
  return {{"name", node.name},
          {"kind", std::string(toString(node.kind))},
          {"state", stateName(node)},
          {"pid", node.pid},
          {"exit", exitToJson(node)},
          {"cpu_seconds", cpuSecondsToJson(node.usage)},
          {"memory_bytes", memoryBytesToJson(node.usage)},
          {"interfaces", interfaces}};
}

ordered_json toJsonValue(const LabStatus& lab) {
  ordered_json nodes = ordered_json::array();
  for (const auto& node : lab.nodes) nodes.push_back(toJsonValue(node));
  return {{"name", lab.name},
          {"topology", lab.sourceFile},
          {"created_unix", lab.createdUnixSeconds},
          {"nodes", nodes}};
}

ordered_json toJsonValue(const LinkEndReport& end) {
  const InterfaceCounters& counters = end.counters;
  return {{"node", end.node},
          {"interface", end.interface},
          {"oper_state", end.operState},
          {"egress", impairmentToJson(end.egress)},
          {"foreign_qdiscs", end.foreignQdiscs},
          {"counters",
           {{"rx_packets", counters.rxPackets},
            {"tx_packets", counters.txPackets},
            {"rx_bytes", counters.rxBytes},
            {"tx_bytes", counters.txBytes},
            {"rx_dropped", counters.rxDropped},
            {"tx_dropped", counters.txDropped},
            {"qdisc_dropped", counters.qdiscDropped}}}};
}

}  // namespace

std::string linkReportsToJson(const std::string& lab, const std::vector<LinkReport>& links) {
  ordered_json list = ordered_json::array();
  for (const auto& link : links) {
    list.push_back({{"ends", {toJsonValue(link.a), toJsonValue(link.b)}}});
  }
  return ordered_json{{"lab", lab}, {"links", list}}.dump(2) + "\n";
}

std::string pingResultsToJson(const std::string& lab, const std::vector<PingResult>& pings) {
  ordered_json list = ordered_json::array();
  for (const auto& ping : pings) {
    list.push_back({{"from", ping.from},
                    {"to", ping.to},
                    {"address", ping.address},
                    {"replied", ping.replied}});
  }
  const PingSummary summary = summarize(pings);
  return ordered_json{{"lab", lab},
                      {"sent", summary.sent},
                      {"received", summary.received},
                      {"loss_percent", summary.lossPercent},
                      {"pings", list}}
             .dump(2) +
         "\n";
}

std::string checkResultsToJson(const std::string& lab, const std::vector<CheckResult>& results) {
  ordered_json list = ordered_json::array();
  size_t passed = 0, stopped = 0;
  for (const auto& result : results) {
    passed += result.passed ? 1 : 0;
    stopped += result.stopped ? 1 : 0;
    list.push_back({{"name", result.label},
                    {"node", result.node},
                    {"passed", result.passed},
                    {"stopped", result.stopped},
                    {"attempts", result.attempts},
                    {"seconds", result.seconds},
                    {"detail", result.detail}});
  }
  return ordered_json{{"lab", lab},
                      {"passed", passed},
                      {"failed", results.size() - passed - stopped},
                      {"stopped", stopped},
                      {"checks", list}}
             .dump(2) +
         "\n";
}

std::string labStatusToJson(const LabStatus& status) {
  return toJsonValue(status).dump(2) + "\n";
}

std::string topReadingToJson(const std::string& lab, const std::vector<NodeCpuShare>& rows,
                             double seconds) {
  ordered_json nodes = ordered_json::array();
  for (const auto& row : rows) {
    nodes.push_back({{"name", row.node->name},
                     {"state", stateName(*row.node)},
                     {"pid", row.node->pid},
                     {"cpu_percent", row.cpuPercent ? ordered_json(*row.cpuPercent) : nullptr},
                     {"cpu_seconds", cpuSecondsToJson(row.node->usage)},
                     {"memory_bytes", memoryBytesToJson(row.node->usage)}});
  }
  return ordered_json{{"lab", lab}, {"interval_seconds", seconds}, {"nodes", nodes}}.dump() + "\n";
}

std::string labListToJson(const std::vector<LabStatus>& labs) {
  ordered_json list = ordered_json::array();
  for (const auto& lab : labs) {
    size_t running = 0;
    for (const auto& node : lab.nodes) running += node.running ? 1 : 0;
    list.push_back({{"name", lab.name},
                    {"topology", lab.sourceFile},
                    {"created_unix", lab.createdUnixSeconds},
                    {"nodes", lab.nodes.size()},
                    {"running", running}});
  }
  return list.dump(2) + "\n";
}

std::string routesToJson(const std::string& lab, const std::string& node,
                         const std::vector<RouteStatus>& routes) {
  ordered_json list = ordered_json::array();
  for (const auto& route : routes) {
    ordered_json hops = ordered_json::array();
    for (const auto& hop : route.nextHops) {
      hops.push_back({{"gateway", hop.gateway}, {"device", hop.device}});
    }
    list.push_back(
        {{"destination", route.destination}, {"protocol", route.protocol}, {"next_hops", hops}});
  }
  return ordered_json{{"lab", lab}, {"node", node}, {"routes", list}}.dump(2) + "\n";
}

std::string execOutcomesToJson(const std::vector<ExecOutcome>& outcomes) {
  ordered_json list = ordered_json::array();
  for (const auto& outcome : outcomes) {
    list.push_back({{"node", outcome.node},
                    {"exit_code", outcome.exitCode},
                    {"stdout", outcome.stdoutText},
                    {"stderr", outcome.stderrText}});
  }
  return list.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string doctorReportToJson(const nsmgr::DoctorReport& report) {
  ordered_json checks = ordered_json::array();
  for (const auto& check : report.checks) {
    checks.push_back({{"area", check.area},
                      {"name", check.name},
                      {"status", nsmgr::toString(check.status)},
                      {"detail", check.detail},
                      {"needed_by_default_example", check.neededByDefault}});
  }
  ordered_json document = {{"default_example_runs", report.defaultExampleRuns()},
                           {"checks", std::move(checks)}};
  return document.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace netlab::report
