"""End-to-end tests: the netlab binary on the example topologies, as root.

Run by tests/run_isolated.sh inside private namespaces. Every test asserts on real state
(hostnames, namespace inodes, interfaces, pings) and, after `down`, that nothing of the lab is
left: no interface, mount, netlab-init process or state file.
"""
import fcntl
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

NETLAB = os.environ["NETLAB"]
EXAMPLES = os.environ["NETLAB_EXAMPLES"]
NAMESPACES = ["user", "net", "uts", "mnt", "pid", "ipc"]


def netlab(*args, check=True, stdin=None):
    result = subprocess.run([NETLAB, *args], input=stdin, capture_output=True, text=True,
                            timeout=300)
    if check and result.returncode != 0:
        raise AssertionError(f"netlab {' '.join(args)} exited {result.returncode}:\n"
                             f"{result.stdout}\n{result.stderr}")
    return result


def live_inits():
    """PIDs of netlab-init processes that are not zombies."""
    pids = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read()
        except OSError:
            continue
        name = fields[fields.index("(") + 1:fields.rindex(")")]
        state = fields[fields.rindex(")") + 2]
        if name == "netlab-init" and state != "Z":
            pids.add(int(entry))
    return pids


# Made by unique_lab in this process: the cgroup hierarchies are the machine's, shared with
# test runs beside this one (another tree's, CI's), whose labs come and go meanwhile.
RUN = uuid.uuid4().hex[:4]
OTHER_RUNS_LAB = re.compile(r"-[0-9a-f]{8}$")


def ours(cgroup):
    """Whether a lab cgroup may be this run's: a unique_lab name of this run, or a fixed name."""
    match = OTHER_RUNS_LAB.search(cgroup)
    return not match or match.group(0).startswith("-" + RUN)


def lab_cgroups():
    """This run's labs' cgroups (`netlab-LAB`, netlab's own cgroup their parent) in every
    hierarchy."""
    found = []
    with open("/proc/self/mountinfo") as mounts:
        points = [line.split()[4] for line in mounts if " - cgroup" in line]
    for point in points:
        for directory, subdirectories, _ in os.walk(point):
            if directory.count("/") - point.count("/") >= 3:
                subdirectories.clear()
            found += [os.path.join(directory, name) for name in subdirectories
                      if name.startswith("netlab-") and ours(name)]
    return sorted(found)


def live_keepers():
    """PIDs of the keepers of nodes' exit statuses (`netlab __keep`, nsmgr/node_keeper.hpp)."""
    pids = set()
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                words = cmdline.read().split(b"\0")
        except OSError:
            continue
        if len(words) > 1 and words[1] == b"__keep":
            pids.add(int(entry))
    return pids


def snapshot():
    """What the host looks like, for comparing before `up` and after `down`."""
    with open("/proc/self/mountinfo") as mounts:
        mount_points = sorted(line.split()[4] for line in mounts)
    return {
        "cgroups": lab_cgroups(),
        "links": subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout,
        "netns": subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout,
        "mounts": mount_points,
        # netlab creates /run/netlab on first use and leaves it, empty, behind.
        "state": sorted(os.listdir("/run/netlab")) if os.path.isdir("/run/netlab") else [],
        "inits": live_inits(),
        "keepers": live_keepers(),
    }


def strace(*options):
    """strace as the crash tests run it: `up`, `node` and `apply` work in a child of the command,
    the worker (nsmgr/node_keeper.hpp), which is followed (-f), as its threads and the nodes'
    children are, up to their exec (-b execve: the inits and the keeper run on untraced). Clone
    is traced too, for worker_calls."""
    calls = next(option for option in options if option.startswith("trace="))
    rest = [option for option in options if option != calls]
    return ["strace", "-f", "-b", "execve", "-qq", "-e", calls + ",clone", *rest]


TRACE_LINE = re.compile(r"^(?:\[pid\s+(\d+)\] |(\d+)\s+)?(\w+)\((.*)$")


def worker_calls(trace):
    """The (call, line) of the worker's main thread in a strace(...) output: the process the
    command's first clone made (the command's own calls when it made none)."""
    parsed = []
    for line in trace.splitlines():
        match = TRACE_LINE.match(line)
        if match:
            pid = match.group(1) or match.group(2)
            parsed.append((int(pid) if pid else None, match.group(3), match.group(4)))
    if not parsed:
        return []
    command = parsed[0][0]
    worker = command
    for pid, call, rest in parsed:
        if pid == command and call == "clone":
            worker = int(rest.rsplit("=", 1)[1].split()[0])
            break
    return [(call, rest) for pid, call, rest in parsed if pid == worker]


