// A running lab's links, live: what they carry and how they are impaired, impairments changed
// in place, and links failed and restored as a cable would be.
//
// A link is one veth pair: two nodes' interfaces, or a node's interface and its port on a
// switch. Either end names it ("r1:eth0"). Every request goes to the namespace of the node that
// holds the device, by the ifindex netlab gave it.
#pragma once

#include <string>
#include <vector>

#include "nsmgr/report.hpp"
#include "nsmgr/state_file.hpp"
#include "topo/plan.hpp"

namespace netlab::nsmgr {

// Every link of the lab with its ends' live state, counters and impairments in force.
std::vector<nsmgr::LinkReport> linkReports(const std::string& lab);

// Which way the traffic to impair flows, seen from the named end.
enum class Direction { Both, Out, In };

struct ImpairmentEdit {
  topo::Impairment fields;  // the values to set; fields not given stay as they are
  bool clearFirst = false;  // start from no impairment (`netlab link reset`)
};

// Changes the egress impairment of the named end (Out), of the end facing it (In), or both,
// in place, and records it in the lab's state. On a failure every end is put back as it was.
// Returns the ends changed, with their new impairments.
std::vector<nsmgr::LinkEndReport> editImpairments(const std::string& lab, const std::string& end,
                                                  const ImpairmentEdit& edit, Direction direction);

// Fails the link (`up` false) or restores it. A failed link carries nothing and both ends lose
// carrier, which routing daemons see; see link_control.cpp for which end goes down.
void setLinkState(const std::string& lab, const std::string& end, bool up);

// For `apply`, on a state the caller holds under the lab's lock, neither recording anything:
// - the egress of one end ("r1:eth0") made `to`, in place;
void changeEgress(const nsmgr::LabState& state, const std::string& end, const topo::Impairment& to);
// - the link of one end removed (both ends go), by the end's recorded ifindex in its node.
void removeLink(const nsmgr::LabState& state, const std::string& end);

}  // namespace netlab::nsmgr
