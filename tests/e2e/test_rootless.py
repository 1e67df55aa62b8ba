"""End-to-end tests of issue 19: netlab run by an ordinary user (docs/rootless.md).

Run by tests/run_isolated.sh as root inside private namespaces; each test runs netlab as a
throwaway user: a uid no account and no process has, with its gid and no supplementary groups
(subprocess's user/group/extra_groups, no entry in /etc/passwd to add or remove). Its runtime
directory is made on the private /run. Whatever happens, every process of that uid is killed,
by pid, and its directory removed. Every assertion is on real state: the nodes' processes, their
owner and user namespaces, pings between them, and after `down`, no process and no state left.
"""
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
import unittest

from test_labs import EXAMPLES, NETLAB, live_inits, netlab, strace, unique_lab, worker_calls
from test_capture import read_pcapng
from test_links import IPERF_SECONDS, RATE_TOLERANCE
from test_routing import bird_missing, frr_missing


def unused_id(taken=()):
    """A uid (and gid) no account names and no process runs as."""
    taken = {entry.pw_uid for entry in pwd.getpwall()} | set(taken)
    for candidate in range(200000 + os.getpid() % 1000 * 100, 300000):
        if candidate not in taken and not processes_of(candidate, zombies=True):
            return candidate
    raise AssertionError("no free uid between 200000 and 300000")


def processes_of(uid, zombies=False):
    """Pids of the processes whose real uid is uid; zombies (dead, waiting for their parent, here
    the test's PID 1, to reap them) only when asked."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as status:
                fields = dict(line.split(":", 1) for line in status if ":" in line)
        except OSError:
            continue
        if int(fields["Uid"].split()[0]) == uid and (zombies or not fields["State"].split()[0] == "Z"):
            pids.append(int(entry))
    return pids


def user_environment(path, runtime):
    """What the user's netlab runs with: a user's session's few variables, and the sanitizers'
    options of the sanitizer tree (.ci: without detect_leaks=0, LeakSanitizer at the exit of a
    command that entered a lab's user namespace waits forever for a tracer that cannot attach)."""
    environment = {"PATH": path, "XDG_RUNTIME_DIR": runtime, "HOME": "/"}
    for name in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if name in os.environ:
            environment[name] = os.environ[name]
    return environment

class ThrowawayUser:
    """A uid no account and no process has, its gid the same, no supplementary groups, and its
    runtime directory on the private /run. remove() kills every process of the uid (each by its
    pid) and removes the directory."""

    def __init__(self, taken=()):
        self.uid = unused_id(taken)
        self.runtime = f"/run/user/{self.uid}"
        os.makedirs(self.runtime, mode=0o700)
        os.chown(self.runtime, self.uid, self.uid)

    def remove(self):
        for _ in range(50):
            pids = processes_of(self.uid, zombies=True)
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.1)
        shutil.rmtree(self.runtime, ignore_errors=True)

    def netlab(self, *args, check=True, runtime=None, cgroup=None):
        return self.run([NETLAB, *args], check=check, runtime=runtime, cgroup=cgroup)

    def run(self, command, check=True, runtime=None, cgroup=None):
        """The command as the user; in a cgroup v2 cgroup (a directory) when given, moved there
        by root first, as a service manager starts a unit's process in its cgroup."""
        environment = user_environment(os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
                                       runtime or self.runtime)
        identity = {"user": self.uid, "group": self.uid, "extra_groups": []}
        if cgroup:
            command = ["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', cgroup,
                       "setpriv", f"--reuid={self.uid}", f"--regid={self.uid}",
                       "--clear-groups", *command]
            identity = {}
        result = subprocess.run(command, capture_output=True, text=True, timeout=300,
                                env=environment, cwd="/", **identity)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(command)} as uid {self.uid} exited "
                                 f"{result.returncode}:\n{result.stdout}\n{result.stderr}")
        return result


LAN = os.path.join(EXAMPLES, "lan.json")


def describe(pids):
    """Each process's stat line (name, state, parent), for a failure's message."""
    lines = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                lines.append(stat.read()[:100])
        except OSError:
            lines.append(f"{pid} (gone)")
    return "\n".join(lines)


class RootlessTest(unittest.TestCase):
    """A throwaway user for each test, and what to check after it."""

    def setUp(self):
        self.user = self.throwaway_user()
        self.inits_before = live_inits()

    def throwaway_user(self, taken=()):
        user = ThrowawayUser(taken)
        self.addCleanup(user.remove)
        return user

    def as_user(self, *args, check=True):
        return self.user.netlab(*args, check=check)

    def write_topology(self, topology):
        """A topology file the user can read, in their runtime directory."""
        path = os.path.join(self.user.runtime, "topology.json")
        with open(path, "w") as target:
            json.dump(topology, target)
        os.chmod(path, 0o644)
        return path

    def assert_nothing_left(self, user, lab, others_running=False):
        self.assertEqual(processes_of(user.uid), [], describe(processes_of(user.uid)))
        if not others_running:
            self.assertEqual(live_inits() - self.inits_before, set())
        self.assertFalse(os.path.exists(os.path.join(user.runtime, "netlab", lab)))



