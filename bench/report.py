"""The benchmark's results as markdown tables (what docs/performance.md shows)."""
import statistics


def _median(records, key):
    values = [record[key] for record in records if record.get(key) is not None]
    return statistics.median(values) if values else None


def _seconds(value):
    if value is None:
        return "—"
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def _ratio(other, netlab):
    if other is None or netlab is None or netlab == 0:
        return "—"
    return f"{other / netlab:.1f}x"


def _cell(lab, tool, key):
    """The median over the cycles whose lab answered its pings (a later broken cycle is listed
    under the tables; `!` marks its figures)."""
    return _median(lab["records"].get(tool, []), key)


def _lab_name(lab):
    if lab["shape"] == "fat-tree":
        return f"fat-tree k={lab['size']}"
    return f"{lab['shape']} {lab['size']}"


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _comparison(results, key, title):
    header = ["lab", "nodes", "netlab s", "floor s", "ip-batch s", "mininet s", "netlab / floor",
              "ip-batch / netlab", "mininet / netlab", "netlab ms/node", "floor ms/node"]
    rows = []
    for lab in results["labs"]:
        netlab = _cell(lab, "netlab", key)
        floor = _cell(lab, "floor", key)
        ip = _cell(lab, "ip-batch", key)
        mininet = _cell(lab, "mininet", key)

        def per_node(value):
            return f"{value * 1000 / lab['nodes']:.2f}" if value is not None else "—"

        def mark(tool, text):
            return text + " !" if tool in lab["failures"] and text != "—" else text

        rows.append([_lab_name(lab), str(lab["nodes"]), mark("netlab", _seconds(netlab)),
                     mark("floor", _seconds(floor)), mark("ip-batch", _seconds(ip)),
                     mark("mininet", _seconds(mininet)), _ratio(netlab, floor),
                     _ratio(ip, netlab), _ratio(mininet, netlab), per_node(netlab),
                     per_node(floor)])
    return f"### {title}\n\n" + _table(header, rows)


def _details(results):
    header = ["lab", "nodes", "links", "routes", "netlab down returned s", "kernel settled s",
              "exec median ms", "exec p90 ms", "ip netns exec ms", "node PSS KiB",
              "mininet node PSS KiB", "netlab peak RSS MiB"]
    rows = []
    for lab in results["labs"]:
        def ms(tool, key):
            value = _cell(lab, tool, key)
            return f"{value * 1000:.2f}" if value is not None else "—"

        def kib(tool, key, scale=1):
            value = _cell(lab, tool, key)
            return f"{value / scale:.0f}" if value is not None else "—"

        rows.append([_lab_name(lab), str(lab["nodes"]), str(lab["links"]), str(lab["routes"]),
                     _seconds(_cell(lab, "netlab", "down_returned")),
                     _seconds(_cell(lab, "netlab", "down_settled")),
                     ms("netlab", "exec_median"), ms("netlab", "exec_p90"),
                     ms("ip-batch", "exec_median"), kib("netlab", "pss_per_node_kib"),
                     kib("mininet", "pss_per_node_kib"),
                     f"{_cell(lab, 'netlab', 'peak_rss_kib') / 1024:.1f}"
                     if _cell(lab, "netlab", "peak_rss_kib") is not None else "—"])
    return "### netlab in detail\n\n" + _table(header, rows)


def _spread(lab, tool, key):
    """median (min–max) of the tool's cycles."""
    values = [record[key] for record in lab["records"].get(tool, []) if record.get(key) is not None]
    if not values:
        return "—"
    return (f"{_seconds(statistics.median(values))} "
            f"({_seconds(min(values))}–{_seconds(max(values))})")


def _spreads(results):
    """up and down of netlab and the floor, median (min–max): what a ratio of medians hides."""
    header = ["lab", "netlab up s", "floor up s", "netlab down s", "floor down s"]
    rows = [[_lab_name(lab), _spread(lab, "netlab", "up"), _spread(lab, "floor", "up"),
             _spread(lab, "netlab", "down"), _spread(lab, "floor", "down")]
            for lab in results["labs"]]
    return "### Spread (median, min–max, seconds)\n\n" + _table(header, rows)


def _rootless(results):
    """netlab as an ordinary user (docs/rootless.md) beside netlab as root, same labs, same run."""
    if "netlab-rootless" not in results["tools"]:
        return ""
    header = ["lab", "nodes", "root up s", "rootless up s", "rootless / root", "root down s",
              "rootless down s", "rootless exec median ms"]
    rows = []
    for lab in results["labs"]:
        exec_median = _cell(lab, "netlab-rootless", "exec_median")
        root, rootless = _cell(lab, "netlab", "up"), _cell(lab, "netlab-rootless", "up")
        rows.append([_lab_name(lab), str(lab["nodes"]), _spread(lab, "netlab", "up"),
                     _spread(lab, "netlab-rootless", "up"),
                     f"{rootless / root:.2f}x" if root and rootless else "—",
                     _spread(lab, "netlab", "down"), _spread(lab, "netlab-rootless", "down"),
                     f"{exec_median * 1000:.2f}" if exec_median is not None else "—"])
    return ("### netlab without root beside netlab as root (median, min–max, seconds)\n\n" +
            _table(header, rows))


