// A RouterConfig as FRR's files. The syntax is FRR 8.4's (Debian 12), checked with
// `vtysh -C -f frr.conf`; per-interface areas (`ip ospf area`) so that each interface says
// everything about itself, and a student reads one block per interface.
#include <fmt/format.h>


#include "topo/routing.hpp"

namespace netlab::topo {
namespace {

// The settings of one OSPF version on one interface; `ip ospf` or `ipv6 ospf6`.
std::string ospfInterfaceLines(const OspfInterface& interface, std::string_view prefix) {
  std::string text = fmt::format(" {} area {}\n", prefix, dottedArea(interface.area));
  if (interface.passive) {
    text += fmt::format(" {} passive\n", prefix);
  } else {
    text += fmt::format(" {} network {}\n", prefix,
                        interface.pointToPoint ? "point-to-point" : "broadcast");
    text += fmt::format(" {} hello-interval {}\n", prefix, kOspfHelloSeconds);
    text += fmt::format(" {} dead-interval {}\n", prefix, kOspfDeadSeconds);
  }
  if (interface.cost) text += fmt::format(" {} cost {}\n", prefix, *interface.cost);
  return text;
}

std::string ospfInterfaces(const RouterConfig& router) {
  std::string text;
  for (const OspfInterface& interface : router.ospf) {
    text += fmt::format("interface {}\n", interface.name);
    if (interface.ipv4) text += ospfInterfaceLines(interface, "ip ospf");
    if (interface.ipv6) text += ospfInterfaceLines(interface, "ipv6 ospf6");
    text += "exit\n!\n";
  }
  return text;
}

// SPF and LSA throttling off: routes are recomputed at once, not after the seconds of hold-down
// that protect a large network from flapping links.
std::string ospfProcesses(const RouterConfig& router) {
  const std::string id = toString(router.routerId);
  std::string text;
  if (router.runsOspfv2()) {
    text += fmt::format(
        "router ospf\n ospf router-id {}\n timers throttle spf 0 50 500\n"
        " timers throttle lsa all 0\n timers lsa min-arrival 0\nexit\n!\n",
        id);
  }
  if (router.runsOspfv3()) {
    text += fmt::format(
        "router ospf6\n ospf6 router-id {}\n timers throttle spf 0 50 500\n"
        " timers lsa min-arrival 0\nexit\n!\n",
        id);
  }
  return text;
}

std::string bgpNeighbors(const RouterConfig& router) {
  std::string text;
  for (const BgpNeighbor& neighbor : router.neighbors) {
    const std::string address = toString(neighbor.address);
    text += fmt::format(" neighbor {} remote-as {}\n", address, neighbor.asn);
    text += fmt::format(" neighbor {} description {}\n", address, neighbor.node);
    text += fmt::format(" neighbor {} timers connect 1\n", address);
    text += fmt::format(" neighbor {} advertisement-interval 0\n", address);
    if (neighbor.internal) text += fmt::format(" neighbor {} update-source lo\n", address);
  }
  return text;
}

// Sessions carry the family of their addresses only. Routes learned from another AS are passed
// on inside the AS with this router as their next hop, which the AS's IGP knows how to reach.
std::string bgpAddressFamily(const RouterConfig& router, Family family) {
  std::string text;
  for (const IpPrefix& network : router.announced) {
    if (network.address.family == family) text += fmt::format("  network {}\n", toString(network));
  }
  for (const BgpNeighbor& neighbor : router.neighbors) {
    if (neighbor.address.family != family) continue;
    const std::string address = toString(neighbor.address);
    text += fmt::format("  neighbor {} activate\n", address);
    if (neighbor.internal) text += fmt::format("  neighbor {} next-hop-self\n", address);
  }
  if (text.empty()) return text;
  return fmt::format(" address-family {} unicast\n{} exit-address-family\n",
                     family == Family::V4 ? "ipv4" : "ipv6", text);
}

// Labs have no policies: without `no bgp ebgp-requires-policy` FRR would send and accept
// nothing over eBGP (RFC 8212).
std::string bgpProcess(const RouterConfig& router) {
  if (!router.asn) return {};
  std::string text =
      fmt::format("router bgp {}\n bgp router-id {}\n", *router.asn, toString(router.routerId));
  text += " no bgp ebgp-requires-policy\n no bgp default ipv4-unicast\n";
  text += fmt::format(" timers bgp {} {}\n", kBgpKeepaliveSeconds, kBgpHoldSeconds);
  text += bgpNeighbors(router);
  text += bgpAddressFamily(router, Family::V4);
  text += bgpAddressFamily(router, Family::V6);
  return text + "exit\n!\n";
}

}  // namespace

std::string frrConfig(const RouterConfig& router) {
  std::string text = fmt::format(
      "! Written by netlab from the topology. Edit it in place (not with sed -i: it is mounted)\n"
      "! and apply the change with /usr/lib/frr/frrinit.sh restart.\n"
      "frr defaults traditional\nhostname {}\nlog file /tmp/frr.log\n"
      "service integrated-vtysh-config\n!\n",
      router.hostname);
  return text + ospfInterfaces(router) + ospfProcesses(router) + bgpProcess(router);
}

// Each daemon listens for vty connections on the node's own loopback only; zebra's large
// netlink buffer keeps it from losing kernel messages when many routes change at once.
std::string frrDaemons(const RouterConfig& router) {
  auto yesNo = [](bool on) { return on ? "yes" : "no"; };
  return fmt::format(
      "# Written by netlab: the FRR daemons this router runs, read by /usr/lib/frr/frrinit.sh.\n"
      "# zebra and staticd always run. Sockets and pid files go to the node's own /run/frr.\n"
      "ospfd={}\nospf6d={}\nbgpd={}\nvtysh_enable=yes\n"
      "zebra_options=\"  -A 127.0.0.1 -s 90000000\"\n"
      "ospfd_options=\"  -A 127.0.0.1\"\n"
      "ospf6d_options=\" -A 127.0.0.1\"\n"
      "bgpd_options=\"   -A 127.0.0.1\"\n"
      "staticd_options=\"-A 127.0.0.1\"\n",
      yesNo(router.runsOspfv2()), yesNo(router.runsOspfv3()), yesNo(router.asn.has_value()));
}

std::string frrVtyshConfig() {
  return "service integrated-vtysh-config\n";
}

}  // namespace netlab::topo
