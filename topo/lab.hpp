// The lab while it is being resolved: nodes with their merged settings and wired interfaces,
// each remembering where in the document it came from. The stages, in order:
//   buildLab         defaults merged, LAN switches created, interfaces named and wired
//   mountNodeFolders the mounts of the folders named after nodes (node_folders.cpp)
//   assignAddresses  L2 segments, their subnets, and every automatic address
//   resolvePlan      MACs, routes and sysctls resolved; the Plan
//   addStaticRoutes  the routes of `"routing": "static"` (static_routing.cpp)
//   resolveChecks    the `tests`, checked against the Plan (resolve_checks.cpp)
// Each stage reports problems to the sink; a stage runs only when the ones before it found
// no error, so that one mistake is reported once and not again by every later check.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "topo/spec.hpp"

namespace netlab::topo {

struct DraftInterface {
  Interface interface;             // final name, MTU and egress; MAC when given; peer names
  size_t link = 0;                 // index in TopologySpec::links
  std::optional<size_t> endpoint;  // index in the link; nullopt for a LAN switch's port
  std::vector<AddressSpec> explicitAddresses;
  bool explicitMac = false;
  Where where;  // the endpoint (for a LAN switch's port: the endpoint it faces)
};

struct DraftNode {
  std::string name;
  NodeKind kind = NodeKind::Host;
  Where where;            // its key in `nodes`, or the LAN link that created it
  NodeSettings settings;  // node > kind default > default, already merged
  std::vector<DraftInterface> interfaces;
  std::vector<IpPrefix> loopbacks;  // explicit and automatic, set by assignAddresses
};

struct Lab {
  std::string name;
  std::vector<DraftNode> nodes;  // document order, then the created LAN switches in link order
};

Lab buildLab(const TopologySpec& topology, std::string name, DiagnosticSink& sink);
void assignAddresses(Lab& lab, const TopologySpec& topology, DiagnosticSink& sink);
void mountNodeFolders(Lab& lab, const TopologySpec& topology, DiagnosticSink& sink);
Plan resolvePlan(Lab& lab, DiagnosticSink& sink);
// Routes computed for the nodes with `"routing": "static"`, after the ones written for them.
void addStaticRoutes(const Lab& lab, size_t linkCount, Plan& plan, DiagnosticSink& sink);
std::vector<Check> resolveChecks(const std::vector<CheckSpec>& checks, const Plan& plan,
                                 DiagnosticSink& sink);

}  // namespace netlab::topo
