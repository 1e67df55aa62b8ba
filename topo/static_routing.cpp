// addStaticRoutes: `"routing": "static"` without a daemon. Per address family, the lab is a
// graph of nodes and L2 segments (switches are inside segments, so they are invisible here);
// a node touches a segment through an interface with an address of that family. Only routers
// forward, so a path's inner nodes are routers.
//
// A router gets a route to every subnet and loopback it is not connected to, via the first
// hop of a shortest path (in hops). A breadth-first search from the router that takes its
// interfaces in order, and the members of a segment in endpoint order, reaches every
// destination first along the path whose first hop comes first in that order: ties are broken
// by the router's interface order, then by the LAN's endpoint order. Each hop of such a path
// is one step closer to the destination, so routers that choose independently never loop.
//
// A host gets a default route to the first router on its segments, in interface order, then
// endpoint order: the router sends on what it cannot deliver itself.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <deque>
#include <set>

#include "topo/lab.hpp"
#include "topo/segments.hpp"

namespace netlab::topo {
namespace {

// Bounds the plan (and the state file): a lab that needs more routes needs a routing daemon.
constexpr size_t kMaxStaticRoutes = 1'000'000;

constexpr std::array kFamilies{Family::V4, Family::V6};

// A node's interface on a segment, with its address of the family in question.
struct Attachment {
  size_t node = 0;
  size_t interface = 0;
  size_t segment = 0;
  IpAddress address;
};

struct FamilyGraph {
  Family family = Family::V4;
  std::vector<std::vector<Attachment>> byNode;     // in interface order
  std::vector<std::vector<Attachment>> bySegment;  // in endpoint order
  std::vector<std::vector<IpPrefix>> subnets;      // per segment
};

// A gateway must be reachable without a scope, so link-local addresses do not count.
std::optional<IpAddress> usableAddress(const Interface& interface, Family family) {
  for (const IpPrefix& address : interface.addresses) {
    if (address.address.family == family && !isLinkLocal(address.address)) return address.address;
  }
  return std::nullopt;
}

void addSubnets(const Interface& interface, Family family, std::vector<IpPrefix>& subnets) {
  for (const IpPrefix& address : interface.addresses) {
    if (address.address.family != family || isLinkLocal(address.address)) continue;
    const IpPrefix network = networkOf(address);
    if (std::find(subnets.begin(), subnets.end(), network) == subnets.end()) {
      subnets.push_back(network);
    }
  }
}

FamilyGraph buildGraph(const Lab& lab, const std::vector<Segment>& segments, Family family) {
  FamilyGraph graph{family, std::vector<std::vector<Attachment>>(lab.nodes.size()),
                    std::vector<std::vector<Attachment>>(segments.size()),
                    std::vector<std::vector<IpPrefix>>(segments.size())};
  for (size_t s = 0; s < segments.size(); ++s) {
    for (const InterfaceRef& member : segments[s].members) {
      const Interface& interface = lab.nodes[member.node].interfaces[member.interface].interface;
      addSubnets(interface, family, graph.subnets[s]);
      if (auto address = usableAddress(interface, family)) {
        const Attachment attachment{member.node, member.interface, s, *address};
        graph.bySegment[s].push_back(attachment);
        graph.byNode[member.node].push_back(attachment);
      }
    }
  }
  for (auto& attachments : graph.byNode) {
    std::sort(attachments.begin(), attachments.end(),
              [](const Attachment& a, const Attachment& b) { return a.interface < b.interface; });
  }
  return graph;
}

// How the source leaves towards a destination: its interface and the neighbor's address.
struct FirstHop {
  size_t interface = 0;
  IpAddress gateway;
};

struct FirstHops {
  std::vector<std::optional<FirstHop>> node;     // nullopt: the source itself, or unreachable
  std::vector<std::optional<FirstHop>> segment;  // nullopt: connected, or unreachable
};

FirstHops firstHops(const Lab& lab, const FamilyGraph& graph, size_t source) {
  FirstHops hops{std::vector<std::optional<FirstHop>>(lab.nodes.size()),
                 std::vector<std::optional<FirstHop>>(graph.bySegment.size())};
  std::vector<bool> nodeSeen(lab.nodes.size(), false);
  std::vector<bool> segmentSeen(graph.bySegment.size(), false);
  std::deque<size_t> queue;
  // Enters a segment from `from` (a node already reached, or the source) with `hop`.
  auto enter = [&](const Attachment& from, const std::optional<FirstHop>& hop) {
    for (const Attachment& member : graph.bySegment[from.segment]) {
      if (nodeSeen[member.node]) continue;
      nodeSeen[member.node] = true;
      hops.node[member.node] = hop ? *hop : FirstHop{from.interface, member.address};
      queue.push_back(member.node);
    }
  };
  nodeSeen[source] = true;
  for (const Attachment& own : graph.byNode[source]) segmentSeen[own.segment] = true;
  for (const Attachment& own : graph.byNode[source]) enter(own, std::nullopt);
  while (!queue.empty()) {
    const size_t node = queue.front();
    queue.pop_front();
    if (lab.nodes[node].kind != NodeKind::Router) continue;  // hosts do not forward
    for (const Attachment& next : graph.byNode[node]) {
      if (segmentSeen[next.segment]) continue;
      segmentSeen[next.segment] = true;
      hops.segment[next.segment] = hops.node[node];
      enter(next, hops.node[node]);
    }
  }
  return hops;
}

class StaticRouter {
 public:
  StaticRouter(const Lab& lab, Plan& plan);

