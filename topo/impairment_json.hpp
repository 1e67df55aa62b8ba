// An impairment's JSON form, shared by the state file and the reports of running labs: only
// the fields in force, in the units the kernel takes (microseconds, bit/s, percent).
#pragma once

#include <nlohmann/json.hpp>

#include "topo/plan.hpp"

namespace netlab::topo {

nlohmann::ordered_json impairmentToJson(const Impairment& impairment);

}  // namespace netlab::topo
