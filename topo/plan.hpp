// The resolved lab: what `netlab up` builds, and what the state file records.
//
// A Plan is complete and explicit: every interface has its final name, MAC, MTU, addresses
// and impairments; every switch (explicit or created for a LAN) is a node of kind Switch.
// Nothing downstream of topo/ needs to know the topology file's shorthand or defaults.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "base/ip.hpp"
#include "base/mac.hpp"

namespace netlab::topo {

enum class NodeKind : uint8_t { Host, Router, Switch };
std::string_view toString(NodeKind kind);
// The base values' text forms beside NodeKind's: a Mac (a std::array) is not found by
// argument-dependent lookup.
using netlab::toString;

// Shaping and emulation applied on one interface's egress (netem, plus a rate shaper).
// Absent fields are not applied.
// The largest netem queue limit a topology or `netlab link set --limit` may ask for.
inline constexpr uint32_t kMaxLimitPackets = 1'000'000;

struct Impairment {
  std::optional<uint32_t> delayUs;
  std::optional<uint32_t> jitterUs;
  std::optional<double> jitterCorrelationPercent;
  std::optional<double> lossPercent;
  std::optional<double> corruptPercent;
  std::optional<double> duplicatePercent;
  std::optional<double> reorderPercent;
  std::optional<uint64_t> rateBitsPerSecond;
  std::optional<uint32_t> limitPackets;

