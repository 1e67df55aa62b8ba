#!/usr/bin/env python3
"""netlab's benchmark (issue 6): builds star, chain and fat-tree labs with netlab, with the kernel
floor (bench/floor.cpp), with an iproute2 `ip -batch` baseline and with Mininet (when installed),
checks each with pings, and prints medians and ratios. See bench/README.md.

It re-executes itself inside private network, mount and PID namespaces with a tmpfs on /run,
so it never sees or touches the machine's interfaces, namespaces or processes.
"""
import argparse
import datetime
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import labs  # noqa: E402
import report  # noqa: E402
import tools  # noqa: E402
from tools import Broken, log  # noqa: E402

INSIDE = "NETLAB_BENCH_ISOLATED"
# PID 1 of the private PID namespace is a shell: it reaps the node processes orphaned to it.
ISOLATE = """
ip link set lo up
mount -t tmpfs -o mode=0755 bench-run /run
"$@"
status=$?
exit $status
"""


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,100,1000",
                        help="nodes of the star and chain labs (default: 10,100,1000)")
    parser.add_argument("--big", action="store_true", help="add N=5000 to the sizes")
    parser.add_argument("--fat-tree", default="4,8", help="k of the fat-trees (default: 4,8)")
    parser.add_argument("--shapes", default="star,chain,fat-tree")
    parser.add_argument("--repeat", type=int, default=3, help="cycles per lab and tool")
    parser.add_argument("--netlab", default=os.path.join(tools.BENCH_DIR, "..", "build", "tools",
                                                         "netlab"))
    parser.add_argument("--floor", default=os.path.join(tools.BENCH_DIR, "..", "build", "bench",
                                                        "netlab-floor"))
    parser.add_argument("--tools", default="netlab,floor,ip-batch,mininet")
    parser.add_argument("--mininet-max", type=int, default=1024,
                        help="largest lab (in nodes, switches included) given to Mininet "
                             "(default: 1024, every N=1000 lab)")
    parser.add_argument("--mininet-repeat", type=int, default=1,
                        help="Mininet cycles per lab (default: 1: it takes minutes at N=1000)")
    parser.add_argument("--max-load", type=float, default=0.5,
                        help="the highest 1-minute load average a run may start at (default: "
                             "0.5); the benchmark first waits up to --settle seconds for it")
    parser.add_argument("--settle", type=int, default=300,
                        help="seconds to wait for the load average to fall to --max-load "
                             "(default: 300)")
    parser.add_argument("--loaded-ok", action="store_true",
                        help="measure on a busier machine anyway; the report says the figures "
                             "are unreliable")
    parser.add_argument("--output", action="append", default=[],
                        help="write results to FILE.md (markdown) or FILE.json; repeatable")
    args = parser.parse_args()
    args.netlab = os.path.abspath(args.netlab)
    args.floor = os.path.abspath(args.floor)
    args.output = [os.path.abspath(path) for path in args.output]
    return args


def isolate():
    """Re-executes the benchmark in its own namespaces (never returns)."""
    if os.geteuid() != 0:
        sys.exit("bench/run.py needs root: it builds namespaces (inside private ones)")
    env = dict(os.environ, **{INSIDE: "1"})
    argv = ["unshare", "--net", "--mount", "--pid", "--fork", "--mount-proc",
            "--propagation", "private", "--kill-child", "--", "bash", "-c", ISOLATE, "isolated",
            sys.executable, os.path.abspath(__file__)] + sys.argv[1:]
    os.execvpe("unshare", argv, env)


def plan(args):
    """[(shape, size)] in the order they are measured."""
    sizes = [int(size) for size in args.sizes.split(",") if size]
    if args.big and 5000 not in sizes:
        sizes.append(5000)
    shapes = args.shapes.split(",")
    runs = []
    for shape in shapes:
        for size in ([int(k) for k in args.fat_tree.split(",") if k] if shape == "fat-tree"
                     else sizes):
            runs.append((shape, size))
    return runs


def machine():
    cpus = os.cpu_count()
    model = ""
    with open("/proc/cpuinfo") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as meminfo:
        memory = int(meminfo.readline().split()[1]) // 1024
    return {"kernel": platform.release(), "cpus": cpus, "cpu": model, "memory_mib": memory,
            "load_at_start": load_average()}


