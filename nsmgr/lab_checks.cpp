#include "nsmgr/lab_checks.hpp"

#include <algorithm>
#include <map>
#include <tuple>
#include <string>

#include "nsmgr/node_commands.hpp"

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
// "ok ADDRESS" or "fail ADDRESS". The addresses come from the plan, so they need no quoting.
std::vector<std::string> pingScript(const std::vector<std::string>& addresses,
                                    std::chrono::seconds timeout) {
  std::string list;
  for (const auto& address : addresses) list += " " + address;
  return {"/bin/sh", "-c",
          "for a in" + list + "; do (if ping -c 1 -W " + std::to_string(timeout.count()) +
              " -q \"$a\" >/dev/null 2>&1; then echo \"ok $a\"; else echo \"fail $a\"; fi) & "
              "done; wait"};
}

}  // namespace

std::vector<topo::PingResult> pingAll(const topo::LabState& state, std::chrono::seconds timeout) {
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
  std::vector<topo::PingResult> results;
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
