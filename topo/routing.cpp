// addRoutingDaemons: the routers with `"routing": "ospf"` or `"bgp"` get their routing suite's
// configuration (FRR's, or BIRD's with `"daemon": "bird"`), written from the lab (routing.hpp),
// as files in the node's own /etc/frr (/etc/bird: a tmpfs, so the host's folder is neither read
// nor changed), and a startup command that starts the suite without
// systemd. A node that has its own /etc/frr (/etc/bird: a node folder, a mount, a file) keeps
// it: netlab only starts the suite there.
//
// OSPF runs on every interface of the router, with neighbours looked for only on segments where
// another router of its OSPF domain is: the lab's OSPF routers form one domain, the BGP routers
// of one AS another (OSPF is their IGP, carrying the loopbacks iBGP runs over). BGP: eBGP with
// every router of another AS on a shared segment, one session per address family the two share
// there; iBGP between all the routers of an AS over their loopbacks, one per shared family;
// each router announces every loopback and subnet of its AS.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <utility>

#include "topo/lab.hpp"
#include "topo/names.hpp"
#include "topo/node_files.hpp"
#include "topo/routing.hpp"
#include "topo/segments.hpp"

namespace netlab::topo {
namespace {

// What netlab needs of a routing suite: where its configuration lives, how it starts without
// systemd, and what of it must be installed here (the start program, and the folder that its
// generated files get a tmpfs over in each node).
struct Suite {
  std::string_view name;
  std::string_view package;  // Debian's
  std::string_view configDirectory;
  std::string_view startup;
  std::vector<std::string_view> installed;
};

const Suite& suiteOf(RoutingDaemon daemon) {
  static const Suite frr{"FRR",
                         "frr",
                         "/etc/frr",
                         "/usr/lib/frr/frrinit.sh start",
                         {"/usr/lib/frr/frrinit.sh", "/etc/frr"}};
  // bird makes its control socket in /run/bird, the node's own, so birdc talks to this node's.
  static const Suite bird{"BIRD",
                          "bird2",
                          "/etc/bird",
                          "mkdir -p /run/bird && /usr/sbin/bird -c /etc/bird/bird.conf",
                          {"/usr/sbin/bird", "/etc/bird"}};
  return daemon == RoutingDaemon::Bird ? bird : frr;
}

RoutingDaemon daemonOf(const DraftNode& node) {
  return node.settings.daemon ? node.settings.daemon->value : RoutingDaemon::Frr;
}

bool runsDaemon(const DraftNode& node) {
  if (node.kind != NodeKind::Router || !node.settings.routing) return false;
  const RoutingMode mode = node.settings.routing->value;
  return mode == RoutingMode::Ospf || mode == RoutingMode::Bgp;
}

bool runsBgp(const DraftNode& node) {
  return runsDaemon(node) && node.settings.routing->value == RoutingMode::Bgp;
}

// Hand-written configuration wins: a node folder r1/etc/frr, or a mount or file of the node's
// at, above or in the suite's folder (netlab's tmpfs over the folder would hide its target).
bool hasOwnConfig(const DraftNode& node, std::string_view directory) {
  const auto& mounts = node.settings.mounts;
  const auto& files = node.settings.files;
  return std::any_of(mounts.begin(), mounts.end(),
                     [&](const Mount& m) {
                       return isPathUnder(directory, m.target) || isPathUnder(m.target, directory);
                     }) ||
         std::any_of(files.begin(), files.end(),
                     [&](const File& f) { return isPathUnder(f.target, directory); });
}

std::optional<IpAddress> firstAddress(const std::vector<IpPrefix>& prefixes, Family family) {
  for (const IpPrefix& prefix : prefixes) {
    if (prefix.address.family == family && !isLinkLocal(prefix.address)) return prefix.address;
  }
  return std::nullopt;
}

class RoutingPlanner {
 public:
  RoutingPlanner(const Lab& lab, const TopologySpec& topology, DiagnosticSink& sink);

  void checkOspfSettings();
  std::optional<RouterConfig> plan(size_t node, const std::string& hostname);

 private:
  // Which routers speak OSPF with each other: nullopt for a node that runs none.
  std::optional<uint64_t> ospfDomain(size_t node) const;
  std::optional<IpAddress> routerId(size_t node);
  OspfInterface ospfInterface(size_t node, size_t interface, const Segment& segment) const;
  std::vector<OspfInterface> ospfInterfaces(size_t node) const;
  void addExternalNeighbors(size_t node, RouterConfig& router);
  void addInternalNeighbors(size_t node, RouterConfig& router);
  std::vector<IpPrefix> announced(size_t node) const;

