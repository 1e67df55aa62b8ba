// resolveChecks: the `tests` against the Plan. Node names must exist, a reach test gets the
// target node's final addresses (so `netlab test` needs only the state file), and a route
// test's `dev` must be an interface of its node.
#include <fmt/format.h>

#include "topo/lab.hpp"

namespace netlab::topo {
namespace {

class CheckResolver {
 public:
  CheckResolver(const Plan& plan, DiagnosticSink& sink) : plan_(plan), sink_(sink) {}

  std::optional<Check> resolve(const CheckSpec& spec);

 private:
  const Node* findNode(const Located<std::string>& name);
  // Reach and route tests need a node that routes: a switch has no addresses of its own.
  bool notSwitch(const Node& node, const Where& where, std::string_view lacks);
  std::optional<ReachCheck> resolveReach(const ReachSpec& spec);
  std::optional<RouteCheck> resolveRoute(const Node& node, const RouteCheckSpec& spec);

  const Plan& plan_;
  DiagnosticSink& sink_;
};

const Node* CheckResolver::findNode(const Located<std::string>& name) {
  if (const Node* node = plan_.findNode(name.value)) return node;
  std::vector<std::string_view> names;
  for (const Node& node : plan_.nodes) names.push_back(node.name);
  sink_.error(name.where, fmt::format("unknown node `{}`", excerpt(name.value)),
              didYouMean(name.value, names));
  return nullptr;
}

bool CheckResolver::notSwitch(const Node& node, const Where& where, std::string_view lacks) {
  if (node.kind != NodeKind::Switch) return true;
  sink_.error(where, fmt::format("{} is a switch: it has no {}", node.name, lacks),
              "test a host or a router on its LAN instead");
  return false;
}

// Interface addresses in interface order, then loopbacks; link-local ones need a scope that
// a node name cannot give, so they are left out.
std::vector<IpAddress> addressesOf(const Node& node, std::optional<Family> family) {
  std::vector<IpAddress> addresses;
  auto take = [&](const IpPrefix& prefix) {
    if ((!family || prefix.address.family == *family) && !isLinkLocal(prefix.address)) {
      addresses.push_back(prefix.address);
    }
  };
  for (const Interface& interface : node.interfaces) {
    for (const IpPrefix& prefix : interface.addresses) take(prefix);
  }
  for (const IpPrefix& prefix : node.loopbackAddresses) take(prefix);
  return addresses;
}

std::optional<ReachCheck> CheckResolver::resolveReach(const ReachSpec& spec) {
  ReachCheck reach{{}, {}, spec.family, spec.count};
  if (spec.targetAddress) {
    reach.addresses.push_back(*spec.targetAddress);
    return reach;
  }
  const Node* target = findNode(*spec.targetNode);
  if (!target || !notSwitch(*target, spec.targetNode->where, "address to reach")) {
    return std::nullopt;
  }
  reach.targetNode = target->name;
  reach.addresses = addressesOf(*target, spec.family);
  if (reach.addresses.empty()) {
    sink_.error(spec.targetNode->where,
                spec.family ? fmt::format("{} has no IPv{} address to reach", target->name,
                                          static_cast<int>(*spec.family))
                            : fmt::format("{} has no address to reach", target->name));
    return std::nullopt;
  }
  return reach;
}

std::optional<RouteCheck> CheckResolver::resolveRoute(const Node& node,
                                                      const RouteCheckSpec& spec) {
  // "default" takes the gateway's family, as in a node's routes.
  const Family family = spec.destination ? spec.destination->address.family
                        : spec.gateway   ? spec.gateway->family
                                         : Family::V4;
  RouteCheck route{spec.destination.value_or(IpPrefix{IpAddress{family, {}}, 0}), spec.gateway,
                   spec.device ? spec.device->value : std::string()};
  if (!spec.device) return route;
  std::vector<std::string_view> names;
  for (const Interface& interface : node.interfaces) {
    if (interface.name == spec.device->value) return route;
    names.push_back(interface.name);
  }
  sink_.error(spec.device->where,
              fmt::format("{} has no interface `{}`", node.name, spec.device->value),
              didYouMean(spec.device->value, names));
  return std::nullopt;
}

std::optional<Check> CheckResolver::resolve(const CheckSpec& spec) {
  const Node* node = findNode(spec.node);
  if (!node) return std::nullopt;
  Check check{spec.name, node->name, spec.timeoutMs, CommandCheck{}};
  if (const auto* reach = std::get_if<ReachSpec>(&spec.condition)) {
    if (!notSwitch(*node, spec.node.where, "address to ping from")) return std::nullopt;
    auto resolved = resolveReach(*reach);
    if (!resolved) return std::nullopt;
    check.condition = std::move(*resolved);
  } else if (const auto* route = std::get_if<RouteCheckSpec>(&spec.condition)) {
    if (!notSwitch(*node, spec.node.where, "routes to check")) return std::nullopt;
    auto resolved = resolveRoute(*node, *route);
    if (!resolved) return std::nullopt;
    check.condition = std::move(*resolved);
  } else {
    check.condition = std::get<CommandCheck>(spec.condition);
  }
  return check;
}

}  // namespace

std::vector<Check> resolveChecks(const std::vector<CheckSpec>& specs, const Plan& plan,
                                 DiagnosticSink& sink) {
  CheckResolver resolver(plan, sink);
  std::vector<Check> checks;
  for (const CheckSpec& spec : specs) {
    if (auto check = resolver.resolve(spec)) checks.push_back(std::move(*check));
  }
  return checks;
}

}  // namespace netlab::topo
