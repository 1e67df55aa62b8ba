// Checking that a running lab works: every node pinging every other (`netlab pingall`), and
// the checks the topology lists (`netlab test`).
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "nsmgr/report.hpp"
#include "nsmgr/state_file.hpp"
#include "topo/plan.hpp"

namespace netlab::nsmgr {

// Every node but the switches pings every address (interfaces and loopback, IPv4 and IPv6) of
// every other such node, once, waiting up to `timeout` for each reply. The pings of one node
// run at once, inside it; the nodes run side by side.
struct PingAllReport {
  std::vector<nsmgr::PingResult> pings;
  // Echo requests the kernel refused to queue (ENOBUFS): a neighbour table shared by every
  // namespace of the machine (net.ipv4.neigh.default.gc_thresh3) too small for the lab, most
  // likely.
  size_t refused = 0;
};
PingAllReport pingAll(const nsmgr::LabState& state,
                      std::chrono::seconds timeout = std::chrono::seconds(2));

using CheckResultFn = std::function<void(const nsmgr::CheckResult&)>;

struct CheckOptions {
  // Globs on the checks' labels (topo::label): only the checks that one matches run. Empty:
  // every check.
  std::vector<std::string> only;
  std::optional<std::chrono::milliseconds> timeout;  // instead of each check's own
  // The first failure ends the checks still undecided (CheckResult::stopped).
  bool failFast = false;
};

// The checks the options choose, in plan order; throws Error (EINVAL) for a glob that matches
// no check, naming the labels there are.
std::vector<const topo::Check*> chosenChecks(const topo::Plan& plan, const CheckOptions& options);

// Runs the chosen checks side by side (most of a check's time is waiting: for a reply, for the
// next try), each tried again every half second until it passes or its timeout has passed
// since its first try; reports each, one at a time, as soon as it is decided, and returns them
// in plan order.
std::vector<nsmgr::CheckResult> runChecks(const nsmgr::LabState& state,
                                          const CheckOptions& options = {},
                                          const CheckResultFn& onResult = {});

}  // namespace netlab::nsmgr