  const Lab& lab_;
  const TopologySpec& topology_;
  DiagnosticSink& sink_;
  std::vector<Segment> segments_;
  std::map<std::pair<size_t, size_t>, size_t> segmentOf_;  // (node, interface) -> segment
};

RoutingPlanner::RoutingPlanner(const Lab& lab, const TopologySpec& topology, DiagnosticSink& sink)
    : lab_(lab),
      topology_(topology),
      sink_(sink),
      segments_(findSegments(lab, topology.links.size())) {
  for (size_t s = 0; s < segments_.size(); ++s) {
    for (const InterfaceRef& member : segments_[s].members) {
      segmentOf_[{member.node, member.interface}] = s;
    }
  }
}

std::optional<uint64_t> RoutingPlanner::ospfDomain(size_t node) const {
  const DraftNode& draft = lab_.nodes[node];
  if (!runsDaemon(draft)) return std::nullopt;
  // Above every AS number: the domain of the routers that run OSPF alone.
  if (!runsBgp(draft)) return uint64_t{1} << 32;
  if (!draft.settings.asn) return std::nullopt;
  return draft.settings.asn->value;
}

// A link's `ospf` settings mean nothing on a link where no node runs OSPF.
void RoutingPlanner::checkOspfSettings() {
  std::vector<bool> ospfLink(topology_.links.size(), false);
  for (size_t node = 0; node < lab_.nodes.size(); ++node) {
    if (!ospfDomain(node)) continue;
    for (const DraftInterface& interface : lab_.nodes[node].interfaces)
      ospfLink[interface.link] = true;
  }
  for (size_t link = 0; link < topology_.links.size(); ++link) {
    const auto& ospf = topology_.links[link].ospf;
    if (ospf && !ospfLink[link]) {
      sink_.error(ospf->where, "no node on this link runs OSPF",
                  R"(give a router on it "routing": "ospf" (or "bgp", whose IGP is OSPF), )"
                  "or remove `ospf`");
    }
  }
}

// OSPF and BGP name a router by a 32-bit id, by custom an IPv4 address of its own: the first
// IPv4 loopback, which no link failure takes away, else the first IPv4 interface address.
std::optional<IpAddress> RoutingPlanner::routerId(size_t node) {
  const DraftNode& draft = lab_.nodes[node];
  if (auto loopback = firstAddress(draft.loopbacks, Family::V4)) return loopback;
  for (const DraftInterface& interface : draft.interfaces) {
    if (auto address = firstAddress(interface.interface.addresses, Family::V4)) return address;
  }
  sink_.error(
      draft.where,
      fmt::format("router `{}` has no IPv4 address for its OSPF and BGP router id", draft.name),
      R"(give it an IPv4 loopback, e.g. "loopback": "10.255.0.1")");
  return std::nullopt;
}

OspfInterface RoutingPlanner::ospfInterface(size_t node, size_t interface,
                                            const Segment& segment) const {
  const DraftInterface& draft = lab_.nodes[node].interfaces[interface];
  const bool sameDomainPeer =
      std::any_of(segment.members.begin(), segment.members.end(), [&](const InterfaceRef& m) {
        return m.node != node && ospfDomain(m.node) == ospfDomain(node);
      });
  OspfInterface ospf;
  ospf.name = draft.interface.name;
  ospf.pointToPoint = segment.members.size() == 2 && segment.links.size() == 1;
  ospf.passive = !sameDomainPeer;
  ospf.ipv4 = firstAddress(draft.interface.addresses, Family::V4).has_value();
  ospf.ipv6 = firstAddress(draft.interface.addresses, Family::V6).has_value();
  if (const auto& settings = topology_.links[draft.link].ospf) {
    ospf.area = settings->area.value_or(0);
    ospf.passive = settings->passive.value_or(ospf.passive);
    ospf.cost = settings->cost;
  }
  return ospf;
}

std::vector<OspfInterface> RoutingPlanner::ospfInterfaces(size_t node) const {
  std::vector<OspfInterface> interfaces;
  const DraftNode& draft = lab_.nodes[node];
  for (size_t i = 0; i < draft.interfaces.size(); ++i) {
    auto segment = segmentOf_.find({node, i});
    if (segment == segmentOf_.end()) continue;
    OspfInterface ospf = ospfInterface(node, i, segments_[segment->second]);
    if (ospf.ipv4 || ospf.ipv6) interfaces.push_back(ospf);
  }
  // The loopbacks join the backbone, or the router's only area when it is not on the backbone.
  OspfInterface loopback;
  loopback.name = "lo";
  const bool onBackbone = std::any_of(interfaces.begin(), interfaces.end(),
                                      [](const OspfInterface& i) { return i.area == 0; });
  if (!onBackbone && !interfaces.empty()) loopback.area = interfaces.front().area;
  loopback.passive = true;
  loopback.ipv4 = firstAddress(draft.loopbacks, Family::V4).has_value();
  loopback.ipv6 = firstAddress(draft.loopbacks, Family::V6).has_value();
  if (loopback.ipv4 || loopback.ipv6) interfaces.insert(interfaces.begin(), loopback);
  return interfaces;
}

void RoutingPlanner::addExternalNeighbors(size_t node, RouterConfig& router) {
  const DraftNode& draft = lab_.nodes[node];
  for (size_t i = 0; i < draft.interfaces.size(); ++i) {
    auto segment = segmentOf_.find({node, i});
    if (segment == segmentOf_.end()) continue;
    const auto& own = draft.interfaces[i].interface.addresses;
    for (const InterfaceRef& peer : segments_[segment->second].members) {
      const DraftNode& other = lab_.nodes[peer.node];
      if (!runsBgp(other) || !other.settings.asn || other.settings.asn->value == *router.asn)
        continue;
      const auto& theirs = other.interfaces[peer.interface].interface.addresses;
      size_t sessions = 0;
      for (Family family : {Family::V4, Family::V6}) {
        auto address = firstAddress(theirs, family);
        auto source = firstAddress(own, family);
        if (!address || !source) continue;
        router.neighbors.push_back(
            {*address, *source, other.settings.asn->value, false, other.name});
        ++sessions;
      }
      if (sessions == 0) {
        sink_.error(topology_.links[draft.interfaces[i].link].where,
                    fmt::format("no address family for the eBGP session between `{}` and `{}`: "
                                "their interfaces here share no IPv4 or IPv6 subnet",
                                draft.name, other.name),
                    "give the link a prefix, or addresses to both ends");
      }
    }
  }
}

void RoutingPlanner::addInternalNeighbors(size_t node, RouterConfig& router) {
  const DraftNode& draft = lab_.nodes[node];
  for (size_t other = 0; other < lab_.nodes.size(); ++other) {
    const DraftNode& peer = lab_.nodes[other];
    if (other == node || !runsBgp(peer) || ospfDomain(other) != ospfDomain(node)) continue;
    size_t sessions = 0;
    for (Family family : {Family::V4, Family::V6}) {
      auto address = firstAddress(peer.loopbacks, family);
      auto source = firstAddress(draft.loopbacks, family);
      if (!address || !source) continue;
      router.neighbors.push_back({*address, *source, *router.asn, true, peer.name});
      ++sessions;
    }
    if (sessions == 0) {
      sink_.error(draft.where,
                  fmt::format("no address family for the iBGP session between `{}` and `{}` "
                              "(AS {}): iBGP runs between loopbacks of one family",
                              draft.name, peer.name, *router.asn),
                  R"(give both loopbacks of the same family, e.g. "loopback": "auto")");
    }
  }
}

// Every router announces what its whole AS is connected to: loopbacks and every subnet. Each
// its own would not do: a router learns another's loopback over iBGP with that loopback as the
// next hop, which FRR refuses to resolve through the route itself, so it would not pass it on.
std::vector<IpPrefix> RoutingPlanner::announced(size_t node) const {
  std::vector<IpPrefix> networks;
  auto add = [&](const IpPrefix& prefix) {
    if (isLinkLocal(prefix.address)) return;
    const IpPrefix network = networkOf(prefix);
    if (std::find(networks.begin(), networks.end(), network) == networks.end())
      networks.push_back(network);
  };
  for (size_t member = 0; member < lab_.nodes.size(); ++member) {
    if (!runsBgp(lab_.nodes[member]) || ospfDomain(member) != ospfDomain(node)) continue;
    for (const IpPrefix& loopback : lab_.nodes[member].loopbacks) add(loopback);
    for (const DraftInterface& interface : lab_.nodes[member].interfaces) {
      for (const IpPrefix& address : interface.interface.addresses) add(address);
    }
  }
  return networks;
}

std::optional<RouterConfig> RoutingPlanner::plan(size_t node, const std::string& hostname) {
  const DraftNode& draft = lab_.nodes[node];
  if (runsBgp(draft) && !draft.settings.asn) {
    sink_.error(draft.where, fmt::format("router `{}` runs BGP but has no `asn`", draft.name),
                R"(e.g. "asn": 65001, on the node or in its defaults)");
    return std::nullopt;
  }
  auto id = routerId(node);
  if (!id) return std::nullopt;
  RouterConfig router;
  router.hostname = hostname;
  router.routerId = *id;
  router.ospf = ospfInterfaces(node);
  router.loopbacks = draft.loopbacks;
  if (runsBgp(draft)) {
    router.asn = draft.settings.asn->value;
    addExternalNeighbors(node, router);
    addInternalNeighbors(node, router);
    router.announced = announced(node);
  }
  return router;
}

// An `asn` where it cannot apply is a mistake, not a setting to ignore.
void checkAsn(const DraftNode& node, DiagnosticSink& sink) {
  if (node.kind != NodeKind::Router || !node.settings.asn || runsBgp(node)) return;
  sink.error(node.settings.asn->where,
             fmt::format("router `{}` has an `asn` but does not run BGP", node.name),
             R"(give it "routing": "bgp", or remove `asn`)");
}

// Reported once per suite and root filesystem, at the first router that runs it there.
void checkInstalled(RoutingDaemon daemon, const DraftNode& first, const ImageRoots& images,
                    DiagnosticSink& sink) {
  const auto files = NodeFiles::of(first, images);
  if (!files) return;
  const Suite& suite = suiteOf(daemon);
  for (std::string_view path : suite.installed) {
    if (files->exists(std::string(path))) continue;
    sink.error(first.settings.routing->where,
               fmt::format("{} is not installed {} ({} is missing), and router `{}` runs it",
                           suite.name, files->where(), path, first.name),
               files->isHost()
                   ? fmt::format("install Debian's {0} package: apt-get install {0}", suite.package)
                   : fmt::format("install Debian's {} package in the image", suite.package));
    return;
  }
}

// The image a node's programs come from; "" for the host's root.
std::string imageOf(const DraftNode& node) {
  return node.settings.image ? node.settings.image->value : "";
}

void addFiles(RoutingDaemon daemon, const RouterConfig& router, Node& node) {
  if (daemon == RoutingDaemon::Bird) {
    node.files.push_back({"/etc/bird/bird.conf", birdConfig(router), 0644, true});
    return;
  }
  node.files.push_back({"/etc/frr/frr.conf", frrConfig(router), 0644, true});
  node.files.push_back({"/etc/frr/daemons", frrDaemons(router), 0644, true});
  node.files.push_back({"/etc/frr/vtysh.conf", frrVtyshConfig(), 0644, true});
}

}  // namespace

std::string dottedArea(uint32_t area) {
  return fmt::format("{}.{}.{}.{}", area >> 24, (area >> 16) & 0xff, (area >> 8) & 0xff,
                     area & 0xff);
}

bool startsFrr(const Node& node) {
  return std::any_of(node.exec.begin(), node.exec.end(), [](const std::string& command) {
    return command.find("/usr/lib/frr/") != std::string::npos;
  });
}

bool RouterConfig::runsOspfv2() const {
  return std::any_of(ospf.begin(), ospf.end(), [](const OspfInterface& i) { return i.ipv4; });
}

bool RouterConfig::runsOspfv3() const {
  return std::any_of(ospf.begin(), ospf.end(), [](const OspfInterface& i) { return i.ipv6; });
}

void addRoutingDaemons(const Lab& lab, const TopologySpec& topology, bool checkThisMachine,
                       const ImageRoots& images, Plan& plan, DiagnosticSink& sink) {
  RoutingPlanner planner(lab, topology, sink);
  planner.checkOspfSettings();
  std::map<std::pair<RoutingDaemon, std::string>, const DraftNode*> firstRouter;
  for (size_t node = 0; node < lab.nodes.size(); ++node) {
    const DraftNode& draft = lab.nodes[node];
    checkAsn(draft, sink);
    if (!runsDaemon(draft)) continue;
    const RoutingDaemon daemon = daemonOf(draft);
    firstRouter.emplace(std::pair(daemon, imageOf(draft)), &draft);
    if (!hasOwnConfig(draft, suiteOf(daemon).configDirectory)) {
      if (auto router = planner.plan(node, plan.nodes[node].hostname))
        addFiles(daemon, *router, plan.nodes[node]);
    }
    plan.nodes[node].exec.emplace_back(suiteOf(daemon).startup);
  }
  if (!checkThisMachine) return;
  for (const auto& [suiteAndImage, first] : firstRouter) {
    checkInstalled(suiteAndImage.first, *first, images, sink);
  }
}

}  // namespace netlab::topo