def strace_points(trace, calls):
    """Every (call, n) for the n-th entry into each of `calls` (comma-separated) by the worker
    in a strace(...) output: the points a crash test kills a command at. strace counts each
    traced thread's calls apart (its inject when=N), so the points are those of one thread."""
    counts = {}
    for name, _ in worker_calls(trace):
        if name in calls.split(","):
            counts[name] = counts.get(name, 0) + 1
    return counts, [(call, when) for call, count in sorted(counts.items())
                    for when in range(1, count + 1)]


def unique_lab(prefix):
    return f"{prefix}-{RUN}{uuid.uuid4().hex[:4]}"


class LabTest(unittest.TestCase):
    def bring_up(self, topology, lab, extra=()):
        before = snapshot()
        netlab("up", topology, "--lab", lab, *extra)
        self.addCleanup(self.take_down, lab, before)
        return json.loads(netlab("plan", topology, "--lab", lab, "--format", "json").stdout)

    def take_down(self, lab, before):
        netlab("down", lab)
        self.assertEqual(snapshot(), before, "down left something of the lab behind")
        # Idempotent: a second down has nothing to do and succeeds.
        self.assertIn("not running", netlab("down", lab).stdout)

    def write_topology(self, topology):
        directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, directory, ignore_errors=True)
        path = os.path.join(directory, "topology.json")
        with open(path, "w") as file:
            json.dump(topology, file)
        return path

    def exec(self, lab, node, *command, check=True, stdin=None):
        return netlab("exec", "--lab", lab, node, "--", *command, check=check, stdin=stdin)


class ExampleLabs(LabTest):
    def check_example(self, name):
        lab = unique_lab(name)
        plan = self.bring_up(os.path.join(EXAMPLES, f"{name}.json"), lab)
        nodes = [node for node in plan["nodes"]]
        host_ns = {ns: os.readlink(f"/proc/self/ns/{ns}") for ns in NAMESPACES}
        seen = {ns: set() for ns in NAMESPACES}
        addresses = []
        for node in nodes:
            for interface in node.get("interfaces", []):
                addresses += [a.split("/")[0] for a in interface.get("addresses", [])]
        for node in nodes:
            name = node["name"]
            with self.subTest(node=name):
                hostname = self.exec(lab, name, "hostname").stdout.strip()
                self.assertEqual(hostname, node.get("hostname", name))
                links = self.exec(lab, name, "readlink", *[f"/proc/self/ns/{ns}" for ns in NAMESPACES])
                for ns, inode in zip(NAMESPACES, links.stdout.split()):
                    self.assertNotEqual(inode, host_ns[ns], f"{name} shares the host's {ns} namespace")
                    self.assertNotIn(inode, seen[ns], f"{name} shares a {ns} namespace with another node")
                    seen[ns].add(inode)
                processes = self.exec(lab, name, "ps", "-e", "-o", "pid=,comm=").stdout.split("\n")
                processes = [line.split() for line in processes if line.strip()]
                self.assertIn(["1", "netlab-init"], processes)
                self.assertEqual(len(processes), 2, f"only init and ps run in {name}: {processes}")
                links = json.loads(self.exec(lab, name, "ip", "-j", "link").stdout)
                expected = {"lo"} | {i["name"] for i in node.get("interfaces", [])}
                if node["kind"] == "switch":
                    expected.add("br0")
                    self.check_bridge(lab, name)
                self.assertEqual({link["ifname"] for link in links}, expected)
                by_name = {link["ifname"]: link for link in links}
                for interface in node.get("interfaces", []):
                    link = by_name[interface["name"]]
                    self.assertEqual(link["address"], interface["mac"])
                    self.assertEqual(link["mtu"], interface.get("mtu", 1500))
                    self.assertEqual(link["operstate"], "UP")
                addresses_inside = json.loads(self.exec(lab, name, "ip", "-j", "address").stdout)
                configured = {f"{a['local']}/{a['prefixlen']}" for link in addresses_inside
                              for a in link.get("addr_info", [])}
                for interface in node.get("interfaces", []):
                    for address in interface.get("addresses", []):
                        self.assertIn(address, configured)
                tentative = [a["local"] for link in addresses_inside for a in link.get("addr_info", [])
                             if a.get("tentative")]
                self.assertEqual(tentative, [], "an address waits for duplicate address detection")
        # /tmp is each node's own.
        first, second = nodes[0]["name"], nodes[1]["name"]
        self.exec(lab, first, "sh", "-c", "echo secret > /tmp/only-here")
        self.assertEqual(self.exec(lab, second, "test", "-e", "/tmp/only-here", check=False).returncode, 1)
        # Every node reaches every address of the lab.
        script = "".join(f"ping -c1 -W2 -q {a} >/dev/null 2>&1 || echo unreachable {a}; "
                         for a in addresses)
        for node in nodes:
            if node["kind"] == "switch":
                continue
            with self.subTest(pinging_from=node["name"]):
                self.assertEqual(self.exec(lab, node["name"], "sh", "-c", script).stdout, "")

    # A lab's switch forwards at once (no STP, no forward delay) and floods multicast: without
    # snooping, raising each port does not touch every other port's multicast timers.
    def check_bridge(self, lab, switch):
        bridge = json.loads(self.exec(lab, switch, "ip", "-d", "-j", "link", "show", "br0").stdout)
        settings = bridge[0]["linkinfo"]["info_data"]
        self.assertEqual((settings["stp_state"], settings["forward_delay"],
                          settings["mcast_snooping"]), (0, 0, 0))

    def test_lan(self):
        self.check_example("lan")

    def test_triangle(self):
        self.check_example("triangle")

    def test_chain(self):
        self.check_example("chain")

    def test_dualstack(self):
        self.check_example("dualstack")


