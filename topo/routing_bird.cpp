// A RouterConfig as BIRD 2's bird.conf (BIRD 2.0.12, Debian 12's bird2), checked with
// `bird -p -c bird.conf`. What FRR's `network` statements announce, BIRD exports by a prefix set
// of the AS's networks.
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "topo/routing.hpp"

namespace netlab::topo {
namespace {

// BIRD runs OSPFv3 only on interfaces with a link-local address, which lo has not: the IPv6
// loopbacks are announced as stub networks of the area instead.
std::string birdLoopbackStubs(const RouterConfig& router) {
  std::string text;
  for (const IpPrefix& loopback : router.loopbacks) {
    if (loopback.address.family == Family::V6)
      text += fmt::format("    stubnet {};\n", toString(networkOf(loopback)));
  }
  return text;
}

std::string birdInterface(const OspfInterface& interface) {
  std::string options;
  if (interface.passive) {
    options = "stub yes;";
  } else {
    options =
        fmt::format("type {}; hello {}; dead {};", interface.pointToPoint ? "ptp" : "broadcast",
                    kOspfHelloSeconds, kOspfDeadSeconds);
  }
  if (interface.cost) options += fmt::format(" cost {};", *interface.cost);
  return fmt::format("    interface \"{}\" {{ {} }};\n", interface.name, options);
}

// One OSPF protocol: v2 over the interfaces with IPv4, v3 over those with IPv6, area by area.
std::string birdOspf(const RouterConfig& router, Family family) {
  const bool v4 = family == Family::V4;
  std::map<uint32_t, std::string> areas;
  for (const OspfInterface& interface : router.ospf) {
    if (!(v4 ? interface.ipv4 : interface.ipv6)) continue;
    areas[interface.area] +=
        !v4 && interface.name == "lo" ? birdLoopbackStubs(router) : birdInterface(interface);
  }
  if (areas.empty()) return {};
  std::string text = fmt::format("protocol ospf {} {} {{\n  {} {{ import all; export none; }};\n",
                                 v4 ? "v2" : "v3", v4 ? "ospf4" : "ospf6", v4 ? "ipv4" : "ipv6");
  for (const auto& [area, interfaces] : areas) {
    text += fmt::format("  area {} {{\n{}  }};\n", dottedArea(area), interfaces);
  }
  return text + "}\n\n";
}

// Node names may hold `-`, which a BIRD symbol may not.
std::string symbolOf(std::string name) {
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

std::string networkSet(const RouterConfig& router, Family family) {
  std::vector<std::string> networks;
  for (const IpPrefix& network : router.announced) {
    if (network.address.family == family) networks.push_back(toString(network));
  }
  // BIRD has no empty prefix set: a family without networks exports none of its own.
  if (networks.empty()) return "false";
  return fmt::format("net ~ [ {} ]", fmt::join(networks, ", "));
}

// eBGP passes on what it learned and announces the AS's networks; iBGP passes on only what was
// learned from other ASes (BIRD never passes one iBGP neighbour's routes to another), with this
// router as their next hop, which OSPF knows how to reach.
std::string birdNeighbor(const RouterConfig& router, const BgpNeighbor& neighbor, size_t index) {
  const bool v4 = neighbor.address.family == Family::V4;
  const std::string exported =
      neighbor.internal ? "source = RTS_BGP"
                        : "source = RTS_BGP || " + networkSet(router, neighbor.address.family);
  return fmt::format(
      "protocol bgp {}_{} from neighbour {{\n"
      "  description \"{}\";\n"
      "  source address {};\n"
      "  neighbor {} as {};\n"
      "  {} {{ import all; export where {};{} }};\n"
      "}}\n\n",
      symbolOf(neighbor.node), index, neighbor.node, toString(neighbor.source),
      toString(neighbor.address), neighbor.asn, v4 ? "ipv4" : "ipv6", exported,
      neighbor.internal ? " next hop self;" : "");
}

std::string birdBgp(const RouterConfig& router) {
  if (!router.asn) return {};
  std::string text = fmt::format(
      "template bgp neighbour {{\n  local as {};\n  connect delay time 1;\n"
      "  connect retry time 1;\n  error wait time 1, 5;\n  hold time {};\n"
      "  keepalive time {};\n}}\n\n",
      *router.asn, kBgpHoldSeconds, kBgpKeepaliveSeconds);
  for (size_t i = 0; i < router.neighbors.size(); ++i) {
    text += birdNeighbor(router, router.neighbors[i], i + 1);
  }
  return text;
}

}  // namespace

// The routes of OSPF and BGP go to the kernel, so the node forwards along them; the interfaces'
// own (direct) routes are the kernel's already. The loopback's 127.0.0.0/8 and ::1 stay out.
std::string birdConfig(const RouterConfig& router) {
  std::string text = fmt::format(
      "# Written by netlab from the topology. Edit it in place (not with sed -i: it is mounted)\n"
      "# and apply the change with birdc configure.\n"
      "log \"/tmp/bird.log\" all;\nrouter id {};\n\n"
      "protocol device {{ }}\n"
      "protocol direct {{\n  ipv4 {{ import where net != 127.0.0.0/8; }};\n"
      "  ipv6 {{ import where net != ::1/128; }};\n}}\n"
      "protocol kernel kernel4 {{ ipv4 {{ import none; export where source != RTS_DEVICE; }}; }}\n"
      "protocol kernel kernel6 {{ ipv6 {{ import none; export where source != RTS_DEVICE; }}; "
      "}}\n\n",
      toString(router.routerId));
  return text + birdOspf(router, Family::V4) + birdOspf(router, Family::V6) + birdBgp(router);
}

}  // namespace netlab::topo
