// `netlab apply`: a running lab changed into an edited topology's plan, only where the two
// differ (topo/plan_diff.hpp); see docs/apply.md.
#pragma once

#include <string>

#include "topo/plan.hpp"
#include "topo/plan_diff.hpp"

namespace netlab::nsmgr {

struct PlannedChanges {
  topo::PlanDiff diff;
  // Why applyPlan would refuse the changes before making any (docs/apply.md#what-it-cannot-change);
  // empty when it would not.
  std::string refusal;
};

// What turns the running lab into `edited`, read from its state file; nothing is changed.
PlannedChanges planChanges(const std::string& lab, const topo::Plan& edited);

// Makes the changes under the lab's lock (where `node` commands wait) and records the edited plan
// as the lab's: nodes added (started as `up` starts them, with their links), links added between
// kept nodes, changed nodes restarted, impairments changed in place, then links and nodes
// removed. A change the kernel refuses undoes those already made, in reverse order, and is
// thrown naming the object. Returns the changes made (none: the lab was already so).
topo::PlanDiff applyPlan(const std::string& lab, const topo::Plan& edited);

}  // namespace netlab::nsmgr