def _overlay(results):
    """netlab's default overlay roots beside the host's root for every node, same labs, same run."""
    if "netlab-hostroot" not in results["tools"]:
        return ""
    header = ["lab", "nodes", "overlay roots up s", "host's root up s", "overlay per node ms",
              "overlay roots down s", "host's root down s"]
    rows = []
    for lab in results["labs"]:
        overlay, host = _cell(lab, "netlab", "up"), _cell(lab, "netlab-hostroot", "up")
        per_node = (f"{(overlay - host) / lab['nodes'] * 1000:.3f}"
                    if overlay is not None and host is not None else "—")
        rows.append([_lab_name(lab), str(lab["nodes"]), _spread(lab, "netlab", "up"),
                     _spread(lab, "netlab-hostroot", "up"), per_node,
                     _spread(lab, "netlab", "down"), _spread(lab, "netlab-hostroot", "down")])
    return ("### Overlay roots (the default) beside the host's root for every node (median, "
            "min–max, seconds)\n\n" + _table(header, rows))


def _phases(results):
    """Where `up`'s time goes: each phase's median for netlab (`netlab up --timings`) beside the
    floor's for the phases the floor has too (the same names, bench/floor.cpp)."""
    if "netlab" not in results["tools"]:
        return ""
    header = ["lab", "phase", "netlab s (min–max)", "floor s (min–max)"]
    rows = []
    for lab in results["labs"]:
        netlab = lab["records"].get("netlab", [])
        floor = lab["records"].get("floor", [])
        phases = list(dict.fromkeys(phase for record in netlab for phase in record.get("phases", {})))
        for phase in phases:
            rows.append([_lab_name(lab), phase, _phase_spread(netlab, phase),
                         _phase_spread(floor, phase)])
    return "### Phases of up (median, min–max, seconds)\n\n" + _table(header, rows)


def _phase_spread(records, phase):
    values = [record["phases"][phase] for record in records if phase in record.get("phases", {})]
    if not values:
        return "—"
    return f"{statistics.median(values):.3f} ({min(values):.3f}–{max(values):.3f})"


def _loads(results):
    header = ["lab", "load average before", "after"]
    rows = [[_lab_name(lab), lab.get("load_before", "?"), lab.get("load_after", "?")]
            for lab in results["labs"]]
    return "### Load average (1, 5, 15 minutes) around each lab\n\n" + _table(header, rows)


def _failures(results):
    lines = []
    for lab in results["labs"]:
        for tool, why in lab["failures"].items():
            lines.append(f"- {_lab_name(lab)}, {tool}: {why}")
    title = ("### Broken labs (no figure of a broken cycle is kept; `!`: a later cycle of this "
             "tool broke, the median is of the cycles before)")
    return title + "\n\n" + "\n".join(lines) if lines else ""


def markdown(results):
    machine = results["machine"]
    counts = {tool: max((len(lab["records"].get(tool, [])) for lab in results["labs"]), default=0)
              for tool in results["tools"]}
    intro = [] if results.get("quiet", True) else [
        f"**Unreliable**: the machine was busy (load average {machine['load_at_start']} at the "
        f"start, above {results.get('max_load')}): these figures are not results."]
    intro += [
        f"Machine: {machine['cpus']} CPUs ({machine['cpu']}), {machine['memory_mib']} MiB, "
        f"Linux {machine['kernel']}; load average {machine['load_at_start']} at the start, "
        f"{machine.get('load_at_end', '?')} at the end (the machine is shared: medians).",
        f"Command: `{results['command']}` ({results['date']}, {results['seconds']} s in all).",
        "Cycles per lab: " + ", ".join(f"{tool} {count}" for tool, count in counts.items())
        + ". Every lab answered its pings before any figure of it was kept.",
        "Each figure is the median of the cycles; the spread (min–max) is in the tables that "
        "show it.",
        "`up`: until the command returned (the lab usable). `down`: until the command returned "
        "and the kernel had removed the sampled nodes' namespaces (probe veths gone).",
        "floor: the same lab's raw kernel work and nothing else (bench/floor.cpp): every node a "
        "process in six namespaces, the veths born in them, the netlink requests netlab sends.",
    ]
    parts = ["\n".join(intro), _comparison(results, "up", "up (median seconds)"),
             _comparison(results, "down", "down, kernel settled (median seconds)"),
             _spreads(results), _details(results), _phases(results), _rootless(results),
             _overlay(results), _loads(results), _failures(results)]
    return "\n\n".join(part for part in parts if part) + "\n"
