"""The benchmark's labs, described once and written out for each tool that builds them.

A `Lab` is plain data: nodes (host, router or switch), point-to-point links with every interface
name and address written out, static routes, and the pings that prove the lab works. netlab gets
it as a topology (`to_netlab`), the iproute2 baseline as `ip -batch` files (`to_ip_batch`), and
Mininet through its Python API (mininet_lab.py). Writing every address and route by hand keeps
the three tools building exactly the same lab and keeps netlab's automatic addressing and
routing out of the comparison.
"""
import ipaddress
import json
import os
from dataclasses import dataclass, field

# A Linux bridge takes at most 1023 ports (BR_MAX_PORTS is 1024 and port 0 is reserved); a leaf
# switch keeps one port for its uplink to the core.
MAX_HOSTS_PER_SWITCH = 1000
# A reply leaves its node with the default TTL, 64 (net.ipv4.ip_default_ttl): a ping crosses at
# most 63 routers. A longer chain is checked in windows of 60 hops, each pinged end to end, that
# together cover every router.
PING_WINDOW = 60


@dataclass
class Endpoint:
    node: str
    interface: str
    address: str = ""  # "10.0.0.1/30"; empty on switch ports


@dataclass
class Lab:
    name: str
    shape: str
    size: int  # the size asked for: hosts (star), routers (chain) or k (fat-tree)
    nodes: dict = field(default_factory=dict)  # name -> "host" | "router" | "switch"
    links: list = field(default_factory=list)  # [(Endpoint, Endpoint)]
    routes: dict = field(default_factory=dict)  # node -> [(to, via)]
    checks: list = field(default_factory=list)  # [(node, address)]: pings that must answer

    def add_link(self, a, b):
        self.links.append((a, b))

    def add_route(self, node, to, via):
        self.routes.setdefault(node, []).append((to, via))


def _address(network, index, length):
    return f"{network.network_address + index}/{length}"


