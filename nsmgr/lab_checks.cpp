#include "nsmgr/lab_checks.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <variant>

#include "base/error.hpp"
#include "nsmgr/icmp_probe.hpp"
#include "nsmgr/node_commands.hpp"
#include "nsmgr/node_session.hpp"
#include "nsmgr/parallel.hpp"
#include "topo/checks.hpp"

namespace netlab::nsmgr {
namespace {

std::vector<IpAddress> addressesOf(const topo::Node& node) {
  std::vector<IpAddress> addresses;
  for (const auto& prefix : node.loopbackAddresses) addresses.push_back(prefix.address);
  for (const auto& interface : node.interfaces) {
    for (const auto& prefix : interface.addresses) addresses.push_back(prefix.address);
  }
  return addresses;
}

// The outcome of one try of a check: nullopt when it passed, else why not.
using Verdict = std::optional<std::string>;

// Each address answers one of `count` echo requests within a second of the last.
Verdict tryReach(const nsmgr::LabState& state, const topo::Check& check,
                 const topo::ReachCheck& reach) {
  const ProbeOptions options{reach.count, std::chrono::seconds(1)};
  const ProbeOutcome outcome =
      probeReachability(state, {{check.node, reach.addresses}}, options).front();
  if (!outcome.error.empty()) return "could not probe: " + outcome.error;
  std::string unanswered;
  for (size_t i = 0; i < reach.addresses.size(); ++i) {
    if (!outcome.answered[i]) {
      unanswered += (unanswered.empty() ? "" : ", ") + toString(reach.addresses[i]);
    }
  }
  if (unanswered.empty()) return std::nullopt;
  std::string verdict = "no reply from " + unanswered;
  if (outcome.refused > 0) verdict += "; " + refusedEchoesCause(outcome.refused);
  return verdict;
}

std::string describeNextHop(const netlink::NextHop& hop,
                            const std::map<uint32_t, std::string>& names) {
  std::string text;
  if (hop.gateway) text += "via " + toString(*hop.gateway);
  auto name = names.find(hop.oifindex);
  if (name != names.end()) text += (text.empty() ? "dev " : " dev ") + name->second;
  return text.empty() ? "directly" : text;
}

Verdict tryRoute(const nsmgr::LabState& state, const topo::Check& check,
                 const topo::RouteCheck& wanted) {
  NodeSession session(state, check.node);
  std::map<uint32_t, std::string> names;
  for (const auto& link : session->dumpLinks()) names[link.ifindex] = link.name;
  std::vector<std::string> seen;
  for (const auto& route : session->dumpRoutes()) {
    if (!(route.destination == wanted.destination)) continue;
    for (const auto& hop : route.nextHops) {
      const bool gatewayMatches = !wanted.gateway || hop.gateway == wanted.gateway;
      const bool deviceMatches = wanted.device.empty() || names[hop.oifindex] == wanted.device;
      if (gatewayMatches && deviceMatches) return std::nullopt;
      seen.push_back(describeNextHop(hop, names));
    }
  }
  const std::string destination = toString(wanted.destination);
  if (seen.empty()) return "no route to " + destination;
  std::string hops;
  for (const auto& hop : seen) hops += (hops.empty() ? "" : ", ") + hop;
  return "the route to " + destination + " goes " + hops;
}

// Which node owns each address of the lab, for naming the hops of a trace.
std::map<IpAddress, std::string> addressOwners(const topo::Plan& plan) {
  std::map<IpAddress, std::string> owners;
  for (const auto& node : plan.nodes) {
    for (const auto& address : addressesOf(node)) owners.emplace(address, node.name);
  }
  return owners;
}

// The hops as node names (an address of no node as itself, a silent hop as `*`).
std::string describeHops(const TraceOutcome& trace,
                         const std::map<IpAddress, std::string>& owners) {
  std::string text;
  for (const auto& hop : trace.hops) {
    if (!text.empty()) text += " → ";
    if (!hop) {
      text += "*";
    } else if (auto owner = owners.find(*hop); owner != owners.end()) {
      text += owner->second;
    } else {
      text += toString(*hop);
    }
  }
  if (trace.unreachable) text += " (unreachable)";
  return text;
}

// Each address is traced with one hop more than the path has, so that a longer path shows as
// such; a hop waits a second for its answer.
Verdict tryPath(const nsmgr::LabState& state, const topo::Check& check,
                const topo::PathCheck& path) {
  constexpr auto kWaitPerHop = std::chrono::seconds(1);
  const auto owners = addressOwners(state.plan);
  for (const auto& address : path.addresses) {
    const TraceOutcome trace =
        tracePath(state, check.node, address, path.nodes.size() + 1, kWaitPerHop);
    std::vector<std::string> crossed;
    for (const auto& hop : trace.hops) {
      auto owner = hop ? owners.find(*hop) : owners.end();
      crossed.push_back(owner == owners.end() ? "" : owner->second);
    }
    if (!trace.reached || crossed != path.nodes) {
      return "the path to " + toString(address) + " is " + describeHops(trace, owners) +
             (trace.reached ? "" : ", not reaching it");
    }
  }
  return std::nullopt;
}

// The start of a command's output, on one line, for a failure message.
std::string excerpt(const std::string& output) {
  constexpr size_t kExcerptLength = 160;
  std::string text = output.substr(0, kExcerptLength);
  std::replace(text.begin(), text.end(), '\n', ' ');
  return output.size() > kExcerptLength ? text + "..." : text;
}

Verdict tryCommand(const nsmgr::LabState& state, const topo::Check& check,
                   const topo::CommandCheck& command) {
  auto outcomes = runCaptured(state, {{check.node, {"/bin/sh", "-c", command.command}, {}}});
  const nsmgr::ExecOutcome& outcome = outcomes.front();
  if (outcome.exitCode != command.exitStatus) {
    return "exit status " + std::to_string(outcome.exitCode) + " (expected " +
           std::to_string(command.exitStatus) + ")" +
           (outcome.stderrText.empty() ? "" : ": " + excerpt(outcome.stderrText));
  }
  if (!topo::outputMatches(command, outcome.stdoutText)) {
    return "output does not match /" + command.pattern + "/: " + excerpt(outcome.stdoutText);
  }
  return std::nullopt;
}

Verdict tryCheck(const nsmgr::LabState& state, const topo::Check& check) {
  return std::visit(
      [&](const auto& condition) -> Verdict {
        using Condition = std::decay_t<decltype(condition)>;
        if constexpr (std::is_same_v<Condition, topo::ReachCheck>) {
          return tryReach(state, check, condition);
        } else if constexpr (std::is_same_v<Condition, topo::RouteCheck>) {
          return tryRoute(state, check, condition);
        } else if constexpr (std::is_same_v<Condition, topo::PathCheck>) {
          return tryPath(state, check, condition);
        } else {
          return tryCommand(state, check, condition);
        }
      },
      check.condition);
}

// Checks run at once: each is mostly waiting, so many share a core.
constexpr size_t kConcurrentChecks = 32;

nsmgr::CheckResult runCheck(const nsmgr::LabState& state, const topo::Check& check,
                            const CheckOptions& options, const std::atomic<bool>& stop) {
  constexpr auto kRetryInterval = std::chrono::milliseconds(500);
  const auto start = std::chrono::steady_clock::now();
  const auto deadline =
      start + options.timeout.value_or(std::chrono::milliseconds(check.timeoutMs));
  nsmgr::CheckResult result{topo::label(check), check.node, false, 0, 0, "", false};
  for (;;) {
    if (stop) {
      result.stopped = true;
      result.detail = "stopped undecided: another check failed (--fail-fast)";
      return result;
    }
    ++result.attempts;
    Verdict verdict;
    try {
      verdict = tryCheck(state, check);
    } catch (const Error& error) {
      verdict = error.what();  // a node that is gone fails its checks; the others still run
    }
    const auto now = std::chrono::steady_clock::now();
    result.seconds = std::chrono::duration<double>(now - start).count();
    result.passed = !verdict;
    result.detail = verdict.value_or("");
    if (result.passed || now >= deadline) return result;
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(kRetryInterval, deadline - now));
  }
}

}  // namespace

