// The plan for people: one block per node with its interfaces as an aligned table
// (`netlab plan`). Impairments are shown in human units ("delay 40ms loss 1%").
#pragma once

#include <string>

#include "topo/plan.hpp"

namespace netlab::topo {

std::string renderPlanTable(const Plan& plan);

}  // namespace netlab::topo
