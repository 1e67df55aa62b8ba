// Verbs that only read a topology: validate, plan, graph.
#include <iostream>

#include "tools/cli.hpp"
#include "tools/output.hpp"
#include "topo/graph.hpp"
#include "topo/plan_json.hpp"
#include "topo/plan_table.hpp"

namespace netlab::tools {
namespace {

struct TopologyOptions {
  std::string topology;
  std::string lab;
  std::string format;
};

std::shared_ptr<TopologyOptions> addTopologyOptions(CLI::App& command) {
  auto options = std::make_shared<TopologyOptions>();
  command.add_option("topology", options->topology, "Topology file (JSON)")
      ->required()
      ->check(CLI::ExistingFile);
  command.add_option("--lab", options->lab, "Lab name (default: the topology's name)");
  return options;
}

}  // namespace

Action defineValidate(CLI::App& command) {
  auto options = addTopologyOptions(command);
  return [options] {
    auto plan = loadPlan(options->topology, options->lab);
    if (!plan) return kExitInvalid;
    std::cout << options->topology << ": valid: lab `" << plan->name << "`, " << plan->nodes.size()
              << " nodes\n";
    return kExitOk;
  };
}

Action definePlan(CLI::App& command) {
  auto options = addTopologyOptions(command);
  addFormatOption(command, options->format, {"table", "json"});
  return [options] {
    auto plan = loadPlan(options->topology, options->lab);
    if (!plan) return kExitInvalid;
    std::cout << (options->format == "json" ? topo::planToJson(*plan)
                                            : topo::renderPlanTable(*plan));
    return kExitOk;
  };
}

Action defineGraph(CLI::App& command) {
  auto options = addTopologyOptions(command);
  addFormatOption(command, options->format, {"dot", "mermaid"},
                  "dot (render with `dot -Tsvg`) or mermaid");
  return [options] {
    auto plan = loadPlan(options->topology, options->lab);
    if (!plan) return kExitInvalid;
    std::cout << (options->format == "dot" ? topo::renderDot(*plan) : topo::renderMermaid(*plan));
    return kExitOk;
  };
}

}  // namespace netlab::tools