class RootlessLab(RootlessTest):
    def test_up_exec_status_down_as_an_ordinary_user(self):
        lab = unique_lab("rootless")
        uid = self.user.uid
        up = self.as_user("up", LAN, "--lab", lab)
        self.assertIn(f"lab `{lab}` is up: 7 nodes", up.stdout)
        state_directory = os.path.join(self.user.runtime, "netlab", lab)
        info = os.lstat(state_directory)
        self.assertEqual((info.st_uid, info.st_mode & 0o777), (uid, 0o700))
        self.assertFalse(os.path.exists(os.path.join("/run/netlab", lab)))

        status = json.loads(self.as_user("status", lab, "--format", "json").stdout)
        nodes = {node["name"]: node for node in status["nodes"]}
        self.assertEqual(sorted(nodes), ["h1", "h2", "h3", "h4", "lan0", "r1", "r2"])
        for name, node in nodes.items():
            self.assertEqual(node["state"], "running", name)
            pid = node["pid"]
            self.assertIn(pid, live_inits() - self.inits_before)
            self.assertEqual(os.stat(f"/proc/{pid}").st_uid, uid, name)
            # Seen from the host, node root is the user and nothing else.
            with open(f"/proc/{pid}/uid_map") as uid_map:
                self.assertEqual(uid_map.read().split(), ["0", str(uid), "1"], name)
            self.assertNotEqual(os.readlink(f"/proc/{pid}/ns/user"),
                                os.readlink("/proc/self/ns/user"))
        self.assertEqual({i["oper_state"] for i in nodes["r1"]["interfaces"] if i["name"] != "lo"},
                         {"up"})

        # Across the router pair: h1's LAN, r1, r2, h4's LAN.
        ping = self.as_user("exec", "--lab", lab, "h1", "--", "ping", "-c", "1", "-W", "5", "h4")
        self.assertIn("1 received", ping.stdout)
        hostname = self.as_user("exec", "--lab", lab, "h4", "--", "hostname")
        self.assertEqual(hostname.stdout.strip(), "h4")
        identity = self.as_user("exec", "--lab", lab, "r1", "--", "id", "-u")
        self.assertEqual(identity.stdout.strip(), "0")
        # Rootless nodes have no cgroups: top lists them running, without CPU or memory.
        top = json.loads(self.as_user("top", lab, "-n", "1", "-i", "0.2", "--format", "json")
                         .stdout.splitlines()[0])
        self.assertEqual({node["state"] for node in top["nodes"]}, {"running"})
        self.assertEqual({node["memory_bytes"] for node in top["nodes"]}, {None})
        self.as_user("test", lab)
        pingall = self.as_user("pingall", lab)
        self.assertNotIn("unreachable", pingall.stdout.lower())

        # Node root is the user: what root owns on the host stays out of reach.
        probe = f"/etc/netlab-rootless-{lab}"
        self.addCleanup(lambda: os.path.exists(probe) and os.unlink(probe))
        written = self.as_user("exec", "--lab", lab, "h1", "--", "touch", probe, check=False)
        self.assertNotEqual(written.returncode, 0)
        self.assertFalse(os.path.exists(probe))

        listed = json.loads(self.as_user("ls", "--format", "json").stdout)
        self.assertEqual([(entry["name"], entry["nodes"], entry["running"]) for entry in listed],
                         [(lab, 7, 7)])
        refused = self.as_user("node", "stop", "--lab", lab, "r1", check=False)
        self.assertEqual(refused.returncode, 1)
        self.assertIn("`netlab node stop` does not work without root yet", refused.stderr)
        self.assertNotIn("internal error", refused.stderr)
        self.assertEqual(os.stat(f"/proc/{nodes['r1']['pid']}").st_uid, uid)

        down = self.as_user("down", lab)
        self.assertIn(f"lab `{lab}` is down: 7 nodes stopped", down.stdout)
        self.assert_nothing_left(self.user, lab)
        self.assertIn("not running", self.as_user("down", lab).stdout)

    def test_links_are_impaired_failed_and_restored(self):
        lab = unique_lab("rootless")
        self.as_user("up", LAN, "--lab", lab, "-q")
        self.addCleanup(self.as_user, "down", lab, check=False)
        changed = self.as_user("link", "set", "--lab", lab, "r1:eth1", "--rate", "10mbit")
        self.assertIn("r1:eth1 egress: rate 10mbit", changed.stdout)
        self.assertIn("r2:eth0 egress: rate 10mbit", changed.stdout)
        # What the kernel holds, read inside the node.
        qdisc = self.as_user("exec", "--lab", lab, "r1", "--", "tc", "qdisc", "show", "dev",
                             "eth1")
        self.assertRegex(qdisc.stdout, r"qdisc tbf 1: root .*rate 10Mbit")
        shown = self.as_user("link", "show", lab)
        self.assertRegex(shown.stdout, r"r1:eth1\s+r2:eth0\s+up/up\s+rate 10mbit\s+rate 10mbit")
        # Measured: TCP from h1 to h4 crosses r1:eth1, at the rate (a second try on a loaded
        # machine, as in test_links).
        self.as_user("exec", "--lab", lab, "h4", "--", "iperf3", "-s", "-D")
        time.sleep(0.3)
        for attempt in range(2):
            report = json.loads(self.as_user("exec", "--lab", lab, "h1", "--", "iperf3", "-c",
                                             "h4", "-t", str(IPERF_SECONDS), "-O", "1",
                                             "-J").stdout)
            measured = report["end"]["sum_received"]["bits_per_second"]
            if abs(measured - 10e6) / 10e6 < RATE_TOLERANCE:
                break
        else:
            self.fail(f"h1 -> h4 through r1:eth1: {measured / 1e6:.2f} mbit/s, expected 10")

        ping = ["exec", "--lab", lab, "h1", "--", "ping", "-c", "1", "-W", "2", "h4"]
        self.as_user("link", "down", "--lab", lab, "r1:eth1")
        self.assertNotEqual(self.as_user(*ping, check=False).returncode, 0)
        self.as_user("link", "up", "--lab", lab, "r1:eth1")
        self.assertIn("1 received", self.as_user(*ping).stdout)
        self.as_user("link", "reset", "--lab", lab, "r1:eth1")
        qdisc = self.as_user("exec", "--lab", lab, "r1", "--", "tc", "qdisc", "show", "dev",
                             "eth1")
        self.assertNotIn("tbf", qdisc.stdout)
        self.as_user("down", lab)
        self.assert_nothing_left(self.user, lab)

    def test_two_users_run_labs_of_the_same_name(self):
        lab = unique_lab("rootless")
        other = self.throwaway_user(taken={self.user.uid})
        pids = {}
        for user in (self.user, other):
            user.netlab("up", LAN, "--lab", lab, "-q")
            self.addCleanup(user.netlab, "down", lab, check=False)
            status = json.loads(user.netlab("status", lab, "--format", "json").stdout)
            pids[user.uid] = {node["pid"] for node in status["nodes"]}
            self.assertTrue(all(os.stat(f"/proc/{pid}").st_uid == user.uid
                                for pid in pids[user.uid]))
        self.assertFalse(pids[self.user.uid] & pids[other.uid])
        for user in (self.user, other):
            listed = json.loads(user.netlab("ls", "--format", "json").stdout)
            self.assertEqual([(entry["name"], entry["running"]) for entry in listed], [(lab, 7)])
        # Each user's runtime directory is theirs alone: the other cannot even look in.
        blocked = other.netlab("status", lab, runtime=self.user.runtime, check=False)
        self.assertEqual(blocked.returncode, 1)
        self.assertIn("Permission denied", blocked.stderr)
        for user in (self.user, other):
            user.netlab("exec", "--lab", lab, "h1", "--", "ping", "-c", "1", "-W", "5", "h4")
        self.user.netlab("down", lab)
        self.assert_nothing_left(self.user, lab, others_running=True)
        self.assertTrue(all(os.path.exists(f"/proc/{pid}") for pid in pids[other.uid]))
        other.netlab("down", lab)
        self.assert_nothing_left(other, lab)

    def test_down_all_takes_down_every_lab_of_the_user(self):
        labs = [unique_lab("rootless") for _ in range(2)]
        for lab in labs:
            self.as_user("up", LAN, "--lab", lab, "-q")
            self.addCleanup(self.as_user, "down", lab, check=False)
        down = self.as_user("down", "--all")
        for lab in labs:
            self.assertIn(f"lab `{lab}` is down: 7 nodes stopped", down.stdout)
            self.assert_nothing_left(self.user, lab)
        self.assertEqual(json.loads(self.as_user("ls", "--format", "json").stdout), [])

    def test_root_of_one_lab_cannot_enter_the_users_other_lab(self):
        """Root of lab A (in A's user namespace) has no power over lab B of the same user: the
        kernel refuses to move it into B's network namespace, and inside A's nodes neither B nor
        its state can be found."""
        labs = [unique_lab("rootless") for _ in range(2)]
        pids = []
        for lab in labs:
            self.as_user("up", LAN, "--lab", lab, "-q")
            self.addCleanup(self.as_user, "down", lab, check=False)
            status = json.loads(self.as_user("status", lab, "--format", "json").stdout)
            pids.append(next(node["pid"] for node in status["nodes"] if node["name"] == "h1"))
        a, b = pids
        # The user can become root of lab A's h1 (its user namespace, nested in A's)...
        own = self.user.run(["nsenter", "--preserve-credentials", f"--user=/proc/{a}/ns/user",
                             f"--net=/proc/{a}/ns/net", "true"], check=False)
        self.assertEqual(own.returncode, 0, own.stderr)
        # ...and from there cannot enter lab B's h1.
        other = self.user.run(["nsenter", "--preserve-credentials", f"--user=/proc/{a}/ns/user",
                               f"--net=/proc/{b}/ns/net", "true"], check=False)
        self.assertNotEqual(other.returncode, 0)
        self.assertIn("Operation not permitted", other.stderr)
        # Inside lab A's node, the user's state (B's node records among it) is not there to find:
        # the node's /run is its own.
        inside = self.as_user("exec", "--lab", labs[0], "h1", "--", "ls",
                              f"{self.user.runtime}/netlab", check=False)
        self.assertNotEqual(inside.returncode, 0)
        self.assertIn("No such file or directory", inside.stderr)

    def test_capture_in_a_rootless_lab(self):
        """A capture as the user, written to the user's file: every ping of h1 and its reply."""
        lab = unique_lab("rootless")
        self.as_user("up", LAN, "--lab", lab, "-q")
        self.addCleanup(self.as_user, "down", lab, check=False)
        path = os.path.join(self.user.runtime, "pings.pcapng")
        environment = user_environment(os.environ.get("PATH", "/usr/bin:/bin"), self.user.runtime)
        capture = subprocess.Popen([NETLAB, "capture", "--lab", lab, "h1:eth0", "-w", path,
                                    "-c", "6", "icmp"], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, user=self.user.uid,
                                   group=self.user.uid, extra_groups=[], env=environment, cwd="/")
        self.addCleanup(lambda: capture.poll() is None and capture.kill())
        self.assertIn("capturing on", capture.stderr.readline())
        self.as_user("exec", "--lab", lab, "h1", "--", "ping", "-c", "3", "-i", "0.05", "h4")
        _, stderr = capture.communicate(timeout=30)
        self.assertEqual(capture.returncode, 0, stderr)
        self.assertIn("h1:eth0: 6 packets, 0 dropped", stderr)
        self.assertEqual(os.stat(path).st_uid, self.user.uid)
        names, packets = read_pcapng(path)
        self.assertEqual(names, ["h1:eth0"])
        self.assertEqual(sorted(packet[2][34] for packet in packets), [0] * 3 + [8] * 3,
                         "three echo requests (ICMP type 8) and three replies")

    def test_root_and_rootless_labs_of_one_name_do_not_see_each_other(self):
        lab = unique_lab("rootless")
        netlab("up", LAN, "--lab", lab, "-q")
        self.addCleanup(netlab, "down", lab, check=False)
        self.as_user("up", LAN, "--lab", lab, "-q")
        self.addCleanup(self.as_user, "down", lab, check=False)
        root_nodes = {node["pid"] for node in
                      json.loads(netlab("status", lab, "--format", "json").stdout)["nodes"]}
        user_nodes = {node["pid"] for node in
                      json.loads(self.as_user("status", lab, "--format", "json").stdout)["nodes"]}
        self.assertFalse(root_nodes & user_nodes)
        self.assertTrue(all(os.stat(f"/proc/{pid}").st_uid == 0 for pid in root_nodes))
        self.as_user("down", lab)
        self.assert_nothing_left(self.user, lab, others_running=True)
        # Root's lab of the same name is untouched, and still works.
        self.assertTrue(all(os.path.exists(f"/proc/{pid}") for pid in root_nodes))
        ping = netlab("exec", "--lab", lab, "h1", "--", "ping", "-c", "1", "-W", "5", "h4")
        self.assertIn("1 received", ping.stdout)
        netlab("down", lab)

    def test_down_after_every_node_died_removes_the_state(self):
        lab = unique_lab("rootless")
        self.as_user("up", LAN, "--lab", lab, "-q")
        status = json.loads(self.as_user("status", lab, "--format", "json").stdout)
        for node in status["nodes"]:
            os.kill(node["pid"], signal.SIGKILL)
        for _ in range(100):
            if not processes_of(self.user.uid):
                break
            time.sleep(0.05)
        # No node is left to enter the lab's user namespace through: it went with them.
        down = self.as_user("down", lab)
        self.assertIn(f"lab `{lab}` is down", down.stdout)
        self.assert_nothing_left(self.user, lab)

    def test_sigkill_at_steps_of_up_then_down_leaves_nothing(self):
        """strace, run as the user, kills netlab on entering a chosen system call of its worker's
        main thread (test_labs.strace): the unshare that makes the lab's user namespace, and
        renames of the files it writes (records, hosts, the state file last)."""
        if not shutil.which("strace"):
            self.skipTest("strace is not installed")
        log = os.path.join(self.user.runtime, "renames")
        lab = unique_lab("rootless")
        self.user.run([*strace("trace=renameat", "-o", log), NETLAB, "up", LAN, "--lab", lab])
        self.as_user("down", lab)
        with open(log) as renames:
            count = sum(1 for call, _ in worker_calls(renames.read()) if call == "renameat")
        self.assertGreater(count, 2)
        points = [("unshare", 1)] + [("renameat", n) for n in sorted({1, count // 2, count})]
        for call, when in points:
            with self.subTest(call=call, when=when):
                lab = unique_lab("rootless")
                killed = self.user.run(
                    [*strace(f"trace={call}", "-o", "/dev/null", "-e",
                             f"inject={call}:signal=SIGKILL:when={when}"), NETLAB, "up", LAN,
                     "--lab", lab], check=False)
                if killed.returncode == 0:
                    # Worker threads write records too (strace counts each apart): the main
                    # thread's count may differ by a few, and a late point may not be reached.
                    self.assertEqual(call, "renameat", "netlab was not killed")
                down = self.as_user("down", lab)
                self.assertRegex(down.stdout, "is down|not running")
                self.assert_nothing_left(self.user, lab)

    def test_frr_is_refused_with_the_single_id_map(self):
        """FRR's daemons switch to FRR's user, which a lab of one id has not: refused, with the
        range to add, before anything is made (generated or hand-written configuration)."""
        if frr_missing():
            self.skipTest(frr_missing())
        for example in ("ospf/generated.json", "ospf/topo.json"):
            lab = unique_lab("rootless")
            refused = self.as_user("up", os.path.join(EXAMPLES, example), "--lab", lab,
                                   check=False)
            with self.subTest(example=example):
                self.assertEqual(refused.returncode, 2, refused.stderr)
                self.assertIn("nodes r1, r2, r3, r4, r5 run FRR, whose daemons switch to FRR's own "
                              "user, and the lab maps your own id alone (", refused.stderr)
                self.assertEqual(refused.stderr.count("run FRR"), 1, refused.stderr)
                self.assertIn(f"add `{self.user.uid}:100000:65536` to /etc/subuid",
                              refused.stderr)
                self.assert_nothing_left(self.user, lab)

    def test_bird_example_passes_its_tests_with_the_single_id_map(self):
        """BIRD runs as root, the user: the BGP example needs no range."""
        if bird_missing():
            self.skipTest(bird_missing())
        lab = unique_lab("rootless")
        self.as_user("up", os.path.join(EXAMPLES, "bgp", "topo.json"), "--lab", lab, "-q")
        self.addCleanup(self.as_user, "down", lab, check=False)
        result = self.as_user("test", lab, check=False)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.as_user("down", lab)
        self.assert_nothing_left(self.user, lab)

    def assert_lan_refused(self, node, setting, message):
        """examples/lan.json with one setting added to a node: `up` exits 2 with the message,
        having made nothing."""
        with open(LAN) as source:
            topology = json.load(source)
        topology["nodes"][node].update(setting)
        path = self.write_topology(topology)
        lab = unique_lab("rootless")
        refused = self.as_user("up", path, "--lab", lab, check=False)
        self.assertEqual(refused.returncode, 2, refused.stderr)
        self.assertIn(message, refused.stderr)
        self.assert_nothing_left(self.user, lab)

    def test_isolated_nodes_are_refused_with_the_reason(self):
        self.assert_lan_refused("h1", {"userns": "isolated"},
                                "node h1 has \"userns\": \"isolated\"")

    def test_resources_are_refused_with_the_reason(self):
        self.assert_lan_refused("h2", {"resources": {"cpus": 0.5}},
                                "node h2 has `resources` (cpus 0.5), which netlab applies "
                                "through cgroups")


def cgroup2_mount():
    """Where cgroup v2 is mounted here (/sys/fs/cgroup, or /sys/fs/cgroup/unified beside v1)."""
    with open("/proc/self/mountinfo") as mountinfo:
        for line in mountinfo:
            left, right = line.split(" - ")
            if right.split()[0] == "cgroup2":
                return left.split()[4]
    return None


def v2_cgroup_of(pid):
    with open(f"/proc/{pid}/cgroup") as cgroups:
        return next(line.rstrip("\n")[3:] for line in cgroups if line.startswith("0::"))


def remove_cgroup_tree(path):
    """Depth first; the processes in it are gone (ThrowawayUser.remove killed them)."""
    for _ in range(50):
        try:
            for entry in os.scandir(path):
                if entry.is_dir(follow_symlinks=False):
                    remove_cgroup_tree(entry.path)
            os.rmdir(path)
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.1)
    os.rmdir(path)


class DelegatedCgroupTest(RootlessTest):
    """A cgroup v2 cgroup delegated to the user, as systemd's `Delegate=` leaves one: a
    root-owned parent (systemd's slice) whose cgroup.subtree_control says which controllers it
    offers, and below it the user's cgroup, its directory, cgroup.procs, cgroup.subtree_control
    and cgroup.threads chowned to the user. netlab runs as the user, started in that cgroup."""

    OFFERED = ""  # the controllers the parent hands down, for the subclass that needs them

    def setUp(self):
        super().setUp()
        mount = cgroup2_mount()
        if mount is None:
            self.skipTest("no cgroup v2 mounted here")
        self.mount = mount
        self.parent = os.path.join(mount, f"netlab-test-{self.user.uid}")
        os.mkdir(self.parent)
        # After the user's processes are killed (cleanups run last-in, first-out).
        self.addCleanup(remove_cgroup_tree, self.parent)
        with open(os.path.join(mount, "cgroup.subtree_control")) as control:
            handed = control.read().split()
        missing = [name for name in self.OFFERED.split() if name not in handed]
        if missing:
            self.skipTest(f"cgroup v2 here hands no {', '.join(missing)} controller down from "
                          f"its root (the stock-kernel tier, vm_e2e_rootless_cgroup_limits, "
                          f"has them)")
        if self.OFFERED:
            with open(os.path.join(self.parent, "cgroup.subtree_control"), "w") as control:
                control.write(" ".join("+" + name for name in self.OFFERED.split()))
        self.delegated = os.path.join(self.parent, "user")
        os.mkdir(self.delegated)
        for name in ("", "cgroup.procs", "cgroup.subtree_control", "cgroup.threads"):
            os.chown(os.path.join(self.delegated, name), self.user.uid, self.user.uid)

    def in_delegated(self, *args, check=True):
        return self.user.netlab(*args, check=check, cgroup=self.delegated)

    def sibling(self, name):
        """A cgroup of the user's beside netlab's (another unit of the same user manager)."""
        path = os.path.join(self.delegated, name)
        self.user.run(["mkdir", path])
        return path

    def node_pids(self, lab):
        status = json.loads(self.as_user("status", lab, "--format", "json").stdout)
        return {node["name"]: node["pid"] for node in status["nodes"]}



class DelegatedCgroup(DelegatedCgroupTest):
    """Nodes' cgroups without root; the parent hands no controller down."""

    def test_nodes_get_cgroups_below_the_delegated_one_and_down_removes_them(self):
        lab = unique_lab("delegated")
        self.in_delegated("up", LAN, "--lab", lab, "-q")
        self.addCleanup(self.as_user, "down", lab, check=False)
        below = self.delegated[len(self.mount):]
        for name, pid in self.node_pids(lab).items():
            self.assertEqual(v2_cgroup_of(pid), f"{below}/netlab-{lab}/{name}")
        status = json.loads(self.as_user("status", lab, "--format", "json").stdout)
        self.assertTrue(all(node["cpu_seconds"] is not None for node in status["nodes"]))
        # A command from a cgroup of the user's joins the node's: inside the node's cgroup
        # namespace it is at its root.
        inside = self.user.netlab("exec", "--lab", lab, "h1", "--", "cat", "/proc/self/cgroup",
                                  cgroup=self.sibling("shell"))
        self.assertIn("0::/\n", inside.stdout)
        self.assertNotIn("note", inside.stderr)
        # From outside the delegated cgroup it cannot: it runs, and says so.
        outside = self.as_user("exec", "--lab", lab, "h1", "--", "cat", "/proc/self/cgroup")
        self.assertIn(f"h1's command runs outside its cgroup {self.delegated}/netlab-{lab}/h1",
                      outside.stderr)
        self.assertNotIn("0::/\n", outside.stdout)
        self.in_delegated("exec", "--lab", lab, "h4", "--", "ping", "-c", "1", "-W", "5", "h1")
        down = self.as_user("down", lab)
        self.assertIn(f"lab `{lab}` is down: 7 nodes stopped", down.stdout)
        self.assert_nothing_left(self.user, lab)
        self.assertFalse(os.path.exists(os.path.join(self.delegated, f"netlab-{lab}")))

    def test_a_controller_the_delegated_cgroup_lacks_is_refused(self):
        """The parent offers no controller at all."""
        topology = {"nodes": {"h1": {"resources": {"cpus": 0.5}}, "h2": {}},
                    "links": [{"endpoints": ["h1", "h2"]}]}
        lab = unique_lab("delegated")
        refused = self.in_delegated("up", self.write_topology(topology), "--lab", lab,
                                    check=False)
        self.assertEqual(refused.returncode, 1, refused.stdout + refused.stderr)
        self.assertIn("node h1 has `resources` `cpus`, but the cgroup delegated to you offers "
                      "no cpu controller", refused.stderr)
        self.assert_nothing_left(self.user, lab)
        self.assertEqual([entry.name for entry in os.scandir(self.delegated) if entry.is_dir()
                          and entry.name.startswith("netlab-")], [])


class DelegatedCgroupLimits(DelegatedCgroupTest):
    """The same with controllers to hand down: `resources` applied and measured without root
    (cgroup v2 here offers none, so these run in the stock-kernel tier)."""

    OFFERED = "cpu memory pids"  # as systemd's user@.service has them
    TOPOLOGY = {"nodes": {"h1": {"resources": {"cpus": 0.2, "pids": 64}},
                          "h2": {"resources": {"memory": "64M"}}, "h3": {}},
                "links": [{"endpoints": ["h1", "h2", "h3"], "prefix": "10.9.0.0/24"}]}

    @staticmethod
    def procs(cgroup):
        with open(os.path.join(cgroup, "cgroup.procs")) as procs:
            return procs.read()

    def read(self, lab, node, name):
        with open(os.path.join(self.delegated, f"netlab-{lab}", node, name)) as file:
            return file.read().strip()

    def test_limits_are_applied_a_cpu_bound_node_gets_its_share_and_memory_is_held(self):
        lab = unique_lab("delegated")
        up = self.in_delegated("up", self.write_topology(self.TOPOLOGY), "--lab", lab)
        self.addCleanup(self.as_user, "down", lab, check=False)
        self.assertIn("each node may have 1024 tasks (cgroup v2 pids controller)", up.stdout)
        self.assertEqual(self.read(lab, "h1", "cpu.max").split(), ["20000", "100000"])
        self.assertEqual(self.read(lab, "h1", "pids.max"), "64")
        self.assertEqual(self.read(lab, "h3", "pids.max"), "1024")
        self.assertEqual(int(self.read(lab, "h2", "memory.max")), 64 << 20)
        # netlab moved itself out of the delegated cgroup to hand its controllers down.
        self.assertEqual(self.procs(self.delegated), "")
        shell = self.sibling("shell")
        self.user.netlab("exec", "--lab", lab, "h1", "--", "sh", "-c",
                         "timeout 6 sh -c 'while :; do :; done' >/dev/null 2>&1 &", cgroup=shell)
        time.sleep(1)

        def cpu_seconds():
            status = json.loads(self.as_user("status", lab, "--format", "json").stdout)
            return next(n["cpu_seconds"] for n in status["nodes"] if n["name"] == "h1")
        before, started = cpu_seconds(), time.monotonic()
        time.sleep(3)
        after, ended = cpu_seconds(), time.monotonic()
        share = (after - before) / (ended - started)
        print(f"\nrootless h1 limited to 0.2 CPUs used {share:.3f} of a CPU over "
              f"{ended - started:.1f} s", file=sys.stderr)
        self.assertAlmostEqual(share, 0.2, delta=0.05)
        # Twice h2's memory in dd's buffer: killed in h2's cgroup; h3, unlimited, holds it.
        hog = ["sh", "-c", "echo 1000 > /proc/self/oom_score_adj && "
               "exec dd if=/dev/zero of=/dev/null bs=128M count=1"]
        killed = self.user.netlab("exec", "--lab", lab, "h2", "--", *hog, check=False,
                                  cgroup=shell)
        self.assertEqual(killed.returncode, 128 + 9, killed.stderr)
        self.assertRegex(self.read(lab, "h2", "memory.events"), r"oom_kill [1-9]")
        self.user.netlab("exec", "--lab", lab, "h3", "--", *hog, cgroup=shell)
        self.assertRegex(self.read(lab, "h3", "memory.events"), r"oom_kill 0")
        self.as_user("down", lab)
        self.assert_nothing_left(self.user, lab)
        self.assertFalse(os.path.exists(os.path.join(self.delegated, f"netlab-{lab}")))

    def test_a_delegated_cgroup_with_other_processes_hands_nothing_down(self):
        """The user's shell in the delegated cgroup: cgroup v2 lets it hand no controller down,
        and a lab asking for one is refused with the reason, leaving nothing."""
        shell = subprocess.Popen(["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec setpriv '
                                  f'--reuid={self.user.uid} --regid={self.user.uid} '
                                  '--clear-groups sleep 300', self.delegated])
        self.addCleanup(shell.wait)
        self.addCleanup(shell.kill)
        for _ in range(50):
            if str(shell.pid) in self.procs(self.delegated):
                break
            time.sleep(0.1)
        lab = unique_lab("delegated")
        refused = self.in_delegated("up", self.write_topology(self.TOPOLOGY), "--lab", lab,
                                    check=False)
        self.assertEqual(refused.returncode, 1, refused.stdout + refused.stderr)
        self.assertIn(f"node h1 has `resources` `cpus`, but the cgroup delegated to you, "
                      f"{self.delegated}, holds processes besides netlab ({shell.pid} sleep)",
                      refused.stderr)
        self.assertIn("systemd-run --user --scope -p Delegate=yes", refused.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.delegated, f"netlab-{lab}")))
        self.assertFalse(os.path.exists(os.path.join(self.user.runtime, "netlab", lab)))