def star(count):
    """`count` hosts on one LAN: one switch up to 1000 hosts, leaf switches under a core beyond."""
    lab = Lab(f"star{count}", "star", count)
    lan = ipaddress.ip_network("10.0.0.0/16" if count < 65000 else "10.0.0.0/8")
    leaves = (count + MAX_HOSTS_PER_SWITCH - 1) // MAX_HOSTS_PER_SWITCH
    hosts = [f"h{i}" for i in range(count)]
    for host in hosts:
        lab.nodes[host] = "host"
    switches = [f"s{i}" for i in range(leaves)]
    for switch in switches:
        lab.nodes[switch] = "switch"
    if leaves > 1:
        lab.nodes["core"] = "switch"
        for switch in switches:
            lab.add_link(Endpoint(switch, "up"), Endpoint("core", f"p{switch}"))
    for i, host in enumerate(hosts):
        switch = switches[i // MAX_HOSTS_PER_SWITCH]
        lab.add_link(Endpoint(host, "eth0", _address(lan, i + 1, lan.prefixlen)),
                     Endpoint(switch, f"p{i % MAX_HOSTS_PER_SWITCH}"))
    last = lan.network_address + count
    lab.checks.append((hosts[0], str(last)))
    return lab


def _cover(first, last):
    """The fewest networks covering the addresses first..last (inclusive)."""
    return list(ipaddress.summarize_address_range(first, last))


def chain(count):
    """`count` routers in a row, /30 links numbered in order from 10.0.0.0. Router i routes
    everything left of its left neighbour through it (a handful of covering networks) and
    everything else through its right neighbour (a default route): every router reaches every
    link address."""
    if count < 2:
        raise ValueError("a chain needs at least 2 routers")
    lab = Lab(f"chain{count}", "chain", count)
    base = ipaddress.ip_address("10.0.0.0")
    routers = [f"r{i}" for i in range(count)]
    for router in routers:
        lab.nodes[router] = "router"

    def link_address(link, side):  # side 1: the left router's end, 2: the right router's
        return base + 4 * link + side

    for i in range(count - 1):
        left = "eth1" if i > 0 else "eth0"
        lab.add_link(Endpoint(routers[i], left, f"{link_address(i, 1)}/30"),
                     Endpoint(routers[i + 1], "eth0", f"{link_address(i, 2)}/30"))
    for i, router in enumerate(routers):
        if i < count - 1:
            lab.add_route(router, "default", str(link_address(i, 2)))
        else:
            lab.add_route(router, "default", str(link_address(i - 1, 1)))
        if 2 <= i < count - 1:
            for network in _cover(base, base + 4 * (i - 1) - 1):
                lab.add_route(router, str(network), str(link_address(i - 1, 1)))
    # Windows of at most PING_WINDOW hops, each from a router to the far end of the window.
    start = 0
    while start < count - 1:
        end = min(start + PING_WINDOW, count - 1)
        lab.checks.append((routers[start], str(link_address(end - 1, 2))))
        start = end
    return lab


def fat_tree(k):
    """A k-ary fat-tree of routers (k pods of k/2 edge and k/2 aggregation routers, (k/2)^2
    cores) with k/2 hosts on each edge router: k^3/4 hosts. Routed, not bridged: a bridged
    fat-tree has loops. One path per destination (no ECMP): edge e goes up through aggregation
    e, aggregation a through core a*k/2; a core reaches pod p through its aggregation router
    there, which routes each edge's hosts to that edge."""
    if k < 2 or k % 2:
        raise ValueError("a fat-tree needs an even k >= 2")
    half = k // 2
    lab = Lab(f"fattree{k}", "fat-tree", k)
    fabric = ipaddress.ip_address("172.16.0.0")
    next_fabric = [0]

    def fabric_link(lower, lower_if, upper, upper_if):
        net = fabric + 4 * next_fabric[0]
        next_fabric[0] += 1
        lab.add_link(Endpoint(lower, lower_if, f"{net + 1}/30"),
                     Endpoint(upper, upper_if, f"{net + 2}/30"))
        return str(net + 1), str(net + 2)  # lower's address, upper's address

    cores = [f"c{j}" for j in range(half * half)]
    for pod in range(k):
        for e in range(half):
            lab.nodes[f"e{pod}_{e}"] = "router"
        for a in range(half):
            lab.nodes[f"a{pod}_{a}"] = "router"
    for core in cores:
        lab.nodes[core] = "router"
    for pod in range(k):
        for e in range(half):
            edge = f"e{pod}_{e}"
            for h in range(half):
                host = f"h{pod}_{e}_{h}"
                lab.nodes[host] = "host"
                net = ipaddress.ip_address(f"10.{pod}.{e}.{4 * h}")
                lab.add_link(Endpoint(edge, f"eth{h}", f"{net + 1}/30"),
                             Endpoint(host, "eth0", f"{net + 2}/30"))
                lab.add_route(host, "default", str(net + 1))
        for a in range(half):
            agg = f"a{pod}_{a}"
            for e in range(half):
                edge = f"e{pod}_{e}"
                edge_addr, agg_addr = fabric_link(edge, f"eth{half + a}", agg, f"eth{e}")
                lab.add_route(agg, f"10.{pod}.{e}.0/24", edge_addr)
                if a == e % half:
                    lab.add_route(edge, "default", agg_addr)
            for j in range(half):
                core = cores[a * half + j]
                agg_addr, core_addr = fabric_link(agg, f"eth{half + j}", core, f"eth{pod}")
                if j == 0:
                    lab.add_route(agg, "default", core_addr)
                lab.add_route(core, f"10.{pod}.0.0/16", agg_addr)
    last = ipaddress.ip_address(f"10.{k - 1}.{half - 1}.{4 * (half - 1)}") + 2
    lab.checks.append(("h0_0_0", str(last)))
    return lab


SHAPES = {"star": star, "chain": chain, "fat-tree": fat_tree}


def to_netlab(lab, defaults=None):
    """The lab as a netlab topology: everything written out, no automatic addressing; with
    `defaults`, the topology's defaults for every node."""
    nodes = {}
    for name, kind in lab.nodes.items():
        node = {"kind": kind}
        if kind == "router":
            node["loopback"] = False
        if name in lab.routes:
            node["routes"] = [{"to": to, "via": via} for to, via in lab.routes[name]]
        nodes[name] = node

    def endpoint(end):
        out = {"node": end.node, "interface": end.interface}
        if end.address:
            out["addresses"] = end.address
        return out

    links = [[endpoint(a), endpoint(b)] for a, b in lab.links]
    topology = {"version": 1, "name": lab.name, "addressing": False, "nodes": nodes,
                "links": links}
    if defaults:
        topology["defaults"] = defaults
    return topology


def write_netlab(lab, directory, defaults=None):
    path = os.path.join(directory, f"{lab.name}.json")
    with open(path, "w") as out:
        json.dump(to_netlab(lab, defaults), out)
    return path


def to_ip_batch(lab):
    """The lab as iproute2 batches: one for the namespaces and links (each veth born with both
    ends in their namespaces), and one per node for what happens inside it (bridge, addresses,
    links up, routes), to be run with `ip -n NODE -batch`. Returns (links, {node: lines})."""
    top = [f"netns add {name}" for name in lab.nodes]
    inside = {name: [] for name in lab.nodes}
    for name, kind in lab.nodes.items():
        if kind == "switch":
            inside[name].append("link add br0 type bridge")
    for a, b in lab.links:
        top.append(f"link add {a.interface} netns {a.node} type veth "
                   f"peer name {b.interface} netns {b.node}")
        for end in (a, b):
            lines = inside[end.node]
            # Without an IPv6 address the interface needs no link-local one: no DAD, no MLD
            # flood on big bridges.
            lines.append(f"link set {end.interface} addrgenmode none")
            if end.address:
                lines.append(f"address add {end.address} dev {end.interface}")
            if lab.nodes[end.node] == "switch":
                lines.append(f"link set {end.interface} master br0")
            lines.append(f"link set {end.interface} up")
    for name, kind in lab.nodes.items():
        lines = inside[name]
        lines.insert(0, "link set lo up")
        if kind == "switch":
            lines.append("link set br0 up")
        for to, via in lab.routes.get(name, []):
            lines.append(f"route add {to} via {via}")
    return top, inside


def routers(lab):
    return [name for name, kind in lab.nodes.items() if kind == "router"]