class NodeContents(LabTest):
    """Environment, files, mounts and startup commands of examples/dualstack.json."""

    def test_env_files_mounts_and_startup_commands(self):
        lab = unique_lab("contents")
        self.bring_up(os.path.join(EXAMPLES, "dualstack.json"), lab)
        self.assertEqual(self.exec(lab, "h2", "cat", "/run/greeting").stdout, "hello from h2\n")
        self.assertEqual(self.exec(lab, "h2", "sh", "-c", "echo $GREETING").stdout, "hello from h2\n")
        self.assertEqual(self.exec(lab, "h2", "cat", "/run/netlab-demo/motd").stdout, "welcome to h2\n")
        self.assertIn("shared with every node", self.exec(lab, "h1", "cat", "/run/shared/readme.txt").stdout)
        readonly = self.exec(lab, "h1", "touch", "/run/shared/new", check=False)
        self.assertNotEqual(readonly.returncode, 0, "a read-only mount was writable")
        self.assertIn("Read-only", readonly.stderr)
        self.assertEqual(self.exec(lab, "h1", "test", "-e", "/run/greeting", check=False).returncode, 1)
        # Host-wide sysctls stay out of reach; the node's own network ones do not.
        self.assertNotEqual(self.exec(lab, "h1", "sh", "-c", "echo 1 > /proc/sys/kernel/sysrq",
                                      check=False).returncode, 0)
        self.exec(lab, "h1", "sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward")
        with open("/proc/sys/net/ipv4/ip_forward") as forward:
            self.assertEqual(forward.read().strip(), "0", "a node's sysctl reached the caller's namespace")


