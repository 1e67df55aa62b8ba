"""The tools the benchmark compares, each able to build a lab, prove it works, and remove it.

Every `up` is timed from the start of the command until it returns; every `down` until the
command returned and the kernel has removed every sampled node's namespace (see kernel.Probes).
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import kernel
import labs

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
PROBES = 12  # nodes per lab whose namespaces are watched during `down`
EXEC_SAMPLES = 100


class Broken(Exception):
    """A lab that did not come up or did not answer: its figures are not reported."""


def run_timed(argv, account=None):
    """Runs argv (as account, an Account, when given); returns (wall seconds, peak RSS of the
    process in KiB, its stdout)."""
    # Output goes to files, not pipes: waiting for the process with a full pipe would deadlock.
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        process = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                   **account_options(account))
        # wait4 rather than wait: its rusage holds the process's own peak RSS.
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if process.returncode != 0:
            raise Broken(f"{' '.join(argv[:3])}... exited {process.returncode}: "
                         f"{err.read().strip()[-800:]}")
        return elapsed, usage.ru_maxrss, out.read()


def ping_ok(argv_prefix, address, account=None):
    """A ping answered. The kernel's ARP table is shared by every namespace and holds at most
    gc_thresh3 (1024, settable only from the host's namespace) entries younger than 5 s: a
    chain of 1000 routers checked window after window overflows it ("neighbor table overflow")
    and drops packets. So a failed ping is retried once at once, then after 5.5 s (twice) and
    11 s (twice), when older entries may be evicted."""
    for attempt in range(6):
        if attempt >= 2:
            time.sleep(5.5 if attempt < 4 else 11)
        done = subprocess.run(argv_prefix + ["ping", "-n", "-q", "-t", "255", "-c1", "-W2",
                                             address],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              **account_options(account))
        if done.returncode == 0:
            return True
    return False


def verify_clean(what):
    """After a down: no interface of ours but lo, no process left in our PID namespace."""
    problems = []
    if kernel.interfaces():
        problems.append(f"interfaces left: {kernel.interfaces()[:5]}")
    stray = kernel.stray_processes()
    if stray:
        problems.append(f"processes left: {stray[:5]}")
    if problems:
        raise Broken(f"{what} left residue: {'; '.join(problems)}")


class Tool:
    """What measure_cycle asks of a tool that builds a lab with one command and removes it
    with another."""

    def start_down(self, lab):
        """Starts removing the lab; returns the process whose end is `down` returning."""
        return subprocess.Popen(self.down_argv(lab), stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)


class Account:
    """An ordinary user the benchmark runs a rootless netlab as (docs/rootless.md): a uid no
    account and no process has, its own gid, no supplementary groups, and a runtime directory
    on the benchmark's private /run. Its single-id lab has no subordinate range."""

    def __init__(self, uid):
        self.uid = uid
        self.runtime = f"/run/user/{uid}"
        os.makedirs(self.runtime, mode=0o700, exist_ok=True)
        os.chown(self.runtime, uid, uid)
        self.environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                            "XDG_RUNTIME_DIR": self.runtime, "HOME": "/"}


def account_options(account):
    """subprocess's arguments that run a command as the account (none for root)."""
    if account is None:
        return {}
    return {"user": account.uid, "group": account.uid, "extra_groups": [],
            "env": account.environment, "cwd": "/"}


class Netlab(Tool):
    name = "netlab"
    account = None  # root
    defaults = None  # the topology's defaults for every node: none, netlab's own

    def __init__(self, binary, workdir):
        self.binary = binary
        self.workdir = workdir

    def unavailable(self):
        return "" if os.access(self.binary, os.X_OK) else f"no program at {self.binary} (build it)"

    def run(self, *arguments):
        return run_timed([self.binary, *arguments], self.account)

    def up(self, lab):
        topology = labs.write_netlab(lab, self.workdir, self.defaults)
        seconds, peak_kib, out = self.run("up", "--quiet", "--timings", topology)
        return {"up": seconds, "peak_rss_kib": peak_kib, "phases": _phases_from_table(out)}

    def node_pids(self, lab):
        _, _, out = self.run("status", lab.name, "--format", "json")
        return _pids_from_status(json.loads(out))

    def check(self, lab):
        for node, address in kernel.arp_paced(lab.checks):
            if not ping_ok([self.binary, "exec", node, "--"], address, self.account):
                raise Broken(f"{self.name} {lab.name}: {node} cannot ping {address}")

    def extras(self, lab, pids):
        """Exec latency and memory, measured on a built lab."""
        node = next(iter(lab.nodes))
        latencies = []
        for _ in range(EXEC_SAMPLES):
            seconds, _, _ = self.run("exec", node, "true")
            latencies.append(seconds)
        pss = [kernel.tree_pss_kib(pid) for pid in pids.values()]
        return {"exec_median": statistics.median(latencies),
                "exec_p90": statistics.quantiles(latencies, n=10)[-1],
                "pss_per_node_kib": sum(pss) / len(pss)}

    def probe_targets(self, lab, pids):
        return [str(pids[node]) for node in kernel.sample(lab.nodes, PROBES)]

    def down_argv(self, lab):
        return [self.binary, "down", lab.name]

    def start_down(self, lab):
        return subprocess.Popen(self.down_argv(lab), stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True, **account_options(self.account))

    def verify_gone(self, lab):
        _, _, out = self.run("ls")
        if lab.name in out.split():
            raise Broken(f"{self.name} ls still lists {lab.name}")


