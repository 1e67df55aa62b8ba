// The topology as written, after parsing: every value has its type checked and its text
// parsed (addresses, units, names), and remembers where it was written. Defaults are not
// yet merged, interfaces not yet named, nothing is allocated: that is build_lab's and
// addressing's work.
#pragma once

#include <array>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "base/ip.hpp"
#include "topo/diagnostics.hpp"
#include "topo/plan.hpp"

namespace netlab::topo {

template <typename T>
struct Located {
  T value;
  Where where;
};

struct AddressSpec {
  IpPrefix prefix;
  bool hasLength = true;  // "10.0.0.1" takes its length from the segment's prefix
  Where where;
};

struct LoopbackSpec {
  enum class Mode : uint8_t { Automatic, None, Explicit };
  Mode mode = Mode::Automatic;
  std::vector<AddressSpec> addresses;
  Where where;
};

struct RouteSpec {
  std::optional<IpPrefix> destination;  // nullopt: "default", family decided by the gateway
  std::optional<IpAddress> gateway;
  std::optional<Located<std::string>> device;
  std::optional<uint32_t> metric;
  Where where;
};

// `routing`: None keeps only the routes written in the topology; Static adds shortest-path
// routes (static_routing.cpp); Ospf and Bgp run a routing daemon whose configuration netlab
// writes (routing.cpp). A host given Ospf or Bgp routes as with Static: a default route.
enum class RoutingMode : uint8_t { None, Static, Ospf, Bgp };

// `daemon`: the routing suite that runs Ospf and Bgp.
enum class RoutingDaemon : uint8_t { Frr, Bird };

// `userns`: Host maps every id to itself; Isolated maps the node's ids to a range of its own
// (IdRange in plan.hpp).
enum class UserNamespaceMode : uint8_t { Host, Isolated };

// What a node, `defaults` or `defaults.kinds.<kind>` can say about a node.
struct NodeSettings {
  std::optional<std::string> hostname;
  std::optional<Located<RoutingMode>> routing;
  std::optional<Located<RoutingDaemon>> daemon;
  std::optional<Located<uint32_t>> asn;  // BGP's autonomous system number, 1..4294967294
  std::optional<UserNamespaceMode> userns;
  std::optional<LoopbackSpec> loopback;
  std::vector<RouteSpec> routes;
  std::vector<std::pair<std::string, std::string>> sysctls;  // name -> value, names unique
  std::vector<std::pair<std::string, std::string>> env;      // name -> value, names unique
  std::vector<std::string> exec;
  std::vector<Mount> mounts;  // sources absolute
  std::vector<File> files;    // targets unique
  Resources resources;        // each limit set by the most specific layer that names it
  std::optional<Located<RootMode>> root;
  std::optional<Located<std::string>> image;  // as in RootFilesystem
};

struct NodeSpec {
  std::string name;
  Where where;  // the node's key in `nodes`
  std::optional<NodeKind> kind;
  NodeSettings settings;
};

// Impairments written in one place (a link, or an endpoint's `out` or `in`).
struct ImpairmentSpec {
  Impairment values;
  // Keys checked only once the layers of an interface's egress are merged.
  std::optional<Where> jitter;
  std::optional<Where> reorder;
};

struct EndpointSpec {
  Located<std::string> node;
  std::optional<Located<std::string>> interface;  // nullopt: named automatically
  std::vector<AddressSpec> addresses;
  std::optional<Located<Mac>> mac;
  ImpairmentSpec out;
  ImpairmentSpec in;
  Where where;
};

// A link's `ospf` object: applies to every interface of the link that runs OSPF.
struct OspfLinkSpec {
  std::optional<uint16_t> cost;
  std::optional<uint32_t> area;  // "0.0.0.1" or 1
  std::optional<bool> passive;
  Where where;
};

struct LinkSpec {
  std::vector<EndpointSpec> endpoints;
  std::vector<AddressSpec> prefixes;  // at most one per family
  std::optional<uint32_t> mtu;
  ImpairmentSpec impairment;
  std::optional<OspfLinkSpec> ospf;
  std::string name;  // a label for people, shown by graphs
  Where where;
  bool wellFormed = true;  // false: a problem was reported; later stages skip the link
};

struct PoolSpec {
  IpPrefix ipv4;
  uint8_t ipv4Length;
  IpPrefix ipv6;
  uint8_t ipv6Length;
};

struct AddressingSpec {
  bool enabled = true;
  bool ipv4 = true;
  bool ipv6 = false;
  PoolSpec p2p;
  PoolSpec lan;
  IpPrefix loopbackIpv4;
  IpPrefix loopbackIpv6;
};

// The documented defaults of the `addressing` object.
AddressingSpec defaultAddressing();

// `node_folders`: where the Kathara-style folders named after nodes are looked for.
struct NodeFoldersSpec {
  bool enabled = true;
  std::filesystem::path root;  // absolute; the topology file's directory unless given
};

// A `tests` item as written; the node names and devices are checked against the Plan.
struct ReachSpec {
  std::optional<Located<std::string>> targetNode;
  std::optional<IpAddress> targetAddress;
  std::optional<Family> family;
  uint32_t count = 1;
  std::optional<Where> loopbacksOnly;  // `"addresses": "loopback"`, where it was written
};

struct RouteCheckSpec {
  std::optional<IpPrefix> destination;  // nullopt: "default", family decided by the gateway
  std::optional<IpAddress> gateway;
  std::optional<Located<std::string>> device;
};

struct PathSpec {
  std::vector<Located<std::string>> nodes;         // crossed, the destination last
  std::optional<Located<std::string>> targetNode;  // `to`
  std::optional<IpAddress> targetAddress;
  std::optional<Family> family;
  Where where;  // of `path`
};

struct CheckSpec {
  std::string name;
  Located<std::string> node;
  uint32_t timeoutMs = kDefaultCheckTimeoutMs;
  std::variant<ReachSpec, RouteCheckSpec, CommandCheck, PathSpec> condition;
  Where where;
};

struct TopologySpec {
  std::optional<std::string> name;
  std::vector<NodeSpec> nodes;
  NodeSettings defaults;
  // defaults.kinds, indexed by NodeKind.
  std::array<std::optional<NodeSettings>, 3> kindDefaults;
  std::vector<LinkSpec> links;
  AddressingSpec addressing = defaultAddressing();
  // The lab-wide `routing`: the layer under `defaults`.
  std::optional<Located<RoutingMode>> routing;
  // The lab-wide `userns`: the layer under `defaults`, like `routing`.
  std::optional<UserNamespaceMode> userns;
  NodeFoldersSpec nodeFolders;
  std::vector<CheckSpec> checks;
};

inline size_t kindIndex(NodeKind kind) {
  return static_cast<size_t>(kind);
}

}  // namespace netlab::topo