class SubordinateRange(unittest.TestCase):
    """With newuidmap/newgidmap and a range for the user, the lab maps root and the range, and a
    node's processes can switch to other users. The user's account and range are given in the
    test's private mount namespace only: copies of /etc/passwd, /etc/subuid and /etc/subgid bound
    over them. The helpers are the system's (Debian's uidmap), or, when NETLAB_TEST_UIDMAP_DIR
    names a directory holding them, setuid copies on the private /run."""

    FIRST, COUNT = 3000000, 65536

    def setUp(self):
        self.user = ThrowawayUser()
        self.addCleanup(self.user.remove)
        self.inits_before = live_inits()
        self.path = os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        source = os.environ.get("NETLAB_TEST_UIDMAP_DIR")
        if source:
            helpers = os.path.join(self.user.runtime, "..", f"uidmap-{self.user.uid}")
            os.makedirs(helpers, mode=0o755)
            self.addCleanup(shutil.rmtree, helpers, ignore_errors=True)
            for program in ("newuidmap", "newgidmap"):
                shutil.copy(os.path.join(source, program), helpers)
                os.chown(os.path.join(helpers, program), 0, 0)
                os.chmod(os.path.join(helpers, program), 0o4755)
            self.path = os.path.realpath(helpers) + ":" + self.path
        elif not (shutil.which("newuidmap") and shutil.which("newgidmap")):
            self.skipTest("newuidmap and newgidmap are not installed (Debian: the uidmap package)")
        name = f"netlab-test-{self.user.uid}"
        with open("/etc/passwd") as passwd:
            accounts = passwd.read()
        accounts += f"{name}:x:{self.user.uid}:{self.user.uid}::/:/bin/sh\n"
        range_line = f"{name}:{self.FIRST}:{self.COUNT}\n"
        for target, text in (("/etc/passwd", accounts), ("/etc/subuid", range_line),
                             ("/etc/subgid", range_line)):
            copy = os.path.join("/run", f"netlab-test-{self.user.uid}-{os.path.basename(target)}")
            with open(copy, "w") as file:
                file.write(text)
            os.chmod(copy, 0o644)
            self.addCleanup(os.unlink, copy)
            subprocess.run(["mount", "--bind", copy, target], check=True)
            self.addCleanup(subprocess.run, ["umount", target], check=True)

    def as_user(self, *args, check=True):
        environment = user_environment(self.path, self.user.runtime)
        result = subprocess.run([NETLAB, *args], capture_output=True, text=True, timeout=300,
                                user=self.user.uid, group=self.user.uid, extra_groups=[],
                                env=environment, cwd="/")
        if check and result.returncode != 0:
            raise AssertionError(f"netlab {' '.join(args)} exited {result.returncode}:\n"
                                 f"{result.stdout}\n{result.stderr}")
        return result

    def test_the_lab_maps_root_and_the_range(self):
        lab = unique_lab("subids")
        up = self.as_user("up", LAN, "--lab", lab, "-q")
        self.addCleanup(self.as_user, "down", lab, check=False)
        self.assertNotIn("maps your own id alone", up.stderr)
        status = json.loads(self.as_user("status", lab, "--format", "json").stdout)
        for node in status["nodes"]:
            with open(f"/proc/{node['pid']}/uid_map") as uid_map:
                lines = [line.split() for line in uid_map.read().splitlines()]
            self.assertEqual(lines, [["0", str(self.user.uid), "1"],
                                     ["1", str(self.FIRST), str(self.COUNT)]], node["name"])
        # A node's root can become another user (setgroups allowed), as FRR's daemons do.
        switched = self.as_user("exec", "--lab", lab, "r1", "--", "setpriv", "--reuid=1000",
                                "--regid=1000", "--clear-groups", "id", "-u")
        self.assertEqual(switched.stdout.strip(), "1000")
        ping = self.as_user("exec", "--lab", lab, "h1", "--", "ping", "-c", "1", "-W", "5", "h4")
        self.assertIn("1 received", ping.stdout)
        self.as_user("down", lab)
        self.assert_nothing_left(lab)

    def assert_nothing_left(self, lab):
        self.assertEqual(processes_of(self.user.uid), [], describe(processes_of(self.user.uid)))
        self.assertEqual(live_inits() - self.inits_before, set())
        self.assertFalse(os.path.exists(os.path.join(self.user.runtime, "netlab", lab)))

    def check_routing_example(self, example, daemon):
        """The example comes up as the user, converges until its own tests pass, its daemon
        runs (FRR's as FRR's own user, mapped from the range), and down leaves nothing."""
        reason = bird_missing() if daemon == "bird" else frr_missing()
        if reason:
            self.skipTest(reason)
        lab = unique_lab("subids")
        self.as_user("up", os.path.join(EXAMPLES, example), "--lab", lab, "-q")
        self.addCleanup(self.as_user, "down", lab, check=False)
        # `netlab test` retries each check until its timeout, convergence included.
        result = self.as_user("test", lab, check=False)
        self.assertEqual(result.returncode, 0, f"{example}:\n{result.stdout}{result.stderr}")
        users = self.as_user("exec", "--lab", lab, "r1", "--", "ps", "-o", "user=", "-C",
                             daemon).stdout.split()
        self.assertEqual(users, ["frr" if daemon == "zebra" else "root"], daemon)
        self.as_user("down", lab)
        self.assert_nothing_left(lab)


for example, daemon in [("ospf/topo.json", "zebra"), ("ospf/generated.json", "zebra"),
                        ("bgp/topo.json", "bird"), ("bgp/generated.json", "zebra"),
                        ("ospf-bgp/bird.json", "bird")]:
    name = example.replace("/topo.json", "").replace(".json", "").replace("/", "_").replace("-", "_")
    setattr(SubordinateRange, f"test_{name}_passes_its_tests",
            lambda self, path=example, daemon=daemon: self.check_routing_example(path, daemon))

if __name__ == "__main__":
    unittest.main()
