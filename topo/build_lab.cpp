// buildLab: from the parsed topology to nodes with merged settings and wired interfaces.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include "topo/lab.hpp"
#include "topo/units.hpp"

namespace netlab::topo {
namespace {

// The kernel's BR_MAX_PORTS is 1024 and port number 0 is never used.
constexpr size_t kMaxBridgePorts = 1023;
constexpr uint32_t kDefaultMtu = 1500;

// A later entry with the same key replaces the earlier one where it stood.
template <typename T, typename KeyFn>
void mergeKeyed(std::vector<T>& into, const std::vector<T>& later, KeyFn key) {
  std::unordered_map<std::string, size_t> position;
  for (size_t i = 0; i < into.size(); ++i) position.emplace(key(into[i]), i);
  for (const T& item : later) {
    auto [it, inserted] = position.emplace(key(item), into.size());
    if (inserted) {
      into.push_back(item);
    } else {
      into[it->second] = item;
    }
  }
}

template <typename T>
void append(std::vector<T>& into, const std::vector<T>& later) {
  into.insert(into.end(), later.begin(), later.end());
}

// Scalars: overlay wins. Lists: base first. Maps (sysctls, env, files): key-wise.
NodeSettings mergeSettings(const NodeSettings& base, const NodeSettings& overlay) {
  NodeSettings result = base;
  if (overlay.hostname) result.hostname = overlay.hostname;
  if (overlay.loopback) result.loopback = overlay.loopback;
  if (overlay.routing) result.routing = overlay.routing;
  if (overlay.daemon) result.daemon = overlay.daemon;
  if (overlay.asn) result.asn = overlay.asn;
  if (overlay.userns) result.userns = overlay.userns;
  if (overlay.root) result.root = overlay.root;
  if (overlay.image) result.image = overlay.image;
  if (overlay.resources.cpus) result.resources.cpus = overlay.resources.cpus;
  if (overlay.resources.memoryBytes) result.resources.memoryBytes = overlay.resources.memoryBytes;
  if (overlay.resources.pids) result.resources.pids = overlay.resources.pids;
  append(result.routes, overlay.routes);
  append(result.exec, overlay.exec);
  append(result.mounts, overlay.mounts);
  auto name = [](const std::pair<std::string, std::string>& entry) { return entry.first; };
  mergeKeyed(result.sysctls, overlay.sysctls, name);
  mergeKeyed(result.env, overlay.env, name);
  mergeKeyed(result.files, overlay.files, [](const File& file) { return file.target; });
  return result;
}

NodeSettings settingsFor(const TopologySpec& topology, NodeKind kind, const NodeSettings& own) {
  NodeSettings base = topology.defaults;
  if (!base.routing) base.routing = topology.routing;
  if (!base.userns) base.userns = topology.userns;
  if (kind == NodeKind::Switch) {
    // Lab-wide loopbacks and routes are meant for the nodes that route.
    base.loopback.reset();
    base.routes.clear();
    base.routing.reset();
  }
  if (const auto& kindDefaults = topology.kindDefaults[kindIndex(kind)]) {
    base = mergeSettings(base, *kindDefaults);
  }
  return mergeSettings(base, own);
}

void checkSwitchSettings(const NodeSettings& settings, DiagnosticSink& sink) {
  constexpr std::string_view kHint =
      "a switch only bridges its ports; addresses and routes "
      "belong to the hosts and routers on it";
  if (settings.loopback && settings.loopback->mode != LoopbackSpec::Mode::None) {
    sink.error(settings.loopback->where, "a switch has no loopback addresses", std::string(kHint));
  }
  if (!settings.routes.empty()) {
    sink.error(settings.routes.front().where, "a switch has no routes", std::string(kHint));
  }
  if (settings.routing && settings.routing->value != RoutingMode::None) {
    sink.error(settings.routing->where, "a switch has no routes, static or other",
               std::string(kHint));
  }
}

// One interface's egress: the layers in order of precedence (link, the endpoint's `out`,
// the facing endpoint's `in`), field by field, later wins.
Impairment egressOf(std::initializer_list<const ImpairmentSpec*> layers, DiagnosticSink& sink) {
  Impairment egress;
  const ImpairmentSpec* jitterLayer = nullptr;
  const ImpairmentSpec* reorderLayer = nullptr;
  for (const ImpairmentSpec* layer : layers) {
    egress.overlay(layer->values);
    if (layer->jitter) jitterLayer = layer;
    if (layer->reorder) reorderLayer = layer;
  }
  const uint32_t delay = egress.delayUs.value_or(0);
  if (reorderLayer && delay == 0) {
    const IndependentErrors guard(sink);  // the link is built without it all the same
    sink.error(*reorderLayer->reorder, "reorder needs a delay on the same interface",
               "netem reorders by sending some packets without the delay; add `delay`");
  }
  if (jitterLayer && *egress.jitterUs > delay) {
    sink.warning(*jitterLayer->jitter,
                 fmt::format("jitter {} exceeds the delay {}", formatDuration(*egress.jitterUs),
                             formatDuration(delay)),
                 "netem cuts negative delays to zero, which skews the distribution");
  }
  return egress;
}

}  // namespace

namespace {

class LabBuilder {
 public:
  LabBuilder(const TopologySpec& topology, Lab& lab, DiagnosticSink& sink)
      : topology_(topology), lab_(lab), sink_(sink) {}

