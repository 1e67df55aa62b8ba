// Checking that a running lab works: every node pinging every other (`netlab pingall`).
#pragma once

#include <chrono>
#include <vector>

#include "topo/plan.hpp"
#include "topo/report.hpp"

namespace netlab::nsmgr {

// Every node but the switches pings every address (interfaces and loopback, IPv4 and IPv6) of
// every other such node, once, waiting up to `timeout` for each reply. The pings of one node
// run at once, inside it; the nodes run side by side.
std::vector<topo::PingResult> pingAll(const topo::LabState& state,
                                      std::chrono::seconds timeout = std::chrono::seconds(2));

}  // namespace netlab::nsmgr
