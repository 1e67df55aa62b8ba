// resolvePlan: the last stage. MACs are chosen, routes checked against the final addresses,
// sysctls completed, and everything copied into the Plan.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <unordered_map>

#include "topo/lab.hpp"

namespace netlab::topo {
namespace {

// Routers forward; written first so that a node's own sysctls can override them.
constexpr std::array<std::pair<std::string_view, std::string_view>, 2> kRouterSysctls{{
    {"net.ipv4.ip_forward", "1"},
    {"net.ipv6.conf.all.forwarding", "1"},
}};

constexpr uint64_t kFnvOffsetBasis = 0xcbf29ce484222325;
constexpr uint64_t kFnvPrime = 0x100000001b3;
// 02: locally administered, unicast.
constexpr uint8_t kLocalUnicast = 0x02;

uint64_t fnv1a(std::string_view data) {
  uint64_t hash = kFnvOffsetBasis;
  for (char c : data) {
    hash ^= static_cast<uint8_t>(c);
    hash *= kFnvPrime;
  }
  return hash;
}

// The same lab, node and interface always get the same MAC; `attempt` resolves the rare
// collision.
Mac stableMac(const std::string& lab, const std::string& node, const std::string& interface,
              unsigned attempt) {
  std::string key = lab + '\0' + node + '\0' + interface;
  if (attempt > 0) key += '\0' + std::to_string(attempt);
  // 02 and then the hash's low five bytes, most significant first.
  const uint64_t hash = fnv1a(key);
  Mac mac{kLocalUnicast};
  for (size_t i = 1; i < mac.size(); ++i) mac[i] = static_cast<uint8_t>(hash >> (8 * (5 - i)));
  return mac;
}

void assignMacs(Lab& lab) {
  std::set<Mac> used;
  for (const DraftNode& node : lab.nodes) {
    for (const DraftInterface& interface : node.interfaces) {
      if (interface.explicitMac) used.insert(interface.interface.mac);
    }
  }
  for (DraftNode& node : lab.nodes) {
    for (DraftInterface& interface : node.interfaces) {
      if (interface.explicitMac) continue;
      for (unsigned attempt = 0;; ++attempt) {
        interface.interface.mac = stableMac(lab.name, node.name, interface.interface.name, attempt);
        if (used.insert(interface.interface.mac).second) break;
      }
    }
  }
}

// Routes from `defaults` are written once for many nodes: their messages name the node.
std::string forNode(const DraftNode& node, const Where& where) {
  const std::string own = memberPath("nodes", node.name);
  const bool underNode = where.path.starts_with(own) &&
                         (where.path.size() == own.size() || where.path[own.size()] == '.');
  return underNode ? std::string() : fmt::format("{}: ", node.name);
}

std::string subnetList(const std::vector<const Interface*>& interfaces, Family family) {
  std::vector<std::string> subnets;
  for (const Interface* interface : interfaces) {
    for (const IpPrefix& address : interface->addresses) {
      if (address.address.family == family) subnets.push_back(toString(networkOf(address)));
    }
  }
  if (subnets.empty())
    return fmt::format("there is no IPv{} address there", static_cast<int>(family));
  return fmt::format("the subnets there: {}", fmt::join(subnets, ", "));
}

// The kernel accepts a gateway only on a connected subnet of the route's device (or of any
// interface, when no device is given).
void checkGateway(const DraftNode& node, const RouteSpec& spec, const Interface* device,
                  DiagnosticSink& sink) {
  const IpAddress& gateway = *spec.gateway;
  if (isLinkLocal(gateway)) {
    if (!device)
      sink.error(spec.where, forNode(node, spec.where) + "a link-local gateway needs `dev`");
    return;
  }
  std::vector<const Interface*> candidates;
  for (const DraftInterface& interface : node.interfaces) {
    if (!device || device == &interface.interface) candidates.push_back(&interface.interface);
  }
  bool onSubnet = false;
  for (const Interface* interface : candidates) {
    for (const IpPrefix& address : interface->addresses) {
      if (address.address == gateway) {
        sink.error(spec.where,
                   fmt::format("{}gateway {} is {}'s own address", forNode(node, spec.where),
                               toString(gateway), node.name));
        return;
      }
      onSubnet = onSubnet || contains(address, gateway);
    }
  }
  if (onSubnet) return;
  const std::string where = device ? fmt::format("{}:{}", node.name, device->name) : node.name;
  sink.error(spec.where,
             fmt::format("{}gateway {} is not on a connected subnet of {}",
                         forNode(node, spec.where), toString(gateway), where),
             subnetList(candidates, gateway.family));
}

const Interface* findDevice(const DraftNode& node, const RouteSpec& spec, DiagnosticSink& sink) {
  std::vector<std::string_view> names;
  for (const DraftInterface& interface : node.interfaces) {
    if (interface.interface.name == spec.device->value) return &interface.interface;
    names.push_back(interface.interface.name);
  }
  std::string hint = didYouMean(spec.device->value, names);
  if (hint.empty()) {
    hint = names.empty() ? "it has no interfaces"
                         : fmt::format("its interfaces: {}", fmt::join(names, ", "));
  }
  sink.error(spec.device->where,
             fmt::format("{}{} has no interface `{}`", forNode(node, spec.device->where), node.name,
                         spec.device->value),
             hint);
  return nullptr;
}

std::optional<Route> resolveRoute(const DraftNode& node, const RouteSpec& spec,
                                  DiagnosticSink& sink) {
  const size_t errorsBefore = sink.errorCount();
  const Interface* device = spec.device ? findDevice(node, spec, sink) : nullptr;
  if (spec.gateway && (device || !spec.device)) checkGateway(node, spec, device, sink);
  if (sink.errorCount() != errorsBefore) return std::nullopt;
  // "default" takes the gateway's family; with only a device it is IPv4's.
  const Family family = spec.destination ? spec.destination->address.family
                        : spec.gateway   ? spec.gateway->family
                                         : Family::V4;
  return Route{spec.destination.value_or(IpPrefix{IpAddress{family, {}}, 0}), spec.gateway,
               spec.device ? spec.device->value : std::string(), spec.metric};
}

std::vector<Route> resolveRoutes(const DraftNode& node, DiagnosticSink& sink) {
  std::vector<Route> routes;
  std::map<std::pair<IpPrefix, std::optional<uint32_t>>, const RouteSpec*> seen;
  std::array<int, 2> defaultRoutes{};
  for (const RouteSpec& spec : node.settings.routes) {
    auto route = resolveRoute(node, spec, sink);
    if (!route) continue;
    auto [earlier, inserted] = seen.emplace(std::pair(route->destination, route->metric), &spec);
    if (!inserted) {
      sink.error(spec.where,
                 fmt::format("{}a second route to {} with the same metric",
                             forNode(node, spec.where), toString(route->destination)),
                 "the kernel refuses it (File exists); give one of them another `metric`");
      continue;
    }
    const bool isDefault = route->destination.length == 0;
    const size_t family = route->destination.address.family == Family::V4 ? 0 : 1;
    if (isDefault && node.kind == NodeKind::Host && ++defaultRoutes[family] == 2) {
      sink.warning(spec.where,
                   fmt::format("{}host {} has more than one default route",
                               forNode(node, spec.where), node.name),
                   "only the one with the lowest metric is used while it exists");
    }
    routes.push_back(*route);
  }
  return routes;
}

std::vector<std::pair<std::string, std::string>> resolveSysctls(const DraftNode& node) {
  std::vector<std::pair<std::string, std::string>> sysctls;
  std::unordered_map<std::string, size_t> position;
  auto set = [&](const std::string& name, const std::string& value) {
    auto [it, inserted] = position.emplace(name, sysctls.size());
    if (inserted) {
      sysctls.emplace_back(name, value);
    } else {
      sysctls[it->second].second = value;
    }
  };
  if (node.kind == NodeKind::Router) {
    for (const auto& [name, value] : kRouterSysctls) set(std::string(name), std::string(value));
  }
  for (const auto& [name, value] : node.settings.sysctls) set(name, value);
  return sysctls;
}

// The node's block of host ids when its user namespace is isolated (IdRange in plan.hpp).
std::optional<IdRange> isolatedIdsOf(const DraftNode& draft, size_t index, DiagnosticSink& sink) {
  if (draft.settings.userns.value_or(UserNamespaceMode::Host) != UserNamespaceMode::Isolated) {
    return std::nullopt;
  }
  if (index > kMaxIsolatedNodeIndex) {
    sink.error(draft.where,
               fmt::format("node {} is node {} of the lab, but only the first {} nodes can have an "
                           "isolated user namespace",
                           draft.name, index + 1, kMaxIsolatedNodeIndex + 1),
               "use \"userns\": \"host\" for the others");
    return std::nullopt;
  }
  return IdRange{kIsolatedFirstHostId + static_cast<uint32_t>(index) * kIsolatedIdsPerNode,
                 kIsolatedIdsPerNode};
}

RootFilesystem rootOf(const DraftNode& draft, DiagnosticSink& sink) {
  RootFilesystem root;
  if (draft.settings.root) root.mode = draft.settings.root->value;
  if (!draft.settings.image) return root;
  if (root.mode == RootMode::Host) {
    sink.error(draft.settings.image->where,
               fmt::format("node {} has an image but \"root\": \"host\"", draft.name),
               "an image is the lower layer of an overlay root: drop \"root\": \"host\" or the "
               "image");
    return root;
  }
  root.image = draft.settings.image->value;
  return root;
}

Node resolveNode(DraftNode& draft, size_t index, DiagnosticSink& sink) {
  Node node;
  node.name = draft.name;
  node.kind = draft.kind;
  node.hostname = draft.settings.hostname.value_or(draft.name);
  node.loopbackAddresses = draft.loopbacks;
  for (DraftInterface& interface : draft.interfaces) node.interfaces.push_back(interface.interface);
  node.routes = resolveRoutes(draft, sink);
  node.sysctls = resolveSysctls(draft);
  node.env = draft.settings.env;
  node.exec = draft.settings.exec;
  node.mounts = draft.settings.mounts;
  node.files = draft.settings.files;
  node.isolatedIds = isolatedIdsOf(draft, index, sink);
  node.resources = draft.settings.resources;
  node.root = rootOf(draft, sink);
  return node;
}

}  // namespace

Plan resolvePlan(Lab& lab, DiagnosticSink& sink) {
  assignMacs(lab);
  Plan plan;
  plan.name = lab.name;
  for (size_t i = 0; i < lab.nodes.size(); ++i) {
    plan.nodes.push_back(resolveNode(lab.nodes[i], i, sink));
  }
  return plan;
}

}  // namespace netlab::topo