class Exec(LabTest):
    def test_exit_status_and_stdin_pass_through(self):
        lab = unique_lab("exec")
        self.bring_up(os.path.join(EXAMPLES, "lan.json"), lab)
        self.assertEqual(self.exec(lab, "h1", "sh", "-c", "exit 7", check=False).returncode, 7)
        self.assertEqual(self.exec(lab, "h1", "cat", stdin="through stdin\n").stdout, "through stdin\n")
        # As shells have it: 127 for a program that is not there, in one node or several.
        missing = self.exec(lab, "h1", "no-such-program", check=False)
        self.assertEqual(missing.returncode, 127)
        self.assertIn("netlab: h1: no-such-program: command not found", missing.stderr)
        many = json.loads(netlab("exec", "--lab", lab, "--format", "json", "h*", "--", "hostname").stdout)
        self.assertEqual(sorted(entry["stdout"].strip() for entry in many),
                         sorted(entry["node"] for entry in many))
        missing = json.loads(netlab("exec", "--lab", lab, "--format", "json", "h*", "--",
                                    "no-such-program", check=False).stdout)
        self.assertEqual({entry["exit_code"] for entry in missing}, {127})
        # A command ended by a signal: 128 + its number, named unless it is SIGINT or SIGPIPE.
        killed = self.exec(lab, "h1", "sh", "-c", "kill -TERM $$", check=False)
        self.assertEqual((killed.returncode, killed.stderr),
                         (143, "netlab: h1: sh: killed by SIGTERM\n"))
        interrupted = self.exec(lab, "h1", "sh", "-c", "kill -INT $$", check=False)
        self.assertEqual((interrupted.returncode, interrupted.stderr), (130, ""))

    def test_usage_mistakes_get_the_way_out(self):
        lab = unique_lab("usage")
        self.bring_up(os.path.join(EXAMPLES, "lan.json"), lab)
        # A command's options without `--` before them: CLI11 takes them for exec's own.
        result = netlab("exec", "--lab", lab, "h1", "ip", "-br", "address", check=False)
        self.assertEqual(result.returncode, 2)
        self.assertIn("hint: put `--` between the node and a command that has options",
                      result.stderr)
        # Several labs running and none named: the message says how to name one.
        other = unique_lab("usage")
        self.bring_up(os.path.join(EXAMPLES, "triangle.json"), other)
        result = netlab("status", check=False)
        self.assertEqual(result.returncode, 1)
        self.assertRegex(result.stderr, r"several labs are running \(.*\): say which, as the "
                                        r"command's lab argument or with --lab")
        # The CLI's limit is the topology's.
        self.assertIn("[1 - 1000000]", netlab("link", "set", "--help").stdout)
        topology = {"version": 1, "nodes": {"a": {}, "b": {}},
                    "links": [{"endpoints": ["a", "b"], "limit": 1000001}]}
        result = netlab("validate", self.write_topology(topology), check=False)
        self.assertEqual(result.returncode, 2)
        self.assertIn("limit", result.stderr)


    def test_the_command_runs_in_the_callers_directory_where_the_node_has_it(self):
        lab = unique_lab("cwd")
        self.bring_up(os.path.join(EXAMPLES, "lan.json"), lab)
        shared = "/usr/share"  # the host's files, the node's too (the tree may be under /tmp)
        private = tempfile.mkdtemp()  # under /tmp, which each node has of its own
        self.addCleanup(shutil.rmtree, private, ignore_errors=True)
        for directory, expected in ((shared, shared), (private, "/")):
            with self.subTest(directory=directory):
                result = subprocess.run([NETLAB, "exec", "--lab", lab, "h1", "--", "pwd"],
                                        cwd=directory, capture_output=True, text=True,
                                        timeout=60)
                self.assertEqual((result.returncode, result.stdout.strip()), (0, expected),
                                 result.stderr)


class Terminal(LabTest):
    def test_interactive_shell_on_a_tty_and_forwarded_signals(self):
        lab = unique_lab("tty")
        self.bring_up(os.path.join(EXAMPLES, "lan.json"), lab)
        # script(1) gives netlab a pseudo-terminal, as a user's terminal would.
        session = subprocess.run(
            ["script", "-qec", f"{NETLAB} exec --lab {lab} h1 bash", "/dev/null"],
            input="tty; echo inside-$(hostname)\nexit 3\n", capture_output=True, text=True, timeout=60)
        self.assertEqual(session.returncode, 3, session.stdout)
        self.assertIn("/dev/pts/", session.stdout)
        self.assertIn("inside-h1", session.stdout)
        # No command: the node's login shell, as `docker exec -it` users expect.
        session = subprocess.run(
            ["script", "-qec", f"{NETLAB} exec --lab {lab} h1", "/dev/null"],
            input="shopt -q login_shell && echo login-$(hostname)\nexit 4\n",
            capture_output=True, text=True, timeout=60)
        self.assertEqual(session.returncode, 4, session.stdout)
        self.assertIn("login-h1", session.stdout)
        sleeper = subprocess.Popen([NETLAB, "exec", "--lab", lab, "h1", "--", "sleep", "30"])
        time.sleep(0.5)
        sleeper.send_signal(signal.SIGTERM)
        self.assertEqual(sleeper.wait(timeout=5), 128 + signal.SIGTERM)

    def test_many_execs_at_once(self):
        lab = unique_lab("many")
        self.bring_up(os.path.join(EXAMPLES, "lan.json"), lab)
        runs = [subprocess.Popen([NETLAB, "exec", "--lab", lab, "h1", "--", "hostname"],
                                 stdout=subprocess.PIPE, text=True) for _ in range(20)]
        self.assertEqual([run.communicate(timeout=60)[0] for run in runs], ["h1\n"] * 20)
        self.assertEqual({run.returncode for run in runs}, {0})