std::vector<const topo::Check*> chosenChecks(const topo::Plan& plan, const CheckOptions& options) {
  std::vector<const topo::Check*> chosen;
  auto matches = [](const std::string& glob, const topo::Check& check) {
    return ::fnmatch(glob.c_str(), topo::label(check).c_str(), 0) == 0;
  };
  for (const auto& glob : options.only) {
    if (std::none_of(plan.checks.begin(), plan.checks.end(),
                     [&](const topo::Check& check) { return matches(glob, check); })) {
      std::string labels;
      for (const auto& check : plan.checks) {
        labels += (labels.empty() ? "" : ", ") + topo::label(check);
      }
      throw Error(
          "no test of lab `" + plan.name + "` is named `" + glob + "` (its tests: " + labels + ")",
          EINVAL);
    }
  }
  for (const auto& check : plan.checks) {
    if (options.only.empty() ||
        std::any_of(options.only.begin(), options.only.end(),
                    [&](const auto& glob) { return matches(glob, check); })) {
      chosen.push_back(&check);
    }
  }
  return chosen;
}

std::vector<nsmgr::CheckResult> runChecks(const nsmgr::LabState& state, const CheckOptions& options,
                                          const CheckResultFn& onResult) {
  const std::vector<const topo::Check*> chosen = chosenChecks(state.plan, options);
  std::vector<nsmgr::CheckResult> results(chosen.size());
  std::atomic<bool> stop{false};
  std::mutex reporting;
  parallelForOn(kConcurrentChecks, chosen.size(), [&](size_t i) {
    results[i] = runCheck(state, *chosen[i], options, stop);
    if (options.failFast && !results[i].passed) stop = true;
    std::lock_guard lock(reporting);
    if (onResult) onResult(results[i]);
  });
  return results;
}