def load_average():
    """The 1-, 5- and 15-minute load averages, as /proc/loadavg gives them."""
    with open("/proc/loadavg") as loadavg:
        return " ".join(loadavg.read().split()[:3])


def await_quiet(args):
    """Waits for the 1-minute load average to fall to --max-load; False if it did not within
    --settle seconds. A load average counts tasks running or waiting for the CPU (and in
    uninterruptible sleep): at 0.5 on two cores another program takes a quarter of the machine,
    and a figure taken beside it says as much about that program as about the tools."""
    deadline = time.monotonic() + args.settle
    while float(load_average().split()[0]) > args.max_load:
        if time.monotonic() > deadline:
            return False
        log(f"load average {load_average()}: waiting for it to fall to {args.max_load}")
        time.sleep(15)
    return True


def measure_lab(args, shape, size, available, workdir):
    lab = labs.SHAPES[shape](size)
    nodes = len(lab.nodes)
    load_before = load_average()
    records = {name: [] for name in available}
    failures = {}
    # Tools alternate within each repeat, so slow drifts in the machine's load hit all of them.
    for repeat in range(args.repeat):
        for name, tool in available.items():
            if name in failures:  # a tool that broke a lab once is not run on it again
                continue
            if name == "mininet":
                if nodes > args.mininet_max or repeat >= args.mininet_repeat:
                    continue
                timeout = 120 + nodes * 0.5
                attempt = lambda: tool.measure(shape, size, timeout)  # noqa: E731
            else:
                attempt = lambda: tools.measure_cycle(tool, lab, with_extras=repeat == 0)  # noqa: E731
            try:
                record = attempt()
            except Broken as broken:
                failures[name] = f"cycle {repeat + 1}: {broken}"
                log(f"  {name}: BROKEN: {broken}")
                continue
            records[name].append(record)
            log(f"  {name} #{repeat + 1}: up {record['up']:.3f} s, "
                f"down {record['down']:.3f} s (returned {record['down_returned']:.3f})")
    return {"shape": shape, "size": size, "nodes": nodes, "links": len(lab.links),
            "routes": sum(len(r) for r in lab.routes.values()), "records": records,
            "failures": failures, "load_before": load_before, "load_after": load_average()}


def main():
    args = parse_args()
    if os.environ.get(INSIDE) != "1":
        isolate()
    workdir = "/run/netlab-bench"
    os.makedirs(workdir, exist_ok=True)
    # netlab keeps its state under the private /run as well.
    os.environ["NETLAB_RUN_DIR"] = "/run/netlab"
    candidates = {"netlab": tools.Netlab(args.netlab, workdir),
                  "netlab-rootless": tools.RootlessNetlab(args.netlab, workdir),
                  "netlab-hostroot": tools.HostRootNetlab(args.netlab, workdir),
                  "floor": tools.Floor(args.floor, workdir), "ip-batch": tools.IpBatch(workdir),
                  "mininet": tools.Mininet()}
    available = {}
    for name in args.tools.split(","):
        reason = candidates[name].unavailable()
        if reason:
            log(f"{name}: skipped: {reason}")
        else:
            available[name] = candidates[name]
    quiet = await_quiet(args)
    if not quiet and not args.loaded_ok:
        sys.exit(f"bench/run.py: load average {load_average()} after {args.settle} s, above "
                 f"{args.max_load}: figures taken now would not be results (stop what runs, or "
                 "--loaded-ok to measure anyway, marked unreliable)")
    started = time.time()
    # Quoted as a shell would need it: `--fat-tree ""` must not read as a bare `--fat-tree`.
    command = shlex.join(["bench/run.py"] + sys.argv[1:])
    results = {"machine": machine(), "quiet": quiet, "max_load": args.max_load, "command": command,
               "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
               "repeat": args.repeat, "mininet_repeat": args.mininet_repeat,
               "netlab": args.netlab, "tools": list(available), "labs": []}
    for shape, size in plan(args):
        log(f"{shape} {size}:")
        results["labs"].append(measure_lab(args, shape, size, available, workdir))
    results["machine"]["load_at_end"] = " ".join(open("/proc/loadavg").read().split()[:3])
    results["seconds"] = round(time.time() - started, 1)
    print(report.markdown(results))
    for path in args.output:
        with open(path, "w") as out:
            if path.endswith(".json"):
                json.dump(results, out, indent=1)
            else:
                out.write(report.markdown(results))
        log(f"wrote {path}")


if __name__ == "__main__":
    main()
