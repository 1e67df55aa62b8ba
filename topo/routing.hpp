// What a router's routing daemon is told, whatever the daemon's syntax: built from the lab by
// routing.cpp, written out as FRR's files by routing_frr.cpp and as BIRD's by routing_bird.cpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/ip.hpp"
#include "topo/plan.hpp"

namespace netlab::topo {

// Fast enough that a classroom lab converges in about a second and notices a dead neighbour in
// three (a link taken down is seen at once anyway, from the carrier).
inline constexpr int kOspfHelloSeconds = 1;
inline constexpr int kOspfDeadSeconds = 3;
inline constexpr int kBgpKeepaliveSeconds = 1;
inline constexpr int kBgpHoldSeconds = 3;

struct OspfInterface {
  std::string name;  // "lo" for the loopbacks
  uint32_t area = 0;
  bool pointToPoint = false;  // a link of two nodes: no designated router to elect
  bool passive = false;       // announced, but no neighbour is looked for
  std::optional<uint16_t> cost;
  bool ipv4 = false;  // OSPFv2 runs on it
  bool ipv6 = false;  // OSPFv3 runs on it
};

struct BgpNeighbor {
  IpAddress address;
  IpAddress source;  // this router's end: its loopback for iBGP, its interface's for eBGP
  uint32_t asn = 0;
  bool internal = false;  // iBGP, over loopbacks
  std::string node;       // the neighbour's name, for the reader
};

struct RouterConfig {
  std::string hostname;
  IpAddress routerId;               // IPv4, OSPF's and BGP's
  std::vector<OspfInterface> ospf;  // empty: no OSPF
  std::vector<IpPrefix> loopbacks;  // the addresses on lo
  std::optional<uint32_t> asn;      // nullopt: no BGP
  std::vector<BgpNeighbor> neighbors;
  std::vector<IpPrefix> announced;  // BGP networks, both families

  bool runsOspfv2() const;
  bool runsOspfv3() const;
};

// An OSPF area as both suites write it: 1 is "0.0.0.1".
std::string dottedArea(uint32_t area);

// FRR's /etc/frr/frr.conf and /etc/frr/daemons for the router.
std::string frrConfig(const RouterConfig& router);
std::string frrDaemons(const RouterConfig& router);
// FRR's vtysh.conf: one integrated frr.conf, as the daemons file expects.
std::string frrVtyshConfig();
// BIRD 2's /etc/bird/bird.conf for the router.
std::string birdConfig(const RouterConfig& router);

// Whether a startup command of the node runs FRR (one of its programs in /usr/lib/frr, as the
// command netlab adds and the examples' hand-written ones do), whose daemons switch to FRR's own
// user: a lab that maps one id has no such user.
bool startsFrr(const Node& node);

}  // namespace netlab::topo
