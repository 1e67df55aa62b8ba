// Verbs that check a running lab works: pingall, and test (the topology's checks).
#include <chrono>
#include <iostream>
#include <map>
#include <memory>

#include <fmt/format.h>

#include "base/error.hpp"
#include "nsmgr/icmp_probe.hpp"
#include "nsmgr/lab.hpp"
#include "nsmgr/lab_checks.hpp"
#include "report/report_json.hpp"
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

std::string pingMatrix(const nsmgr::LabState& state, const std::vector<nsmgr::PingResult>& pings) {
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
  addLabArgument(command, options->lab);
  command.add_option("--timeout", options->timeout, "Seconds to wait for each reply")
      ->check(CLI::Range(1u, 60u))
      ->capture_default_str();
  addFormatOption(command, options->format, {"table", "json"});
  command.footer(
      "Every node but the switches pings every address of every other node once.\n"
      "Exit status: 0 every ping was answered, 1 some were not.");
  return [options] {
    requireLabAccess("pingall");
    const nsmgr::LabState state = nsmgr::readLabState(chooseAndEnterLab(options->lab));
    const nsmgr::PingAllReport report =
        nsmgr::pingAll(state, std::chrono::seconds(options->timeout));
    const auto& pings = report.pings;
    const nsmgr::PingSummary summary = nsmgr::summarize(pings);
    if (report.refused > 0) {
      std::cerr << "netlab: " << nsmgr::refusedEchoesCause(report.refused)
                << " (a flat LAN of N hosts needs about N*N entries)\n";
    }
    if (options->format == "json") {
      std::cout << report::pingResultsToJson(state.plan.name, pings);
    } else {
      size_t nodes = 0;
      for (const auto& node : state.plan.nodes) nodes += node.kind != topo::NodeKind::Switch;
      if (nodes <= kMaxMatrixNodes) std::cout << pingMatrix(state, pings);
      // A matrix cell says which pair failed, not which of the node's addresses: each is named.
      for (const auto& ping : pings) {
        if (!ping.replied) {
          std::cout << fmt::format("{} -> {} ({}): no reply\n", ping.from, ping.to, ping.address);
        }
      }
      std::cout << fmt::format("pingall: {:.0f}% loss, {}/{} replies\n", summary.lossPercent,
                               summary.received, summary.sent);
    }
    return summary.received == summary.sent ? kExitOk : kExitFailure;
  };
}

Action defineTest(CLI::App& command) {
  struct Options {
    std::string lab, format;
    std::vector<std::string> only;
    double timeoutSeconds = -1;  // not given
    bool failFast = false;
  };
  auto options = std::make_shared<Options>();
  addLabArgument(command, options->lab);
  addFormatOption(command, options->format, {"text", "json"});
  command.add_option("--only", options->only,
                     "Run only the tests whose name matches (a glob; repeat for several)");
  command
      .add_option("--timeout", options->timeoutSeconds,
                  "Seconds each test may take, instead of its own timeout (0: one try)")
      ->check(CLI::Range(0.0, 3600.0));
  command.add_flag("--fail-fast", options->failFast,
                   "Stop the tests still undecided at the first failure");
  command.footer(
      "Runs the checks of the topology's `tests` section (see docs/topology.md#tests) against\n"
      "the running lab, side by side, each retried until it passes or its timeout; each is\n"
      "printed as it is decided, with its tries and time.\n"
      "Exit status: 0 every check passed, 1 some failed, 2 the lab has no checks.");
  return [options] {
    requireLabAccess("test");
    const nsmgr::LabState state = nsmgr::readLabState(chooseAndEnterLab(options->lab));
    if (state.plan.checks.empty()) {
      std::cerr << fmt::format("netlab: lab `{}` has no tests (add a `tests` section to {})\n",
                               state.plan.name, state.plan.sourceFile);
      return kExitInvalid;
    }
    const bool json = options->format == "json";
    auto printResult = [&](const nsmgr::CheckResult& result) {
      if (json) return;
      std::cout << fmt::format(
          "{}  {} ({:.1f} s{})\n",
          result.passed    ? "PASS"
          : result.stopped ? "STOP"
                           : "FAIL",
          result.label, result.seconds,
          result.attempts > 1 ? fmt::format(", {} tries", result.attempts) : "");
      if (!result.passed) std::cout << "      " << result.detail << '\n';
      std::cout << std::flush;
    };
    nsmgr::CheckOptions checkOptions{options->only, std::nullopt, options->failFast};
    if (options->timeoutSeconds >= 0) {
      checkOptions.timeout =
          std::chrono::milliseconds(static_cast<int64_t>(options->timeoutSeconds * 1000));
    }
    auto start = std::chrono::steady_clock::now();
    auto results = nsmgr::runChecks(state, checkOptions, printResult);
    size_t passed = 0, stopped = 0;
    for (const auto& result : results) {
      passed += result.passed ? 1 : 0;
      stopped += result.stopped ? 1 : 0;
    }
    if (json) {
      std::cout << report::checkResultsToJson(state.plan.name, results);
    } else {
      std::cout << fmt::format(
          "{}: {} passed, {} failed{} in {:.1f} s\n", state.plan.name, passed,
          results.size() - passed - stopped,
          stopped > 0 ? fmt::format(", {} stopped", stopped) : "",
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    return passed == results.size() ? kExitOk : kExitFailure;
  };
}

}  // namespace netlab::tools
