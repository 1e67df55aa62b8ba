// The `tests`, in two steps. checkTestNames, on the Lab as soon as it is built: the nodes
// named must exist and not be switches, a route test's `dev` must be an interface of its node.
// resolveChecks, on the Plan: a reach test gets the target node's final addresses (so
// `netlab test` needs only the state file).
#include <fmt/format.h>

#include "topo/lab.hpp"

namespace netlab::topo {
namespace {

class NameChecker {
 public:
  NameChecker(const Lab& lab, DiagnosticSink& sink) : lab_(lab), sink_(sink) {}

  bool check(const CheckSpec& spec, bool interfacesComplete);

 private:
  const DraftNode* findNode(const Located<std::string>& name);
  // Reach and route tests need a node that routes: a switch has no addresses of its own.
  bool notSwitch(const DraftNode& node, const Where& where, std::string_view lacks);
  bool hasDevice(const DraftNode& node, const Located<std::string>& device);
  bool checkPath(const DraftNode& node, const CheckSpec& spec, const PathSpec& path);

  const Lab& lab_;
  DiagnosticSink& sink_;
};

const DraftNode* NameChecker::findNode(const Located<std::string>& name) {
  for (const DraftNode& node : lab_.nodes) {
    if (node.name == name.value) return &node;
  }
  std::vector<std::string_view> names;
  for (const DraftNode& node : lab_.nodes) names.push_back(node.name);
  sink_.error(name.where, fmt::format("unknown node `{}`", excerpt(name.value)),
              didYouMean(name.value, names));
  return nullptr;
}

bool NameChecker::notSwitch(const DraftNode& node, const Where& where, std::string_view lacks) {
  if (node.kind != NodeKind::Switch) return true;
  sink_.error(where, fmt::format("{} is a switch: it has no {}", node.name, lacks),
              "test a host or a router on its LAN instead");
  return false;
}

bool NameChecker::hasDevice(const DraftNode& node, const Located<std::string>& device) {
  std::vector<std::string_view> names;
  for (const DraftInterface& interface : node.interfaces) {
    if (interface.interface.name == device.value) return true;
    names.push_back(interface.interface.name);
  }
  sink_.error(device.where, fmt::format("{} has no interface `{}`", node.name, device.value),
              didYouMean(device.value, names));
  return false;
}

bool NameChecker::check(const CheckSpec& spec, bool interfacesComplete) {
  const DraftNode* node = findNode(spec.node);
  if (!node) return false;
  if (const auto* reach = std::get_if<ReachSpec>(&spec.condition)) {
    if (!notSwitch(*node, spec.node.where, "address to ping from")) return false;
    if (!reach->targetNode) return true;
    const DraftNode* target = findNode(*reach->targetNode);
    return target && notSwitch(*target, reach->targetNode->where, "address to reach");
  }
  if (const auto* route = std::get_if<RouteCheckSpec>(&spec.condition)) {
    if (!notSwitch(*node, spec.node.where, "routes to check")) return false;
    // A link left out for its own error would make a right `dev` look wrong.
    return !route->device || !interfacesComplete || hasDevice(*node, *route->device);
  }
  if (const auto* path = std::get_if<PathSpec>(&spec.condition)) {
    return checkPath(*node, spec, *path);
  }
  return true;
}

// Every node of the path routes (a switch forwards unseen), and a path to a node ends there.
bool NameChecker::checkPath(const DraftNode& node, const CheckSpec& spec, const PathSpec& path) {
  bool good = notSwitch(node, spec.node.where, "address to trace from");
  for (const auto& name : path.nodes) {
    const DraftNode* crossed = findNode(name);
    good = crossed && notSwitch(*crossed, name.where, "address to answer a trace") && good;
  }
  if (!path.targetNode) return good;
  const DraftNode* target = findNode(*path.targetNode);
  if (!target || !notSwitch(*target, path.targetNode->where, "address to trace to")) return false;
  if (good && path.nodes.back().value != target->name) {
    sink_.error(path.nodes.back().where,
                fmt::format("a path to {} ends at {}, not at `{}`", target->name, target->name,
                            excerpt(path.nodes.back().value)),
                "list the nodes crossed, the destination last");
    return false;
  }
  return good;
}

// Interface addresses in interface order, then loopbacks; link-local ones need a scope that
// a node name cannot give, so they are left out.
std::vector<IpAddress> addressesOf(const Node& node, std::optional<Family> family,
                                   bool loopbacksOnly) {
  std::vector<IpAddress> addresses;
  auto take = [&](const IpPrefix& prefix) {
    if ((!family || prefix.address.family == *family) && !isLinkLocal(prefix.address)) {
      addresses.push_back(prefix.address);
    }
  };
  if (!loopbacksOnly) {
    for (const Interface& interface : node.interfaces) {
      for (const IpPrefix& prefix : interface.addresses) take(prefix);
    }
  }
  for (const IpPrefix& prefix : node.loopbackAddresses) take(prefix);
  return addresses;
}

std::optional<ReachCheck> resolveReach(const ReachSpec& spec, const Plan& plan,
                                       DiagnosticSink& sink) {
  ReachCheck reach{{}, {}, spec.family, spec.count, spec.loopbacksOnly.has_value()};
  if (spec.targetAddress) {
    if (spec.loopbacksOnly) {
      sink.error(*spec.loopbacksOnly, "`addresses` chooses among a node's addresses",
                 "reach a node by its name to ping its loopbacks");
      return std::nullopt;
    }
    reach.addresses.push_back(*spec.targetAddress);
    return reach;
  }
  const Node& target = *plan.findNode(spec.targetNode->value);
  reach.targetNode = target.name;
  reach.addresses = addressesOf(target, spec.family, reach.loopbacksOnly);
  if (reach.addresses.empty()) {
    const std::string kind =
        (spec.family ? fmt::format("IPv{} ", static_cast<int>(*spec.family)) : std::string()) +
        (reach.loopbacksOnly ? "loopback " : "");
    sink.error(spec.targetNode->where,
               fmt::format("{} has no {}address to reach", target.name, kind),
               reach.loopbacksOnly ? "give the node a loopback address (`loopback`)" : "");
    return std::nullopt;
  }
  return reach;
}

// One address per family, as a trace needs: the loopback (the router's own), else the first
// interface address.
std::optional<PathCheck> resolvePath(const PathSpec& spec, const Plan& plan, DiagnosticSink& sink) {
  PathCheck path{{}, {}, {}, spec.family};
  for (const auto& name : spec.nodes) path.nodes.push_back(name.value);
  if (spec.targetAddress) {
    path.addresses.push_back(*spec.targetAddress);
    return path;
  }
  const Node& target = *plan.findNode(spec.targetNode->value);
  path.targetNode = target.name;
  for (Family family : {Family::V4, Family::V6}) {
    if (spec.family && *spec.family != family) continue;
    auto loopbacks = addressesOf(target, family, true);
    auto all = addressesOf(target, family, false);
    if (!loopbacks.empty()) {
      path.addresses.push_back(loopbacks.front());
    } else if (!all.empty()) {
      path.addresses.push_back(all.front());
    }
  }
  if (path.addresses.empty()) {
    sink.error(spec.targetNode->where,
               spec.family ? fmt::format("{} has no IPv{} address to trace to", target.name,
                                         static_cast<int>(*spec.family))
                           : fmt::format("{} has no address to trace to", target.name));
    return std::nullopt;
  }
  return path;
}

RouteCheck resolveRoute(const RouteCheckSpec& spec) {
  // "default" takes the gateway's family, as in a node's routes.
  const Family family = spec.destination ? spec.destination->address.family
                        : spec.gateway   ? spec.gateway->family
                                         : Family::V4;
  return RouteCheck{spec.destination.value_or(IpPrefix{IpAddress{family, {}}, 0}), spec.gateway,
                    spec.device ? spec.device->value : std::string()};
}

}  // namespace

std::vector<const CheckSpec*> checkTestNames(const std::vector<CheckSpec>& specs, const Lab& lab,
                                             bool interfacesComplete, DiagnosticSink& sink) {
  NameChecker checker(lab, sink);
  std::vector<const CheckSpec*> named;
  for (const CheckSpec& spec : specs) {
    if (checker.check(spec, interfacesComplete)) named.push_back(&spec);
  }
  return named;
}

std::vector<Check> resolveChecks(const std::vector<const CheckSpec*>& specs, const Plan& plan,
                                 DiagnosticSink& sink) {
  std::vector<Check> checks;
  for (const CheckSpec* spec : specs) {
    Check check{spec->name, spec->node.value, spec->timeoutMs, CommandCheck{}};
    if (const auto* reach = std::get_if<ReachSpec>(&spec->condition)) {
      auto resolved = resolveReach(*reach, plan, sink);
      if (!resolved) continue;
      check.condition = std::move(*resolved);
    } else if (const auto* route = std::get_if<RouteCheckSpec>(&spec->condition)) {
      check.condition = resolveRoute(*route);
    } else if (const auto* path = std::get_if<PathSpec>(&spec->condition)) {
      auto resolved = resolvePath(*path, plan, sink);
      if (!resolved) continue;
      check.condition = std::move(*resolved);
    } else {
      check.condition = std::get<CommandCheck>(spec->condition);
    }
    checks.push_back(std::move(check));
  }
  return checks;
}

}  // namespace netlab::topo
