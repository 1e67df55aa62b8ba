// The JSON form of a Plan (`netlab plan --format json`) and of a lab's state file.
// Both round-trip: fromJson(toJson(x)) == x.
#pragma once

#include <string>
#include <string_view>

#include "topo/plan.hpp"

namespace netlab::topo {

std::string planToJson(const Plan& plan);
// Throws netlab::Error naming the location of the first problem.
Plan planFromJson(std::string_view json);

std::string labStateToJson(const LabState& state);
LabState labStateFromJson(std::string_view json);

}  // namespace netlab::topo
