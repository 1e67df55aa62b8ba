// The lab as a picture: nodes shaped by kind, edges labelled with interface names and addresses.
#pragma once

#include <string>

#include "topo/plan.hpp"

namespace netlab::topo {

std::string renderDot(const Plan& plan);
std::string renderMermaid(const Plan& plan);

}  // namespace netlab::topo
