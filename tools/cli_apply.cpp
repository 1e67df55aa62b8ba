// netlab apply: a running lab changed into an edited topology, only where they differ.
#include <chrono>
#include <iostream>

#include <fmt/format.h>

#include "base/error.hpp"
#include "nsmgr/lab_apply.hpp"
#include "nsmgr/signals.hpp"
#include "tools/cli.hpp"
#include "tools/output.hpp"
#include "topo/plan_diff.hpp"

namespace netlab::tools {
namespace {

struct ApplyOptions {
  std::string topology, lab, format;
  bool dryRun = false;
};

// The changes, and how it ended: `refusal` is why a dry run's changes would be refused.
void print(const topo::PlanDiff& diff, const ApplyOptions& options, const std::string& lab,
           double seconds, const std::string& refusal = "") {
  if (options.format == "json") {
    topo::Json json = topo::planDiffToJson(diff);
    json["lab"] = lab;
    json["applied"] = !options.dryRun && !diff.empty();
    if (options.dryRun) json["refusal"] = refusal;
    std::cout << topo::dump(json);
    return;
  }
  for (const auto& line : topo::describePlanDiff(diff)) std::cout << line << '\n';
  if (!refusal.empty()) {
    std::cout << fmt::format("dry run: apply would refuse this, changing nothing: {}\n", refusal);
  } else if (diff.empty()) {
    std::cout << fmt::format("lab `{}` is already as {} describes: nothing to change\n", lab,
                             options.topology);
  } else if (options.dryRun) {
    std::cout << fmt::format("dry run: lab `{}` left as it is\n", lab);
  } else {
    std::cout << fmt::format("lab `{}` changed in {:.3f} s\n", lab, seconds);
  }
}

}  // namespace

Action defineApply(CLI::App& command) {
  auto options = std::make_shared<ApplyOptions>();
  command.add_option("topology", options->topology, "The edited topology file (JSON)")
      ->required()
      ->check(CLI::ExistingFile);
  command.add_option("--lab", options->lab, "The running lab (default: the topology's name)");
  command.add_flag("--dry-run", options->dryRun, "Print the changes, make none");
  addFormatOption(command, options->format, {"text", "json"});
  command.footer(
      "Changes only what differs: nodes and links added or removed, changed nodes restarted\n"
      "(addresses, routes, sysctls, files, mounts, environment, startup commands), impairments\n"
      "changed in place; unchanged nodes keep their processes. A change the kernel refuses\n"
      "undoes the others. A node whose kind or user namespace changes, or a link made again\n"
      "under the same names, is refused: apply without it, then with it. See docs/apply.md.\n"
      "Examples:\n"
      "  netlab apply --dry-run lan.json\n"
      "  netlab apply --lab lan --format json lan.json");
  return [options] {
    requireLabAccess("apply");
    auto plan = loadPlan(options->topology, options->lab);
    if (!plan) return kExitInvalid;
    const std::string lab = plan->name;
    if (options->dryRun) {
      const nsmgr::PlannedChanges planned = nsmgr::planChanges(lab, *plan);
      print(planned.diff, *options, lab, 0, planned.refusal);
      return planned.refusal.empty() ? kExitOk : kExitFailure;
    }
    // Held until netlab exits: a signal must not end apply between a change and its record.
    nsmgr::holdInterruptionsUntilExit();
    const auto began = std::chrono::steady_clock::now();
    const topo::PlanDiff diff =
        withContext("applying " + options->topology + " to lab `" + lab + "`",
                    [&] { return nsmgr::applyPlan(lab, *plan); });
    print(diff, *options, lab,
          std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count());
    return kExitOk;
  };
}

}  // namespace netlab::tools
