#include "nsmgr/lab_checks.hpp"

#include <algorithm>
#include <map>
#include <tuple>
#include <string>
#include <thread>
#include <type_traits>
#include <variant>

#include "base/error.hpp"
#include "nsmgr/node_commands.hpp"
#include "nsmgr/node_session.hpp"
#include "topo/checks.hpp"

namespace netlab::nsmgr {
namespace {

std::vector<std::string> addressesOf(const topo::Node& node) {
  std::vector<std::string> addresses;
  for (const auto& prefix : node.loopbackAddresses) addresses.push_back(toString(prefix.address));
  for (const auto& interface : node.interfaces) {
    for (const auto& prefix : interface.addresses) addresses.push_back(toString(prefix.address));
  }
  return addresses;
}

// One shell in the node starts a ping per address in the background and reports each as
// "ok ADDRESS" (one of `count` echo requests answered within `timeout`) or "fail ADDRESS".
// The addresses come from the plan, so they need no quoting.
std::vector<std::string> pingScript(const std::vector<std::string>& addresses,
                                    std::chrono::seconds timeout, uint32_t count = 1) {
  std::string list;
  for (const auto& address : addresses) list += " " + address;
  return {"/bin/sh", "-c",
          "for a in" + list + "; do (if ping -c " + std::to_string(count) + " -i 0.2 -W " +
              std::to_string(timeout.count()) +
              " -q \"$a\" >/dev/null 2>&1; then echo \"ok $a\"; else echo \"fail $a\"; fi) & "
              "done; wait"};
}

// The outcome of one try of a check: nullopt when it passed, else why not.
using Verdict = std::optional<std::string>;

Verdict tryReach(const nsmgr::LabState& state, const topo::Check& check,
                 const topo::ReachCheck& reach) {
  std::vector<std::string> addresses;
  for (const auto& address : reach.addresses) addresses.push_back(toString(address));
  std::string unanswered;
  auto record = [&](size_t, bool isStdout, std::string_view line) {
    if (isStdout && line.starts_with("fail ")) {
      unanswered += (unanswered.empty() ? "" : ", ") + std::string(line.substr(5));
    }
  };
  auto outcomes = runCaptured(
      state, {{check.node, pingScript(addresses, std::chrono::seconds(1), reach.count), {}}},
      record);
  if (outcomes.front().exitCode != 0) return "ping could not run: " + outcomes.front().stderrText;
  if (unanswered.empty()) return std::nullopt;
  return "no reply from " + unanswered;
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
        } else {
          return tryCommand(state, check, condition);
        }
      },
      check.condition);
}

nsmgr::CheckResult runCheck(const nsmgr::LabState& state, const topo::Check& check) {
  constexpr auto kRetryInterval = std::chrono::milliseconds(500);
  const auto start = std::chrono::steady_clock::now();
  const auto deadline = start + std::chrono::milliseconds(check.timeoutMs);
  nsmgr::CheckResult result{topo::label(check), check.node, false, 0, 0, ""};
  for (;;) {
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
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(kRetryInterval,
                                                                               deadline - now));
  }
}

}  // namespace

std::vector<nsmgr::CheckResult> runChecks(const nsmgr::LabState& state,
                                         const CheckResultFn& onResult) {
  std::vector<nsmgr::CheckResult> results;
  for (const auto& check : state.plan.checks) {
    results.push_back(runCheck(state, check));
    if (onResult) onResult(results.back());
  }
  return results;
}

std::vector<nsmgr::PingResult> pingAll(const nsmgr::LabState& state, std::chrono::seconds timeout) {
  std::vector<const topo::Node*> hosts;
  for (const auto& node : state.plan.nodes) {
    if (node.kind != topo::NodeKind::Switch) hosts.push_back(&node);
  }
  // Which node owns each address, to name the destination of each reply.
  std::map<std::string, std::string> owner;
  for (const topo::Node* node : hosts) {
    for (const auto& address : addressesOf(*node)) owner[address] = node->name;
  }
  std::vector<NodeCommand> commands;
  for (const topo::Node* source : hosts) {
    std::vector<std::string> targets;
    for (const topo::Node* destination : hosts) {
      if (destination == source) continue;
      for (const auto& address : addressesOf(*destination)) targets.push_back(address);
    }
    if (!targets.empty()) commands.push_back({source->name, pingScript(targets, timeout), {}});
  }
  std::vector<nsmgr::PingResult> results;
  auto record = [&](size_t command, bool isStdout, std::string_view line) {
    if (!isStdout) return;
    const size_t space = line.find(' ');
    if (space == std::string_view::npos) return;
    std::string address(line.substr(space + 1));
    results.push_back({commands[command].node, owner[address], address,
                       line.substr(0, space) == "ok"});
  };
  runCaptured(state, commands, record);
  std::sort(results.begin(), results.end(), [](const auto& a, const auto& b) {
    return std::tie(a.from, a.to, a.address) < std::tie(b.from, b.to, b.address);
  });
  return results;
}

}  // namespace netlab::nsmgr