class Failures(LabTest):
    def assert_up_fails_cleanly(self, topology, *expected_in_message):
        before = snapshot()
        result = netlab("up", self.write_topology(topology), "--lab", unique_lab("broken"), check=False)
        self.assertEqual(result.returncode, 1, result.stderr)
        for text in expected_in_message:
            self.assertIn(text, result.stderr)
        self.assertEqual(snapshot(), before, "a failed up left something behind")

    def test_failing_startup_command_rolls_back(self):
        self.assert_up_fails_cleanly(
            {"nodes": {"a": {"exec": ["echo about to fail; exit 3"]}, "b": {}}, "links": [["a", "b"]]},
            "node a", "exit 3", "status 3", "about to fail")

    def test_what_this_machine_lacks_is_refused_before_anything_is_made(self):
        before = snapshot()
        path = self.write_topology(
            {"nodes": {"a": {"exec": ["/usr/lib/netlab-no-such/daemon start"]},
                       "b": {"root": "host", "files": {"/etc/netlab-no-such-dir/x": "x"}}},
             "links": [["a", "b"]]})
        for verb in ("validate", "up"):
            with self.subTest(verb=verb):
                result = netlab(verb, path, *(["--lab", unique_lab("lacking")] if verb == "up"
                                              else []), check=False)
                self.assertEqual(result.returncode, 2, result.stderr)
                self.assertIn("nodes.a: the startup command `/usr/lib/netlab-no-such/daemon "
                              "start` runs `/usr/lib/netlab-no-such/daemon`, which is not "
                              "installed on this machine", result.stderr)
                self.assertIn("nodes.b: the file target `/etc/netlab-no-such-dir/x` does not "
                              "exist on this machine", result.stderr)
        self.assertEqual(snapshot(), before, "a refused up left something behind")

    def test_a_silent_failing_startup_command_says_it_printed_nothing(self):
        # The first command's output is not the second's.
        self.assert_up_fails_cleanly(
            {"nodes": {"a": {"exec": ["echo fine", "false"]}, "b": {}}, "links": [["a", "b"]]},
            "node a: startup command `false` exited with status 1 (no output)")

    def test_setting_the_kernel_rejects_rolls_back(self):
        # Validation already refuses the routes the kernel would (duplicates, gateways off the
        # device's subnet); a sysctl value is only judged by the kernel.
        self.assert_up_fails_cleanly(
            {"nodes": {"a": {"sysctls": {"net.ipv4.ip_forward": "banana"}}, "b": {}},
             "links": [["a", "b"]]},
            "configuring node a", "net.ipv4.ip_forward=banana", "Invalid argument")


class Usage(LabTest):
    """Each node's CPU time and memory, read from its cgroups (`status`, `top`)."""

    def test_top_puts_the_busy_node_first_and_status_shows_its_memory(self):
        lab = unique_lab("usage")
        self.bring_up(os.path.join(EXAMPLES, "lan.json"), lab)
        # h1 spins; h2's dd holds its 48 MiB block, blocked on a pipe nobody reads. Both for
        # longer than a sanitized netlab takes to start, sample and read (3 s and 5 s were not,
        # on a busy machine); the lab's removal ends them.
        self.exec(lab, "h1", "sh", "-c",
                  "timeout 15 sh -c 'while :; do :; done' >/dev/null 2>&1 &")
        self.exec(lab, "h2", "sh", "-c",
                  "(dd if=/dev/zero bs=48M count=1 | sleep 15) >/dev/null 2>&1 &")
        time.sleep(1)
        reading = json.loads(netlab("top", lab, "-n", "1", "-i", "1", "--format", "json")
                             .stdout.splitlines()[0])
        nodes = {node["name"]: node for node in reading["nodes"]}
        self.assertEqual(reading["nodes"][0]["name"], "h1", reading)
        self.assertGreater(nodes["h1"]["cpu_percent"], 50, "one CPU's spin, on a 2-CPU machine")
        self.assertLess(nodes["h3"]["cpu_percent"], 20)
        status = {node["name"]: node for node in
                  json.loads(netlab("status", lab, "--format", "json").stdout)["nodes"]}
        self.assertGreater(status["h1"]["cpu_seconds"], 0.5)
        self.assertGreater(status["h2"]["memory_bytes"], 40 << 20)
        self.assertLess(status["h3"]["memory_bytes"], 40 << 20)
        self.assertRegex(netlab("top", lab, "-n", "1", "-i", "0.2").stdout,
                         r"NODE +STATE +PID +CPU% +CPU +MEMORY")