  bool empty() const;
  // Takes every field the layer sets, keeping the others.
  void overlay(const Impairment& layer);
  bool operator==(const Impairment&) const = default;
};

struct Interface {
  std::string name;  // final name inside the node, at most 15 characters
  Mac mac{};
  uint32_t mtu = 1500;
  std::vector<IpPrefix> addresses;  // interface addresses, e.g. 10.0.0.1/30
  Impairment egress;
  // The other end of this interface's veth pair.
  std::string peerNode;
  std::string peerInterface;
  std::string linkName;  // the `name` of its link in the topology, for graphs; may be empty
  bool operator==(const Interface&) const = default;
};

struct Route {
  IpPrefix destination;  // 0.0.0.0/0 or ::/0 for a default route
  std::optional<IpAddress> gateway;
  std::string device;  // interface name in the node; empty: chosen by the kernel from gateway
  std::optional<uint32_t> metric;
  bool operator==(const Route&) const = default;
};

struct Mount {
  std::string source;  // absolute path on the host
  std::string target;  // absolute path inside the node
  bool readOnly = false;
  bool operator==(const Mount&) const = default;
};

// `resources`: limits applied through the node's own cgroups before its first process runs
// (nsmgr/cgroups.hpp). Each absent one is no limit (pids: the lab's --pids-limit).
struct Resources {
  std::optional<double> cpus;  // CPU time per period, in CPUs: 0.5 is half of one CPU
  std::optional<uint64_t> memoryBytes;
  std::optional<uint32_t> pids;  // tasks: processes and threads
  bool any() const { return cpus || memoryBytes || pids; }
  bool operator==(const Resources&) const = default;
};

// `root` and `image` (docs/topology.md#root-filesystems).
enum class RootMode : uint8_t {
  Overlay,  // a writable layer of the node's own over a read-only lower one; it ends with the node
  Host,     // the host's root itself, writable as far as node root's rights on the host go
};

struct RootFilesystem {
  RootMode mode = RootMode::Overlay;
  // The overlay's lower layer. Empty: the host's root. With a '/': an absolute path of a root
  // filesystem directory. Else the name of an image in netlab's store (`netlab image import`).
  std::string image;
  bool operator==(const RootFilesystem&) const = default;
};

struct File {
  std::string target;  // absolute path inside the node
  std::string content;
  uint32_t mode = 0644;
  bool generated = false;  // written by netlab from the topology (a routing daemon's configuration)
  bool operator==(const File&) const = default;
};

// `"userns": "isolated"` (docs/topology.md#user-namespaces): the node's ids 0..count-1 are host
// ids first..first+count-1, so node root is an unprivileged user on the host. Node i of a lab
// (in plan order, switches included) gets the i-th block above kIsolatedFirstHostId: above
// the ranges that useradd (/etc/subuid, from 100000) and systemd-nspawn (524288..0x6FFFFFFF)
// hand out, below systemd's "foreign" range (0x7FFE0000) and 2^31, where tools turn negative.
struct IdRange {
  uint32_t first = 0;
  uint32_t count = 0;
  bool operator==(const IdRange&) const = default;
};
inline constexpr uint32_t kIsolatedFirstHostId = 0x70000000;
inline constexpr uint32_t kIsolatedIdsPerNode = 65536;
inline constexpr size_t kMaxIsolatedNodeIndex =
    (0x7FFE0000 - kIsolatedFirstHostId) / kIsolatedIdsPerNode - 1;

struct Node {
  std::string name;
  NodeKind kind = NodeKind::Host;
  std::string hostname;
  std::vector<IpPrefix> loopbackAddresses;  // added to lo
  std::vector<Interface> interfaces;        // in creation order
  std::vector<Route> routes;
  std::vector<std::pair<std::string, std::string>> sysctls;  // "net.ipv4.ip_forward" -> "1"
  std::vector<std::pair<std::string, std::string>> env;
  std::vector<std::string> exec;  // startup commands, run with /bin/sh -c in order
  std::vector<Mount> mounts;
  std::vector<File> files;
  std::optional<IdRange> isolatedIds;  // nullopt: `"userns": "host"`, every id maps to itself
  Resources resources;
  RootFilesystem root;
  bool operator==(const Node&) const = default;
};

// The lab checks of the topology's `tests` (`netlab test`). Each runs in one node and is
// retried until it passes or its timeout has passed; see docs/topology.md#tests.

// The node pings every address; it passes when each address answers one of `count` echo
// requests.
struct ReachCheck {
  std::string targetNode;            // the node to reach; empty when an address was given
  std::vector<IpAddress> addresses;  // the target node's addresses (of `family`), or the address
  std::optional<Family> family;      // as written; nullopt: every family the target has
  uint32_t count = 1;
  bool loopbacksOnly = false;  // only the target node's loopback addresses
  bool operator==(const ReachCheck&) const = default;
};

// The node's main table has a route to exactly `destination`; with `gateway` or `device`, one of
// its next hops has them.
struct RouteCheck {
  IpPrefix destination;
  std::optional<IpAddress> gateway;
  std::string device;  // empty: any
  bool operator==(const RouteCheck&) const = default;
};

// `command` runs with /bin/sh -c in the node; it passes when it exits with `exitStatus` and,
// given a pattern, its standard output matches it (outputMatches in topo/checks.hpp).
struct CommandCheck {
  std::string command;
  std::string pattern;  // an ECMAScript regular expression; empty: the output is not checked
  int exitStatus = 0;
  bool operator==(const CommandCheck&) const = default;
};

// The packets from the node to each address cross exactly `nodes`, the destination last, as
// echo requests with growing hop limits find them (a switch, which does not route, is crossed
// unseen). For a target node, one address of each family (of `family`): its loopback, else its
// first interface address.
struct PathCheck {
  std::string targetNode;  // empty when an address was given
  std::vector<IpAddress> addresses;
  std::vector<std::string> nodes;
  std::optional<Family> family;
  bool operator==(const PathCheck&) const = default;
};

inline constexpr uint32_t kDefaultCheckTimeoutMs = 5000;
// The PATH commands in a node see unless its `env` says otherwise.
inline constexpr const char* kNodePath =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
// A path longer than this is not a lab's.
inline constexpr size_t kMaxPathNodes = 32;

struct Check {
  std::string name;  // as written; may be empty (describe() in topo/checks.hpp names it)
  std::string node;  // where the check runs
  // Retried until it passes or this much time has passed since the first try; 0: one try.
  uint32_t timeoutMs = kDefaultCheckTimeoutMs;
  std::variant<ReachCheck, RouteCheck, CommandCheck, PathCheck> condition;
  bool operator==(const Check&) const = default;
};

struct Plan {
  std::string name;        // the lab's name, safe as a path component
  std::string sourceFile;  // absolute path of the topology file, informational
  std::vector<Node> nodes;
  std::vector<Check> checks;  // in the order of `tests`
  bool operator==(const Plan&) const = default;

  const Node* findNode(std::string_view name) const;
};

}  // namespace netlab::topo
