#include "topo/checks.hpp"

#include <fmt/format.h>

#include <regex>

namespace netlab::topo {
namespace {

// std::regex compiles recursively; a bound on the pattern keeps a hostile one from
// exhausting the stack.
constexpr size_t kMaxPatternLength = 1024;

std::regex compile(const std::string& pattern) {
  return std::regex(pattern, std::regex::ECMAScript | std::regex::multiline);
}

std::string describeReach(const Check& check, const ReachCheck& reach) {
  const std::string target = reach.targetNode.empty() && !reach.addresses.empty()
                                 ? toString(reach.addresses.front())
                                 : reach.targetNode;
  const std::string what = reach.loopbacksOnly ? target + "'s loopbacks" : target;
  if (!reach.family) return fmt::format("{} reaches {}", check.node, what);
  return fmt::format("{} reaches {} over IPv{}", check.node, what, static_cast<int>(*reach.family));
}

std::string describeRoute(const Check& check, const RouteCheck& route) {
  std::string text = fmt::format("{} has a route to {}", check.node, toString(route.destination));
  if (route.gateway) text += fmt::format(" via {}", toString(*route.gateway));
  if (!route.device.empty()) text += fmt::format(" dev {}", route.device);
  return text;
}

std::string describePath(const Check& check, const PathCheck& path) {
  std::string text = check.node;
  for (const auto& node : path.nodes) text += " → " + node;
  if (path.targetNode.empty()) text += fmt::format(" (to {})", toString(path.addresses.front()));
  if (path.family) text += fmt::format(" over IPv{}", static_cast<int>(*path.family));
  return text;
}

std::string describeCommand(const Check& check, const CommandCheck& command) {
  const std::string status =
      command.exitStatus == 0 ? "succeeds" : fmt::format("exits with {}", command.exitStatus);
  std::string text = fmt::format("{}: `{}` {}", check.node, command.command, status);
  if (!command.pattern.empty()) text += fmt::format(" and matches /{}/", command.pattern);
  return text;
}

}  // namespace

std::string describe(const Check& check) {
  return std::visit(
      [&](const auto& condition) -> std::string {
        using T = std::decay_t<decltype(condition)>;
        if constexpr (std::is_same_v<T, ReachCheck>) return describeReach(check, condition);
        if constexpr (std::is_same_v<T, RouteCheck>) return describeRoute(check, condition);
        if constexpr (std::is_same_v<T, CommandCheck>) return describeCommand(check, condition);
        if constexpr (std::is_same_v<T, PathCheck>) return describePath(check, condition);
      },
      check.condition);
}

std::string label(const Check& check) {
  return check.name.empty() ? describe(check) : check.name;
}

bool outputMatches(const CommandCheck& check, std::string_view output) {
  if (check.pattern.empty()) return true;
  return std::regex_search(output.begin(), output.end(), compile(check.pattern));
}

std::optional<std::string> patternProblem(const std::string& pattern) {
  if (pattern.size() > kMaxPatternLength) {
    return fmt::format("the pattern is longer than {} characters", kMaxPatternLength);
  }
  try {
    compile(pattern);
    return std::nullopt;
  } catch (const std::regex_error& error) {
    return error.what();
  }
}

}  // namespace netlab::topo