class HostRootNetlab(Netlab):
    """netlab with every node on the host's root ("root": "host"), not an overlay of its own:
    beside netlab, what the overlay roots cost."""
    name = "netlab-hostroot"
    defaults = {"root": "host"}


class RootlessNetlab(Netlab):
    """netlab run by an ordinary user: the same labs in a user namespace of the user's."""
    name = "netlab-rootless"
    uid = 2_999_999  # above the ids useradd and the tests hand out

    def unavailable(self):
        if super().unavailable():
            return super().unavailable()
        if self.account is None:
            self.account = Account(self.uid)
            # The topologies are written here; the user reads them.
            os.chmod(self.workdir, 0o755)
        # The user, not root, must reach and run the binary.
        try:
            self.run("--version")
        except Broken as broken:
            return f"uid {self.uid} cannot run {self.binary}: {broken}"
        return ""


def _phases_from_table(out):
    """phase -> seconds from the table `netlab up --timings` prints after its summary."""
    phases = {}
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split() == ["phase", "seconds"])
    for line in lines[header + 1:]:
        phase, seconds = line.rsplit(maxsplit=1)
        if phase != "total":
            phases[phase.strip()] = float(seconds)
    return phases


def _pids_from_status(status):
    """node name -> PID from `netlab status --format json`, whatever its nesting."""
    pids = {}
    nodes = status.get("nodes", status) if isinstance(status, dict) else status
    if isinstance(status, list) and status and "nodes" in status[0]:
        nodes = status[0]["nodes"]
    if isinstance(nodes, dict):
        nodes = [dict(value, name=key) for key, value in nodes.items()]
    for node in nodes:
        pids[node["name"]] = int(node["pid"])
    return pids