def cgroup_file(pid, name):
    """The text of a file of the process's own cgroup that has it (memory.max, cpu.cfs_quota_us),
    in whichever hierarchy (v2 or v1) holds it; None when none does. Paths from /proc/PID/cgroup,
    seen through this process's cgroup mounts."""
    mounts = []
    with open("/proc/self/mountinfo") as mountinfo:
        for line in mountinfo:
            left, right = line.split(" - ")
            if right.split()[0] in ("cgroup", "cgroup2"):
                fields = left.split()
                mounts.append((fields[3], fields[4]))
    with open(f"/proc/{pid}/cgroup") as cgroups:
        paths = [line.rstrip("\n").split(":", 2)[2] for line in cgroups]
    for root, point in mounts:
        for path in paths:
            if path == root or path.startswith(root.rstrip("/") + "/"):
                candidate = os.path.join(point + path[len(root.rstrip("/")):], name)
                if os.path.exists(candidate):
                    with open(candidate) as file:
                        return file.read()
    return None


class Resources(LabTest):
    """`resources`: each node's limits in its own cgroups, read back and measured (v1 here for
    the controllers, pure v2 in the stock-kernel tier)."""

    TOPOLOGY = {"nodes": {"h1": {"resources": {"cpus": 0.2, "pids": 64}},
                          "h2": {"resources": {"memory": "256M"}}, "h3": {}},
                "links": [{"endpoints": ["h1", "h2", "h3"], "prefix": "10.9.0.0/24"}]}

    def up(self):
        lab = unique_lab("resources")
        plan = self.bring_up(self.write_topology(self.TOPOLOGY), lab)
        self.assertEqual({node["name"]: node.get("resources") for node in plan["nodes"]
                          if node["name"] != "lan0"},
                         {"h1": {"cpus": 0.2, "pids": 64}, "h2": {"memory_bytes": 256 << 20},
                          "h3": None})
        status = json.loads(netlab("status", lab, "--format", "json").stdout)
        return lab, {node["name"]: node["pid"] for node in status["nodes"]}

    def cpu_seconds(self, lab, node):
        for entry in json.loads(netlab("status", lab, "--format", "json").stdout)["nodes"]:
            if entry["name"] == node:
                return entry["cpu_seconds"]

    def test_limits_are_in_each_nodes_cgroups(self):
        lab, pids = self.up()
        quota = cgroup_file(pids["h1"], "cpu.max")
        if quota is not None:
            self.assertEqual(quota.split(), ["20000", "100000"])
        else:
            self.assertEqual(cgroup_file(pids["h1"], "cpu.cfs_quota_us").strip(), "20000")
            self.assertEqual(cgroup_file(pids["h1"], "cpu.cfs_period_us").strip(), "100000")
        self.assertEqual(cgroup_file(pids["h1"], "pids.max").strip(), "64")
        self.assertEqual(cgroup_file(pids["h3"], "pids.max").strip(), "1024", "the lab's default")
        memory = cgroup_file(pids["h2"], "memory.max") or cgroup_file(pids["h2"],
                                                                      "memory.limit_in_bytes")
        self.assertEqual(int(memory), 256 << 20)
        unlimited = cgroup_file(pids["h3"], "memory.max") or cgroup_file(
            pids["h3"], "memory.limit_in_bytes")
        self.assertTrue(unlimited.strip() == "max" or int(unlimited) > 1 << 40, unlimited)

    def test_apply_changes_a_nodes_limits_and_lifts_those_it_drops(self):
        lab, _ = self.up()
        topology = json.loads(json.dumps(self.TOPOLOGY))
        topology["nodes"]["h1"]["resources"] = {"memory": "32M"}
        topology["nodes"]["h2"]["resources"] = {"pids": 32}
        applied = netlab("apply", "--lab", lab, self.write_topology(topology))
        self.assertIn("h1", applied.stdout)
        pids = {node["name"]: node["pid"] for node in
                json.loads(netlab("status", lab, "--format", "json").stdout)["nodes"]}
        h1, h2 = pids["h1"], pids["h2"]
        memory = cgroup_file(h1, "memory.max") or cgroup_file(h1, "memory.limit_in_bytes")
        self.assertEqual(int(memory), 32 << 20)
        quota = cgroup_file(h1, "cpu.max")
        if quota is not None:
            self.assertEqual(quota.split()[0], "max")
        else:
            self.assertEqual(cgroup_file(h1, "cpu.cfs_quota_us").strip(), "-1")
        self.assertEqual(cgroup_file(h1, "pids.max").strip(), "1024", "back to the lab's")
        # h2's memory limit lifted, swap's too (v2's swap.max, v1's memsw), its pids set.
        self.assertEqual(cgroup_file(h2, "pids.max").strip(), "32")
        for name in ("memory.max", "memory.swap.max", "memory.limit_in_bytes",
                     "memory.memsw.limit_in_bytes"):
            value = cgroup_file(h2, name)
            if value is not None:
                self.assertTrue(value.strip() == "max" or int(value) > 1 << 40, (name, value))

    def test_a_cpu_bound_node_gets_its_share(self):
        """h1 spins on one CPU with 0.2 of one allowed: measured over 3 s, 0.2 +- 0.05."""
        lab, _ = self.up()
        self.exec(lab, "h1", "sh", "-c", "timeout 6 sh -c 'while :; do :; done' >/dev/null 2>&1 &")
        time.sleep(1)
        before, started = self.cpu_seconds(lab, "h1"), time.monotonic()
        time.sleep(3)
        after, ended = self.cpu_seconds(lab, "h1"), time.monotonic()
        share = (after - before) / (ended - started)
        print(f"\nh1 limited to 0.2 CPUs used {share:.3f} of a CPU over {ended - started:.1f} s",
              file=sys.stderr)
        self.assertAlmostEqual(share, 0.2, delta=0.05)

    def test_a_node_over_its_memory_is_oom_killed_in_its_cgroup_only(self):
        lab, pids = self.up()
        with open("/proc/swaps") as swaps:
            swap_on = len(swaps.readlines()) > 1
        if swap_on and cgroup_file(pids["h2"], "memory.swap.max") is None and \
                cgroup_file(pids["h2"], "memory.memsw.limit_in_bytes") is None:
            self.skipTest("swap is on and the kernel does not count it in a cgroup's memory "
                          "(swapaccount=0): over its limit, h2 would swap, not be OOM-killed")
        # dd's 512 MiB buffer, filled, is twice h2's limit; h3 (no limit) holds the same. dd
        # offers itself as the OOM killer's first choice: `netlab exec` waits in the node's
        # cgroups too, and a sanitized netlab there is large (132 MB resident). An
        # oom_score_adj of 1000 counts as much as the cgroup's limit; with a limit of 64 MiB the
        # sanitizer tree saw netlab killed instead of dd.
        hog = ["sh", "-c", "echo 1000 > /proc/self/oom_score_adj && "
               "exec dd if=/dev/zero of=/dev/null bs=512M count=1"]
        killed = self.exec(lab, "h2", *hog, check=False)
        self.assertEqual(killed.returncode, 128 + 9, killed.stderr)
        self.assertEqual(self.exec(lab, "h3", *hog, check=False).returncode, 0)
        events = cgroup_file(pids["h2"], "memory.events") or cgroup_file(pids["h2"],
                                                                         "memory.oom_control")
        self.assertRegex(events, r"oom_kill [1-9]")
        self.assertRegex(cgroup_file(pids["h3"], "memory.events") or
                         cgroup_file(pids["h3"], "memory.oom_control"), r"oom_kill 0")
        # The node lives on: its init, and a new command in it.
        status = {node["name"]: node for node in
                  json.loads(netlab("status", lab, "--format", "json").stdout)["nodes"]}
        self.assertEqual(status["h2"]["state"], "running")
        self.assertEqual(status["h2"]["pid"], pids["h2"])
        self.exec(lab, "h2", "ping", "-c", "1", "-W", "5", "10.9.0.3")


