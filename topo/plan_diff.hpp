// What changes between two plans of one lab (`netlab apply`): the running lab's recorded plan
// and an edited topology's. Pure: it knows plans, not running labs.
//
// A link is the veth pair between two ends, known by the ends' node and interface names, MACs
// and MTUs (what the kernel fixes when it creates the pair): a link whose MAC or MTU changes is
// removed and added again. Its ends' addresses belong to their nodes; its egress impairments
// are changed in place. A node whose kind or user namespace changes cannot become the new one
// in place: it is removed and added again, its links with it.
#pragma once

#include <string>
#include <vector>

#include "topo/json_document.hpp"
#include "topo/plan.hpp"

namespace netlab::topo {

// One end of a link, by name.
struct LinkEndName {
  std::string node;
  std::string interface;
  bool operator==(const LinkEndName&) const = default;
};

// A link's two ends, the one met first in plan order first.
struct LinkName {
  LinkEndName first;
  LinkEndName second;
  bool operator==(const LinkName&) const = default;
};

// What differs in a node kept by both plans; each aspect restarts the node.
struct NodeChange {
  std::string node;
  // In a fixed order: "hostname", "addresses", "routes", "sysctls", "environment",
  // "startup commands", "mounts", "files".
  std::vector<std::string> aspects;
  bool operator==(const NodeChange&) const = default;
};

// One end's egress impairment, changed in place.
struct ImpairmentChange {
  LinkName link;
  LinkEndName end;  // the end whose egress changes
  Impairment before;
  Impairment after;
  bool operator==(const ImpairmentChange&) const = default;
};

struct PlanDiff {
  std::vector<std::string> removedNodes;  // in the running plan's order
  std::vector<std::string> addedNodes;    // in the edited plan's order
  std::vector<LinkName> removedLinks;
  std::vector<LinkName> addedLinks;
  std::vector<NodeChange> changedNodes;  // in the edited plan's order
  std::vector<ImpairmentChange> impairmentChanges;
  bool checksChanged = false;  // the topology's `tests`: recorded, nothing to change in nodes
  bool operator==(const PlanDiff&) const = default;

  bool empty() const;
};

// What turns the running plan into the edited one. Both are valid plans of the same lab.
PlanDiff diffPlans(const Plan& running, const Plan& edited);

// "r1:eth0 -- r2:eth0"
std::string toString(const LinkName& link);

// The diff as a plan diff reads, one change a line, removals first:
//   - link r1:eth2 -- r2:eth2
//   - node h3
//   + node h5
//   + link s1:eth4 -- h5:eth0
//   ~ node r1 (addresses, routes)
//   ~ link r1:eth0 -- r2:eth0 impairment r1:eth0 delay 10ms -> delay 20ms
//   ~ tests
std::vector<std::string> describePlanDiff(const PlanDiff& diff);

// The same as JSON (`netlab apply --format json`); impairments as the state file writes them.
Json planDiffToJson(const PlanDiff& diff);

}  // namespace netlab::topo
