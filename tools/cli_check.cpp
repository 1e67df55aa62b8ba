// Verbs that check a running lab works: pingall.
#include <iostream>
#include <map>
#include <memory>

#include <fmt/format.h>

#include "base/error.hpp"
#include "nsmgr/lab.hpp"
#include "nsmgr/lab_checks.hpp"
#include "tools/cli.hpp"
#include "tools/output.hpp"

namespace netlab::tools {
namespace {

// Beyond this many nodes the matrix is too wide to read; only failures are listed.
constexpr size_t kMaxMatrixNodes = 24;

struct PairCount {
  size_t replied = 0;
  size_t sent = 0;
};

std::string cell(const PairCount& count) {
  if (count.sent == 0) return "";
  if (count.replied == count.sent) return "ok";
  if (count.replied == 0) return "X";
  return fmt::format("{}/{}", count.replied, count.sent);
}

std::string pingMatrix(const topo::LabState& state, const std::vector<topo::PingResult>& pings) {
  std::map<std::pair<std::string, std::string>, PairCount> pairs;
  for (const auto& ping : pings) {
    PairCount& count = pairs[{ping.from, ping.to}];
    ++count.sent;
    count.replied += ping.replied ? 1 : 0;
  }
  std::vector<std::string> names;
  for (const auto& node : state.plan.nodes) {
    if (node.kind != topo::NodeKind::Switch) names.push_back(node.name);
  }
  std::vector<std::string> header{"FROM \\ TO"};
  header.insert(header.end(), names.begin(), names.end());
  Table table(header);
  for (const auto& from : names) {
    std::vector<std::string> row{from};
    for (const auto& to : names) row.push_back(from == to ? "-" : cell(pairs[{from, to}]));
    table.add(row);
  }
  return table.render();
}

}  // namespace

Action definePingall(CLI::App& command) {
  struct Options {
    std::string lab, format;
    unsigned timeout = 2;
  };
  auto options = std::make_shared<Options>();
  command.add_option("lab", options->lab, "Lab name or its topology file (default: the only lab)");
  command.add_option("--timeout", options->timeout, "Seconds to wait for each reply")
      ->check(CLI::Range(1u, 60u))
      ->capture_default_str();
  addFormatOption(command, options->format, {"table", "json"});
  command.footer(
      "Every node but the switches pings every address of every other node once.\n"
      "Exit status: 0 every ping was answered, 1 some were not.");
  return [options] {
    requireRoot("pingall");
    const topo::LabState state = nsmgr::readLabState(chooseLab(options->lab));
    auto pings = nsmgr::pingAll(state, std::chrono::seconds(options->timeout));
    size_t replied = 0;
    for (const auto& ping : pings) replied += ping.replied ? 1 : 0;
    if (options->format == "json") {
      std::cout << topo::pingResultsToJson(state.plan.name, pings);
    } else {
      size_t nodes = 0;
      for (const auto& node : state.plan.nodes) nodes += node.kind != topo::NodeKind::Switch;
      if (nodes <= kMaxMatrixNodes) std::cout << pingMatrix(state, pings);
      for (const auto& ping : pings) {
        if (!ping.replied && nodes > kMaxMatrixNodes) {
          std::cout << fmt::format("{} -> {} ({}): no reply\n", ping.from, ping.to, ping.address);
        }
      }
      const double loss =
          pings.empty() ? 0.0 : 100.0 * double(pings.size() - replied) / double(pings.size());
      std::cout << fmt::format("pingall: {:.0f}% loss, {}/{} replies\n", loss, replied,
                               pings.size());
    }
    return replied == pings.size() ? kExitOk : kExitFailure;
  };
}

}  // namespace netlab::tools