class IpBatch(Tool):
    """The best a shell user can do with iproute2: one `ip -batch` creating every network
    namespace and every veth with both ends born in their namespaces, then one `ip -batch` per
    node (two at a time, one per core) for the bridge, addresses, links up and routes, and
    forwarding on routers with sysctl. Network namespaces only: no processes, no other
    namespaces. Nodes are entered with `nsenter --net`, not `ip -n`: `ip -n` also makes a
    mount namespace, copying every /run/netns mount, which at 1000 nodes costs ~20 ms a node."""
    name = "ip-batch"

    def __init__(self, workdir):
        self.workdir = workdir

    def unavailable(self):
        return _missing_programs("ip", "xargs", "nsenter", "sysctl")

    def write_script(self, lab):
        top, inside = labs.to_ip_batch(lab)
        directory = os.path.join(self.workdir, f"ip-{lab.name}")
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, "links.batch"), "w") as out:
            out.write("\n".join(top) + "\n")
        commands = []
        # Switches last: a port whose peer comes up after it has joined the bridge costs the
        # bridge a walk over all its ports (a 1000-host star: 16 s instead of 9 s).
        order = sorted(inside, key=lambda node: lab.nodes[node] == "switch")
        for node in order:
            lines = inside[node]
            path = os.path.join(directory, f"{node}.batch")
            with open(path, "w") as out:
                out.write("\n".join(lines) + "\n")
            commands.append(f"nsenter --net=/run/netns/{node} ip -batch {path}")
        for router in labs.routers(lab):
            commands.append(f"nsenter --net=/run/netns/{router} sysctl -qw net.ipv4.ip_forward=1")
        with open(os.path.join(directory, "nodes.cmds"), "w") as out:
            out.write("\n".join(commands) + "\n")
        script = os.path.join(directory, "up.sh")
        with open(script, "w") as out:
            out.write("set -e\n"
                      f"ip -batch {directory}/links.batch\n"
                      f"xargs -P 2 -L 1 env < {directory}/nodes.cmds\n")
        down = os.path.join(directory, "down.sh")
        with open(down, "w") as out:
            out.write("ip -all netns delete\n")
        return script, down

    def up(self, lab):
        script, self.down_script = self.write_script(lab)
        seconds, _, _ = run_timed(["bash", script])
        return {"up": seconds}

    def node_pids(self, lab):
        return {}

    def check(self, lab):
        for node, address in kernel.arp_paced(lab.checks):
            if not ping_ok(["ip", "netns", "exec", node], address):
                raise Broken(f"ip-batch {lab.name}: {node} cannot ping {address}")

    def extras(self, lab, pids):
        node = next(iter(lab.nodes))
        latencies = []
        for _ in range(EXEC_SAMPLES // 4):
            seconds, _, _ = run_timed(["ip", "netns", "exec", node, "true"])
            latencies.append(seconds)
        return {"exec_median": statistics.median(latencies)}

    def probe_targets(self, lab, pids):
        return list(kernel.sample(lab.nodes, PROBES))

    def down_argv(self, lab):
        return ["bash", self.down_script]

    def verify_gone(self, lab):
        if os.path.isdir("/run/netns") and os.listdir("/run/netns"):
            raise Broken(f"/run/netns still holds {os.listdir('/run/netns')[:5]}")


class Floor(Tool):
    """The kernel floor (bench/floor.cpp): the same lab's raw kernel work (nodes in all six
    namespaces, bridges, veths born in their namespaces, the netlink requests netlab sends inside
    each node) and nothing else. One process builds the lab, reports, and removes it when told:
    netlab's ratio to it is what netlab adds."""
    name = "floor"

    def __init__(self, binary, workdir):
        self.binary = binary
        self.workdir = workdir
        self.process = None
        self.pids = {}

    def unavailable(self):
        return "" if os.access(self.binary, os.X_OK) else f"no program at {self.binary} (build it)"

    def up(self, lab):
        topology = labs.write_netlab(lab, self.workdir)
        start = time.perf_counter()
        self.process = subprocess.Popen([self.binary, topology], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        seconds = time.perf_counter() - start
        if not line:
            self.process.wait()
            raise Broken(f"netlab-floor {lab.name} exited {self.process.returncode}: "
                         f"{self.process.stderr.read().strip()[-800:]}")
        reported = json.loads(line)
        self.pids = reported["pids"]
        return {"up": seconds, "phases": reported["phases"]}

    def node_pids(self, lab):
        return self.pids

    def check(self, lab):
        for node, address in kernel.arp_paced(lab.checks):
            if not ping_ok(["nsenter", "-t", str(self.pids[node]), "-n", "--"], address):
                raise Broken(f"floor {lab.name}: {node} cannot ping {address}")

    def extras(self, lab, pids):
        return {}

    def probe_targets(self, lab, pids):
        return [str(pids[node]) for node in kernel.sample(lab.nodes, PROBES)]

    def start_down(self, lab):
        self.process.stdin.write("down\n")
        self.process.stdin.close()
        return self.process

    def verify_gone(self, lab):
        pass


class Mininet:
    """Mininet through its Python API (bench/mininet_lab.py), with Linux bridges and no
    controller: no Open vSwitch. Debian's package installs its module for Debian's own
    interpreter, which need not be the python3 first on the PATH (a virtualenv's, a pyenv's)."""
    name = "mininet"
    python = "/usr/bin/python3"

    def unavailable(self):
        missing = _missing_programs("mnexec", "brctl")
        if not os.access(self.python, os.X_OK):
            return f"no Debian Python at {self.python}"
        probe = subprocess.run([self.python, "-c", "import mininet.net, mininet.nodelib"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if probe.returncode != 0:
            reason = (probe.stderr.strip().splitlines() or ["?"])[-1]
            missing = "; ".join(filter(None, [missing, f"{self.python} cannot import mininet "
                                              f"({reason})"]))
        if missing:
            return missing + " (tools/install-deps.sh --bench installs Debian's mininet and " \
                             "bridge-utils)"
        return ""

    def measure(self, shape, size, timeout):
        """One whole cycle (up, check, probes, down) in the driver; returns its JSON record."""
        argv = [self.python, os.path.join(BENCH_DIR, "mininet_lab.py"), shape, str(size)]
        try:
            done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise Broken(f"mininet {shape} {size}: no result within {timeout} s")
        if done.returncode != 0:
            raise Broken(f"mininet {shape} {size}: {done.stderr.strip()[-800:]}")
        record = json.loads(done.stdout.strip().splitlines()[-1])
        if record.get("error"):
            raise Broken(f"mininet {shape} {size}: {record['error']}")
        return record


def _missing_programs(*programs):
    """A reason such as "no brctl, nsenter on the PATH", or "" when each is there."""
    missing = [program for program in programs if not shutil.which(program)]
    return f"no {', '.join(missing)} on the PATH" if missing else ""


def measure_cycle(tool, lab, with_extras):
    """up, check, (extras), probes, down, verification: one record of a built-and-removed lab."""
    record = tool.up(lab)
    try:
        pids = tool.node_pids(lab)
        tool.check(lab)
        if with_extras:
            record.update(tool.extras(lab, pids))
        probes = kernel.Probes(tool.probe_targets(lab, pids))
    except BaseException:
        tool.start_down(lab).wait()
        raise
    start = time.perf_counter()
    process = tool.start_down(lab)
    returned, gone = probes.wait_gone(start, process=process)
    if process.returncode != 0:
        raise Broken(f"{tool.name} down {lab.name}: {process.stderr.read().strip()[-800:]}")
    if gone is None:
        raise Broken(f"{tool.name} down {lab.name}: probes still present: {probes.left()}")
    record["down_returned"] = returned
    record["down_settled"] = gone
    record["down"] = max(returned, gone)
    tool.verify_gone(lab)
    verify_clean(f"{tool.name} {lab.name}")
    return record


def log(message):
    print(message, file=sys.stderr, flush=True)
