// The JSON form of a Plan (`netlab plan --format json`; the state file of a running lab holds
// it too). It round-trips: planFromJson(planToJson(x)) == x.
#pragma once

#include <string>
#include <string_view>

#include "topo/json_document.hpp"
#include "topo/plan.hpp"

namespace netlab::topo {

// Bumped when the meaning of a key changes; readers refuse other versions.
inline constexpr int kPlanJsonVersion = 1;

std::string planToJson(const Plan& plan);
// Throws netlab::Error naming the location of the first problem.
Plan planFromJson(std::string_view json);

// The same as values, for a document that holds a plan (the state file).
Json planToJsonValue(const Plan& plan);
Plan readPlan(const Reader& reader);

}  // namespace netlab::topo