class Teardown(LabTest):
    def test_down_needs_only_the_saved_state(self):
        with open(os.path.join(EXAMPLES, "triangle.json")) as example:
            topology = json.load(example)
        path = self.write_topology(topology)
        lab = unique_lab("orphan")
        before = snapshot()
        netlab("up", path, "--lab", lab)
        os.remove(path)
        self.assertIn("is down", netlab("down", lab).stdout)
        self.assertEqual(snapshot(), before)

    def test_the_keeper_holds_its_lock_so_down_waits_for_it(self):
        """`down` waits for the keeper of the nodes' exit statuses through the lock the keeper
        holds on keepers/PID (nsmgr/node_keeper.hpp): the lock must outlive the keeper's exec."""
        lab = unique_lab("keeper")
        before = snapshot()
        netlab("up", os.path.join(EXAMPLES, "triangle.json"), "--lab", lab)
        keepers = os.path.join("/run/netlab", lab, "keepers")
        (keeper,) = os.listdir(keepers)
        # `up` returns before its worker has exec'd the keeper (a moment later).
        deadline = time.monotonic() + 10
        while int(keeper) not in live_keepers() and time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertIn(int(keeper), live_keepers())
        with open(os.path.join(keepers, keeper)) as lock:
            with self.assertRaises(BlockingIOError, msg="the keeper does not hold its lock"):
                fcntl.flock(lock, fcntl.LOCK_SH | fcntl.LOCK_NB)
        netlab("down", lab)
        self.assertEqual(snapshot(), before)

    def test_down_ends_a_command_in_a_node_with_sigterm(self):
        """A node's init passes SIGTERM on to the node's other processes, also to a command that
        joined the node (not its child); only an init alone in its node skips kill(-1)."""
        lab = unique_lab("downterm")
        before = snapshot()
        netlab("up", os.path.join(EXAMPLES, "triangle.json"), "--lab", lab)
        command = subprocess.Popen(
            [NETLAB, "exec", "--lab", lab, "r1", "--", "sh", "-c", "echo ready; exec sleep 60"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.assertEqual(command.stdout.readline(), "ready\n")
        netlab("down", lab)
        _, stderr = command.communicate(timeout=30)
        # Not killed itself: `down` gives it a moment to report, which it does whether or not
        # the node's init has gone by then.
        self.assertEqual(command.returncode, 128 + signal.SIGTERM, stderr)
        self.assertRegex(stderr, r"^netlab: r1: sh: killed by SIGTERM( \(the node has stopped\))?\n$")
        self.assertEqual(snapshot(), before)

    def test_down_of_many_nodes_under_a_low_open_file_limit(self):
        """`down` holds two files per node (its pidfd and its network namespace until every node
        has stopped): like `up`, it raises its soft limit to the hard one, and stops them all."""
        hosts = 150
        topology = {"version": 1, "name": unique_lab("nofile"), "addressing": False,
                    "nodes": {f"h{i}": {"kind": "host"} for i in range(hosts)}, "links": []}
        path = self.write_topology(topology)
        before = snapshot()

        def low_limit():
            hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
            resource.setrlimit(resource.RLIMIT_NOFILE, (128, hard))

        def run(*args):
            return subprocess.run([NETLAB, *args], capture_output=True, text=True, timeout=300,
                                  preexec_fn=low_limit)
        up = run("up", path)
        self.addCleanup(netlab, "down", path, check=False)
        self.assertEqual(up.returncode, 0, up.stderr)
        down = run("down", path)
        self.assertEqual(down.returncode, 0, down.stderr)
        self.assertIn(f"{hosts} nodes stopped", down.stdout)
        self.assertEqual(snapshot(), before)

    def test_down_by_topology_file_and_down_all(self):
        with open(os.path.join(EXAMPLES, "chain.json")) as example:
            topology = json.load(example)
        # The lab is named by the file, with a name of this run's own (see lab_cgroups).
        topology["name"] = unique_lab("byfile")
        path = self.write_topology(topology)
        before = snapshot()
        netlab("up", path)
        netlab("up", os.path.join(EXAMPLES, "lan.json"), "--lab", unique_lab("all"))
        listed = json.loads(netlab("ls", "--format", "json").stdout)
        self.assertEqual(len(listed), 2)
        self.assertIn("is down", netlab("down", path).stdout)
        self.assertIn("is down", netlab("down", "--all").stdout)
        self.assertEqual(snapshot(), before)


class Impairments(LabTest):
    def test_rate_is_shaped_by_tbf(self):
        lab = unique_lab("rate")
        path = self.write_topology({
            "nodes": {"a": {}, "b": {}},
            "links": [{"endpoints": ["a", "b"], "prefix": "10.0.0.0/30", "rate": "10mbit"}]})
        self.bring_up(path, lab)
        for node in ("a", "b"):
            qdiscs = json.loads(self.exec(lab, node, "tc", "-j", "qdisc", "show", "dev", "eth0").stdout)
            self.assertEqual(qdiscs[0]["kind"], "tbf")
            self.assertEqual(qdiscs[0]["options"]["rate"], 1250000, "10 mbit/s in bytes per second")


class SideBySide(LabTest):
    def test_two_labs_with_the_same_node_names(self):
        topology = os.path.join(EXAMPLES, "lan.json")
        first, second = unique_lab("twin"), unique_lab("twin")
        self.bring_up(topology, first)
        self.bring_up(topology, second)
        self.exec(first, "h1", "sh", "-c", "echo first > /tmp/mark")
        self.assertEqual(self.exec(second, "h1", "test", "-e", "/tmp/mark", check=False).returncode, 1)
        refused = netlab("up", topology, "--lab", first, check=False)
        self.assertEqual(refused.returncode, 1)
        self.assertIn("already exists", refused.stderr)


if __name__ == "__main__":
    unittest.main()