  void addNodes();
  void addLinks();
  void checkNodes();
  void checkMacs();

 private:
  std::optional<std::vector<size_t>> resolveEndpoints(const LinkSpec& link);
  bool reserveExplicitNames(size_t linkIndex, const std::vector<size_t>& nodes);
  size_t addNode(DraftNode node);
  std::string nextAutoName(size_t node);
  size_t addEndpointInterface(size_t linkIndex, size_t endpointIndex, size_t node);
  size_t addPort(size_t switchNode, size_t linkIndex, const EndpointSpec& facing);
  void connect(size_t nodeA, size_t interfaceA, size_t nodeB, size_t interfaceB);
  void wirePointToPoint(size_t linkIndex, const std::vector<size_t>& nodes);
  void wireLan(size_t linkIndex, const std::vector<size_t>& nodes);
  size_t createSwitch(size_t linkIndex);

  const TopologySpec& topology_;
  Lab& lab_;
  DiagnosticSink& sink_;
  std::unordered_map<std::string, size_t> nodeIndex_;
  std::vector<std::set<std::string>> usedNames_;  // per node: explicit and assigned names
  std::vector<size_t> nextEth_;                   // per node: the next ethN to try
  std::map<std::pair<size_t, std::string>, Where> firstUse_;
};

size_t LabBuilder::addNode(DraftNode node) {
  nodeIndex_.emplace(node.name, lab_.nodes.size());
  lab_.nodes.push_back(std::move(node));
  usedNames_.emplace_back();
  nextEth_.push_back(0);
  return lab_.nodes.size() - 1;
}

void LabBuilder::addNodes() {
  if (const auto& switchDefaults = topology_.kindDefaults[kindIndex(NodeKind::Switch)]) {
    checkSwitchSettings(*switchDefaults, sink_);
  }
  for (const NodeSpec& spec : topology_.nodes) {
    const NodeKind kind = spec.kind.value_or(NodeKind::Host);
    if (kind == NodeKind::Switch) checkSwitchSettings(spec.settings, sink_);
    addNode({spec.name, kind, spec.where, settingsFor(topology_, kind, spec.settings), {}, {}});
  }
}

std::optional<std::vector<size_t>> LabBuilder::resolveEndpoints(const LinkSpec& link) {
  std::vector<size_t> nodes;
  bool known = true;
  for (const EndpointSpec& endpoint : link.endpoints) {
    auto found = nodeIndex_.find(endpoint.node.value);
    if (found != nodeIndex_.end()) {
      nodes.push_back(found->second);
      continue;
    }
    std::vector<std::string_view> names;
    for (const NodeSpec& node : topology_.nodes) names.push_back(node.name);
    sink_.error(endpoint.node.where, fmt::format("unknown node `{}`", excerpt(endpoint.node.value)),
                didYouMean(endpoint.node.value, names));
    known = false;
  }
  if (!known) return std::nullopt;
  return nodes;
}

// Explicit names are reserved before any automatic one is chosen, so that `eth0` on a later
// link keeps the automatic names of earlier links away from it.
bool LabBuilder::reserveExplicitNames(size_t linkIndex, const std::vector<size_t>& nodes) {
  const LinkSpec& link = topology_.links[linkIndex];
  bool unique = true;
  for (size_t i = 0; i < link.endpoints.size(); ++i) {
    const auto& interface = link.endpoints[i].interface;
    if (!interface) continue;
    auto [first, inserted] =
        firstUse_.emplace(std::pair(nodes[i], interface->value), interface->where);
    if (!inserted) {
      sink_.error(
          interface->where,
          fmt::format("interface {}:{} is used twice", lab_.nodes[nodes[i]].name, interface->value),
          fmt::format("it is already used at {} (line {}); an interface belongs to "
                      "one link",
                      first->second.path, sink_.lineOf(first->second.offset)));
      unique = false;
    }
    usedNames_[nodes[i]].insert(interface->value);
  }
  return unique;
}

std::string LabBuilder::nextAutoName(size_t node) {
  for (;;) {
    std::string name = fmt::format("eth{}", nextEth_[node]++);
    if (usedNames_[node].insert(name).second) return name;
  }
}

size_t LabBuilder::addEndpointInterface(size_t linkIndex, size_t endpointIndex, size_t node) {
  const LinkSpec& link = topology_.links[linkIndex];
  const EndpointSpec& endpoint = link.endpoints[endpointIndex];
  DraftInterface draft;
  draft.interface.name = endpoint.interface ? endpoint.interface->value : nextAutoName(node);
  draft.interface.mtu = link.mtu.value_or(kDefaultMtu);
  draft.interface.linkName = link.name;
  if (endpoint.mac) draft.interface.mac = endpoint.mac->value;
  draft.explicitMac = endpoint.mac.has_value();
  draft.link = linkIndex;
  draft.endpoint = endpointIndex;
  draft.explicitAddresses = endpoint.addresses;
  draft.where = endpoint.where;
  lab_.nodes[node].interfaces.push_back(std::move(draft));
  return lab_.nodes[node].interfaces.size() - 1;
}

size_t LabBuilder::addPort(size_t switchNode, size_t linkIndex, const EndpointSpec& facing) {
  DraftInterface port;
  port.interface.name = nextAutoName(switchNode);
  port.interface.mtu = topology_.links[linkIndex].mtu.value_or(kDefaultMtu);
  port.interface.linkName = topology_.links[linkIndex].name;
  port.interface.egress = egressOf({&facing.in}, sink_);
  port.link = linkIndex;
  port.where = facing.where;
  lab_.nodes[switchNode].interfaces.push_back(std::move(port));
  return lab_.nodes[switchNode].interfaces.size() - 1;
}

void LabBuilder::connect(size_t nodeA, size_t interfaceA, size_t nodeB, size_t interfaceB) {
  DraftInterface& a = lab_.nodes[nodeA].interfaces[interfaceA];
  DraftInterface& b = lab_.nodes[nodeB].interfaces[interfaceB];
  a.interface.peerNode = lab_.nodes[nodeB].name;
  a.interface.peerInterface = b.interface.name;
  b.interface.peerNode = lab_.nodes[nodeA].name;
  b.interface.peerInterface = a.interface.name;
}

void LabBuilder::wirePointToPoint(size_t linkIndex, const std::vector<size_t>& nodes) {
  const LinkSpec& link = topology_.links[linkIndex];
  const EndpointSpec& a = link.endpoints[0];
  const EndpointSpec& b = link.endpoints[1];
  const size_t interfaceA = addEndpointInterface(linkIndex, 0, nodes[0]);
  const size_t interfaceB = addEndpointInterface(linkIndex, 1, nodes[1]);
  lab_.nodes[nodes[0]].interfaces[interfaceA].interface.egress =
      egressOf({&link.impairment, &a.out, &b.in}, sink_);
  lab_.nodes[nodes[1]].interfaces[interfaceB].interface.egress =
      egressOf({&link.impairment, &b.out, &a.in}, sink_);
  connect(nodes[0], interfaceA, nodes[1], interfaceB);
}

size_t LabBuilder::createSwitch(size_t linkIndex) {
  const std::string base = fmt::format("lan{}", linkIndex);
  std::string name = base;
  for (size_t suffix = 1; nodeIndex_.contains(name); ++suffix) {
    name = fmt::format("{}_{}", base, suffix);
  }
  return addNode({name,
                  NodeKind::Switch,
                  topology_.links[linkIndex].where,
                  settingsFor(topology_, NodeKind::Switch, {}),
                  {},
                  {}});
}

// More than two endpoints: a switch of its own, one port per endpoint in endpoint order.
void LabBuilder::wireLan(size_t linkIndex, const std::vector<size_t>& nodes) {
  const LinkSpec& link = topology_.links[linkIndex];
  const size_t switchNode = createSwitch(linkIndex);
  for (size_t i = 0; i < link.endpoints.size(); ++i) {
    const EndpointSpec& endpoint = link.endpoints[i];
    const size_t interface = addEndpointInterface(linkIndex, i, nodes[i]);
    lab_.nodes[nodes[i]].interfaces[interface].interface.egress =
        egressOf({&link.impairment, &endpoint.out}, sink_);
    const size_t port = addPort(switchNode, linkIndex, endpoint);
    connect(nodes[i], interface, switchNode, port);
  }
}

void LabBuilder::addLinks() {
  std::vector<std::optional<std::vector<size_t>>> resolved(topology_.links.size());
  for (size_t i = 0; i < topology_.links.size(); ++i) {
    if (!topology_.links[i].wellFormed) continue;
    resolved[i] = resolveEndpoints(topology_.links[i]);
    if (resolved[i] && !reserveExplicitNames(i, *resolved[i])) resolved[i].reset();
  }
  for (size_t i = 0; i < topology_.links.size(); ++i) {
    if (!resolved[i]) continue;
    if (resolved[i]->size() == 2) {
      wirePointToPoint(i, *resolved[i]);
    } else {
      wireLan(i, *resolved[i]);
    }
  }
}

void LabBuilder::checkNodes() {
  // After an error, a node may lack links only because its links were rejected.
  const bool linksComplete = !sink_.hasBlockingErrors();
  for (const DraftNode& node : lab_.nodes) {
    if (node.interfaces.empty() && linksComplete) {
      sink_.warning(node.where, fmt::format("node {} has no links", node.name));
    }
    if (node.kind != NodeKind::Switch) continue;
    if (node.interfaces.size() > kMaxBridgePorts) {
      sink_.error(node.where,
                  fmt::format("switch {} has {} ports; a Linux bridge takes at most {}", node.name,
                              node.interfaces.size(), kMaxBridgePorts),
                  "the kernel's BR_MAX_PORTS is 1024 and port 0 is reserved; split the LAN "
                  "with a second switch");
    }
    for (const DraftInterface& port : node.interfaces) {
      if (!port.explicitAddresses.empty()) {
        sink_.error(port.explicitAddresses.front().where,
                    fmt::format("switch {} bridges its ports; a port has no addresses", node.name),
                    "put the addresses on the hosts and routers of the LAN");
      }
    }
  }
}

void LabBuilder::checkMacs() {
  std::map<Mac, Where> seen;
  for (const LinkSpec& link : topology_.links) {
    for (const EndpointSpec& endpoint : link.endpoints) {
      if (!endpoint.mac) continue;
      auto [first, inserted] = seen.emplace(endpoint.mac->value, endpoint.mac->where);
      if (!inserted) {
        sink_.error(endpoint.mac->where,
                    fmt::format("MAC {} is used twice", toString(endpoint.mac->value)),
                    fmt::format("it is already used at {} (line {})", first->second.path,
                                sink_.lineOf(first->second.offset)));
      }
    }
  }
}

}  // namespace

Lab buildLab(const TopologySpec& topology, std::string name, DiagnosticSink& sink) {
  Lab lab{std::move(name), {}};
  LabBuilder builder(topology, lab, sink);
  builder.addNodes();
  builder.addLinks();
  builder.checkNodes();
  {
    // Automatic MACs steer clear of written ones whatever happens: nothing else reads them.
    const IndependentErrors guard(sink);
    builder.checkMacs();
  }
  return lab;
}

}  // namespace netlab::topo