  void routeRouter(const FamilyGraph& graph, size_t node);
  void routeHost(const FamilyGraph& graph, size_t node);

 private:
  // Adds the route unless the node has one to that destination already: a written route wins,
  // and of two computed ones (loopbacks in one network) the first.
  void add(size_t node, const IpPrefix& destination, const FirstHop& hop);

  const Lab& lab_;
  Plan& plan_;
  std::vector<std::set<IpPrefix>> destinations_;  // per node, of the routes it has
};

StaticRouter::StaticRouter(const Lab& lab, Plan& plan)
    : lab_(lab), plan_(plan), destinations_(plan.nodes.size()) {
  for (size_t node = 0; node < plan.nodes.size(); ++node) {
    for (const Route& route : plan.nodes[node].routes) {
      destinations_[node].insert(route.destination);
    }
  }
}

void StaticRouter::add(size_t node, const IpPrefix& destination, const FirstHop& hop) {
  if (!destinations_[node].insert(destination).second) return;
  plan_.nodes[node].routes.push_back({destination, hop.gateway,
                                      lab_.nodes[node].interfaces[hop.interface].interface.name,
                                      std::nullopt});
}

void StaticRouter::routeRouter(const FamilyGraph& graph, size_t node) {
  const FirstHops hops = firstHops(lab_, graph, node);
  for (size_t s = 0; s < graph.subnets.size(); ++s) {
    if (!hops.segment[s]) continue;
    for (const IpPrefix& subnet : graph.subnets[s]) add(node, subnet, *hops.segment[s]);
  }
  for (size_t other = 0; other < lab_.nodes.size(); ++other) {
    if (!hops.node[other]) continue;
    for (const IpPrefix& loopback : lab_.nodes[other].loopbacks) {
      if (loopback.address.family == graph.family)
        add(node, networkOf(loopback), *hops.node[other]);
    }
  }
}

void StaticRouter::routeHost(const FamilyGraph& graph, size_t node) {
  for (const Attachment& own : graph.byNode[node]) {
    for (const Attachment& member : graph.bySegment[own.segment]) {
      if (member.node == node || lab_.nodes[member.node].kind != NodeKind::Router) continue;
      add(node, IpPrefix{IpAddress{graph.family, {}}, 0}, {own.interface, member.address});
      return;
    }
  }
}

// A host in an OSPF or BGP lab runs no daemon: it gets the default route of "static".
bool routesStatically(const DraftNode& node) {
  if (!node.settings.routing) return false;
  const RoutingMode mode = node.settings.routing->value;
  return mode == RoutingMode::Static ||
         (node.kind == NodeKind::Host && (mode == RoutingMode::Ospf || mode == RoutingMode::Bgp));
}

// Every static router may get a route to every destination: refuse labs where that is too many.
bool withinBound(const Lab& lab, const std::vector<FamilyGraph>& graphs, DiagnosticSink& sink) {
  size_t destinations = 0;
  for (const FamilyGraph& graph : graphs) {
    for (const auto& subnets : graph.subnets) destinations += subnets.size();
  }
  size_t routers = 0;
  const DraftNode* first = nullptr;
  for (const DraftNode& node : lab.nodes) {
    destinations += node.loopbacks.size();
    if (!routesStatically(node) || node.kind != NodeKind::Router) continue;
    if (!first) first = &node;
    ++routers;
  }
  if (!first || destinations == 0 || routers <= kMaxStaticRoutes / destinations) return true;
  sink.error(first->settings.routing->where,
             fmt::format("static routing would write up to {} routes ({} routers x {} "
                         "destinations); netlab writes at most {}",
                         routers * destinations, routers, destinations, kMaxStaticRoutes),
             "run a routing daemon in labs this large");
  return false;
}

}  // namespace

void addStaticRoutes(const Lab& lab, size_t linkCount, Plan& plan, DiagnosticSink& sink) {
  if (std::none_of(lab.nodes.begin(), lab.nodes.end(), routesStatically)) return;
  const std::vector<Segment> segments = findSegments(lab, linkCount);
  std::vector<FamilyGraph> graphs;
  graphs.reserve(kFamilies.size());
  for (Family family : kFamilies) graphs.push_back(buildGraph(lab, segments, family));
  if (!withinBound(lab, graphs, sink)) return;
  StaticRouter router(lab, plan);
  for (const FamilyGraph& graph : graphs) {
    for (size_t node = 0; node < lab.nodes.size(); ++node) {
      if (!routesStatically(lab.nodes[node])) continue;
      if (lab.nodes[node].kind == NodeKind::Router) router.routeRouter(graph, node);
      if (lab.nodes[node].kind == NodeKind::Host) router.routeHost(graph, node);
    }
  }
}

}  // namespace netlab::topo