PingAllReport pingAll(const nsmgr::LabState& state, std::chrono::seconds timeout) {
  std::vector<const topo::Node*> hosts;
  for (const auto& node : state.plan.nodes) {
    if (node.kind != topo::NodeKind::Switch) hosts.push_back(&node);
  }
  // Every other node's addresses, and which node owns each, per source.
  std::vector<ProbeRequest> requests;
  std::vector<std::vector<std::string>> owners;
  for (const topo::Node* source : hosts) {
    ProbeRequest request{source->name, {}};
    std::vector<std::string> owner;
    for (const topo::Node* destination : hosts) {
      if (destination == source) continue;
      for (const auto& address : addressesOf(*destination)) {
        request.addresses.push_back(address);
        owner.push_back(destination->name);
      }
    }
    if (request.addresses.empty()) continue;
    requests.push_back(std::move(request));
    owners.push_back(std::move(owner));
  }
  const auto outcomes = probeReachability(state, requests, {1, timeout});
  PingAllReport report;
  for (size_t source = 0; source < requests.size(); ++source) {
    report.refused += outcomes[source].refused;
    for (size_t i = 0; i < requests[source].addresses.size(); ++i) {
      report.pings.push_back({requests[source].node, owners[source][i],
                              toString(requests[source].addresses[i]),
                              outcomes[source].answered[i]});
    }
  }
  std::sort(report.pings.begin(), report.pings.end(), [](const auto& a, const auto& b) {
    return std::tie(a.from, a.to, a.address) < std::tie(b.from, b.to, b.address);
  });
  return report;
}

}  // namespace netlab::nsmgr
