#!/usr/bin/python3
"""One Mininet cycle for the benchmark: `mininet_lab.py SHAPE SIZE` builds the lab of labs.py
with Mininet's Python API (Linux bridges, no controller, so no Open vSwitch), checks it with the
lab's pings, watches probes in sampled nodes while `net.stop()` removes it, and prints one JSON
record: {"up": s, "down_returned": s, "down_settled": s, "down": s, "pss_per_node_kib": KiB}.

Run by the system Python (Debian's mininet package installs its module there), inside the
benchmark's private namespaces: run.py starts it.
"""
import json
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import kernel  # noqa: E402
import labs  # noqa: E402

import mininet.net  # noqa: E402
import mininet.util  # noqa: E402
from mininet.log import setLogLevel  # noqa: E402
from mininet.nodelib import LinuxBridge  # noqa: E402


def no_host_wide_limits():
    """Mininet's fixLimits raises host-wide sysctls (kernel.pty.max, fs.file-max, net.core.*),
    which a private network namespace does not contain: only the process limits are raised."""
    for limit, value in ((resource.RLIMIT_NOFILE, 65536), (resource.RLIMIT_NPROC, 65536)):
        soft, hard = resource.getrlimit(limit)
        wanted = value if hard == resource.RLIM_INFINITY else min(value, hard)
        if soft != resource.RLIM_INFINITY and soft < wanted:
            resource.setrlimit(limit, (wanted, hard))


mininet.net.fixLimits = no_host_wide_limits
mininet.util.fixLimits = no_host_wide_limits


def build(lab):
    net = mininet.net.Mininet(switch=LinuxBridge, controller=None, build=False,
                              autoSetMacs=False, autoStaticArp=False, waitConnected=False)
    nodes = {}
    for index, (name, kind) in enumerate(lab.nodes.items()):
        if kind == "switch":
            nodes[name] = net.addSwitch(name, dpid=f"{index + 1:x}")
        else:
            nodes[name] = net.addHost(name, ip=None)
    for a, b in lab.links:
        net.addLink(nodes[a.node], nodes[b.node],
                    params1={"ip": a.address} if a.address else {},
                    params2={"ip": b.address} if b.address else {})
    net.build()
    net.start()
    for name, kind in lab.nodes.items():
        commands = []
        if kind == "router":
            commands.append("sysctl -qw net.ipv4.ip_forward=1")
        routes = lab.routes.get(name, [])
        if routes:
            lines = "\\n".join(f"route add {to} via {via}" for to, via in routes)
            commands.append(f"printf '{lines}\\n' | ip -batch -")
        if commands:
            nodes[name].cmd("; ".join(commands))
    return net, nodes


def check(lab, nodes):
    for node, address in kernel.arp_paced(lab.checks):
        for attempt in range(5):  # retried as in tools.ping_ok: the ARP table may overflow
            if attempt >= 2:
                time.sleep(5.5)
            if " 0% packet loss" in nodes[node].cmd(f"ping -n -t 255 -c1 -W2 {address}"):
                break
        else:
            raise RuntimeError(f"{node} cannot ping {address}")


def main():
    shape, size = sys.argv[1], int(sys.argv[2])
    setLogLevel("error")
    lab = labs.SHAPES[shape](size)
    start = time.perf_counter()
    net, nodes = build(lab)
    record = {"up": time.perf_counter() - start}
    try:
        check(lab, nodes)
        hosts = [name for name, kind in lab.nodes.items() if kind != "switch"]
        pss = [kernel.tree_pss_kib(nodes[name].pid) for name in hosts]
        record["pss_per_node_kib"] = sum(pss) / len(pss)
        probes = kernel.Probes([str(nodes[name].pid) for name in kernel.sample(hosts, 12)])
    except Exception as failure:
        net.stop()
        print(json.dumps({"error": str(failure)}))
        return
    start = time.perf_counter()
    net.stop()
    returned = time.perf_counter() - start
    _, gone = probes.wait_gone(start)
    record["down_returned"] = returned
    record["down_settled"] = gone
    record["down"] = max(returned, gone or 0)
    if gone is None:
        record["error"] = f"probes still present after net.stop(): {probes.left()}"
    print(json.dumps(record))


if __name__ == "__main__":
    main()
