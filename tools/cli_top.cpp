// netlab top: each node's share of the CPU and its memory, live, busiest first.
#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <thread>

#include <fmt/format.h>

#include "nsmgr/lab.hpp"
#include "report/report_json.hpp"
#include "tools/cli.hpp"
#include "tools/output.hpp"

namespace netlab::tools {
namespace {

// The nodes of now, each with its CPU share since before (the same node, the same init).
std::vector<nsmgr::NodeCpuShare> rowsOf(const nsmgr::LabStatus& now, const nsmgr::LabStatus& before,
                                        double seconds) {
  std::map<std::pair<std::string, int>, uint64_t> earlier;
  for (const auto& node : before.nodes) {
    if (node.usage.cpuNanoseconds) earlier[{node.name, node.pid}] = *node.usage.cpuNanoseconds;
  }
  std::vector<nsmgr::NodeCpuShare> rows;
  for (const auto& node : now.nodes) {
    nsmgr::NodeCpuShare row{&node, std::nullopt};
    auto found = earlier.find({node.name, node.pid});
    if (node.usage.cpuNanoseconds && found != earlier.end() && seconds > 0) {
      row.cpuPercent =
          double(*node.usage.cpuNanoseconds - std::min(*node.usage.cpuNanoseconds, found->second)) /
          1e9 / seconds * 100;
    }
    rows.push_back(row);
  }
  std::stable_sort(rows.begin(), rows.end(),
                   [](const nsmgr::NodeCpuShare& a, const nsmgr::NodeCpuShare& b) {
                     return a.cpuPercent.value_or(-1) > b.cpuPercent.value_or(-1);
                   });
  return rows;
}

std::string renderTable(const std::string& lab, const std::vector<nsmgr::NodeCpuShare>& rows,
                        double seconds) {
  Table table({"NODE", "STATE", "PID", "CPU%", "CPU", "MEMORY"});
  for (const auto& row : rows) {
    table.add({row.node->name, nsmgr::stateName(*row.node), std::to_string(row.node->pid),
               row.cpuPercent ? fmt::format("{:.1f}", *row.cpuPercent) : "-",
               formatCpuTime(row.node->usage.cpuNanoseconds),
               formatMemory(row.node->usage.memoryBytes)});
  }
  return fmt::format("lab {}: {} nodes, CPU% over the last {:.1f} s (of one CPU)\n", lab,
                     rows.size(), seconds) +
         table.render();
}

}  // namespace

Action defineTop(CLI::App& command) {
  struct Options {
    std::string lab, format;
    double interval = 1;
    unsigned count = 0;
  };
  auto options = std::make_shared<Options>();
  addLabArgument(command, options->lab);
  command.add_option("-i,--interval", options->interval, "Seconds between two readings")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0));
  command.add_option("-n,--count", options->count, "Readings to show, then exit (0: until Ctrl-C)")
      ->capture_default_str();
  addFormatOption(command, options->format, {"table", "json"});
  return [options] {
    requireLabAccess("top");
    const std::string lab = chooseLab(options->lab);
    // The screen is redrawn on a terminal; elsewhere each reading follows the last (JSON: one
    // object a line).
    const bool redraw = options->format == "table" && isTerminal(STDOUT_FILENO);
    nsmgr::LabStatus before = nsmgr::labStatus(lab, nsmgr::StatusDetail::Summary);
    auto then = std::chrono::steady_clock::now();
    for (unsigned shown = 0; options->count == 0 || shown < options->count; ++shown) {
      std::this_thread::sleep_for(std::chrono::duration<double>(options->interval));
      nsmgr::LabStatus now = nsmgr::labStatus(lab, nsmgr::StatusDetail::Summary);
      const auto at = std::chrono::steady_clock::now();
      const double seconds = std::chrono::duration<double>(at - then).count();
      const auto rows = rowsOf(now, before, seconds);
      if (options->format == "json") {
        std::cout << report::topReadingToJson(lab, rows, seconds);
      } else {
        std::cout << (redraw ? "\033[H\033[2J" : (shown > 0 ? "\n" : ""))
                  << renderTable(lab, rows, seconds);
      }
      std::cout.flush();
      before = std::move(now);
      then = at;
    }
    return kExitOk;
  };
}

}  // namespace netlab::tools
