// The lab while it is being resolved: nodes with their merged settings and wired interfaces,
// each remembering where in the document it came from. The stages, in order:
//   buildLab         defaults merged, LAN switches created, interfaces named and wired
//   checkTestNames   the `tests`' node and interface names (resolve_checks.cpp)
//   mountNodeFolders the mounts of the folders named after nodes (node_folders.cpp)
//   checkAgainstThisMachine  mount and file targets, startup programs (host_checks.cpp)
//   assignAddresses  L2 segments, their subnets, and every automatic address
//   resolvePlan      MACs, routes and sysctls resolved; the Plan
//   resolveChecks    the `tests`' final addresses, from the Plan (resolve_checks.cpp)
//   addStaticRoutes  the routes of `"routing": "static"` (static_routing.cpp)
//   addRoutingDaemons  FRR's configuration for `"routing": "ospf"` and `"bgp"` (routing.cpp)
// Each stage reports problems to the sink. Parsing and the first three stages always run.
// assignAddresses and what follows read the lab's structure (nodes, links, addresses,
// routes), so each waits until no blocking error is left before it: a mistake there is then
// reported once, not again by every later check. Errors in values no stage reads (an MTU, an
// impairment, a sysctl, a test, a node folder, a repeated MAC: see IndependentErrors) hold nothing
// back. docs/topology.md (Validation) says the same for users.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "topo/node_files.hpp"
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
// images: where imported images are (LoadOptions::imageRoot).
void checkAgainstThisMachine(const Lab& lab, const ImageRoots& images, DiagnosticSink& sink);
Plan resolvePlan(Lab& lab, DiagnosticSink& sink);
// Routes computed for the nodes with `"routing": "static"`, after the ones written for them.
void addStaticRoutes(const Lab& lab, size_t linkCount, Plan& plan, DiagnosticSink& sink);
// The routing daemons' files and startup commands; checkThisMachine: also that each suite is
// installed in the root filesystem of the routers that run it (the host's or an image's).
void addRoutingDaemons(const Lab& lab, const TopologySpec& topology, bool checkThisMachine,
                       const ImageRoots& images, Plan& plan, DiagnosticSink& sink);
// Returns the tests whose names are right, for resolveChecks. A route test's `dev` is checked
// only when interfacesComplete (no link was left out for an error).
std::vector<const CheckSpec*> checkTestNames(const std::vector<CheckSpec>& checks, const Lab& lab,
                                             bool interfacesComplete, DiagnosticSink& sink);
std::vector<Check> resolveChecks(const std::vector<const CheckSpec*>& checks, const Plan& plan,
                                 DiagnosticSink& sink);

}  // namespace netlab::topo
