"""End-to-end tests: the netlab binary on the example topologies, as root.

Run by tests/run_isolated.sh inside private namespaces. Every test asserts on real state
(hostnames, namespace inodes, interfaces, pings) and, after `down`, that nothing of the lab is
left: no interface, mount, netlab-init process or state file.
"""
import json
import os
import subprocess
import tempfile
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


def snapshot():
    """What the host looks like, for comparing before `up` and after `down`."""
    with open("/proc/self/mountinfo") as mounts:
        mount_points = sorted(line.split()[4] for line in mounts)
    return {
        "links": subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout,
        "mounts": mount_points,
        # netlab creates /run/netlab on first use and leaves it, empty, behind.
        "state": sorted(os.listdir("/run/netlab")) if os.path.isdir("/run/netlab") else [],
        "inits": live_inits(),
    }


def unique_lab(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


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
                interfaces = {line.split()[0].split("@")[0]
                              for line in self.exec(lab, name, "ip", "-br", "link").stdout.splitlines()}
                expected = {"lo"} | {i["name"] for i in node.get("interfaces", [])}
                if node["kind"] == "switch":
                    expected.add("br0")
                self.assertEqual(interfaces, expected)
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

    def test_lan(self):
        self.check_example("lan")

    def test_triangle(self):
        self.check_example("triangle")

    def test_chain(self):
        self.check_example("chain")


class Exec(LabTest):
    def test_exit_status_and_stdin_pass_through(self):
        lab = unique_lab("exec")
        self.bring_up(os.path.join(EXAMPLES, "lan.json"), lab)
        self.assertEqual(self.exec(lab, "h1", "sh", "-c", "exit 7", check=False).returncode, 7)
        self.assertEqual(self.exec(lab, "h1", "cat", stdin="through stdin\n").stdout, "through stdin\n")
        missing = self.exec(lab, "h1", "no-such-program", check=False)
        self.assertNotEqual(missing.returncode, 0)
        self.assertIn("no-such-program", missing.stderr)
        many = json.loads(netlab("exec", "--lab", lab, "--format", "json", "h*", "--", "hostname").stdout)
        self.assertEqual(sorted(entry["stdout"].strip() for entry in many),
                         sorted(entry["node"] for entry in many))


class Failures(LabTest):
    def write_topology(self, topology):
        directory = tempfile.mkdtemp()
        path = os.path.join(directory, "broken.json")
        with open(path, "w") as file:
            json.dump(topology, file)
        return path

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

    def test_setting_the_kernel_rejects_rolls_back(self):
        # Validation already refuses the routes the kernel would (duplicates, gateways off the
        # device's subnet); a sysctl value is only judged by the kernel.
        self.assert_up_fails_cleanly(
            {"nodes": {"a": {"sysctls": {"net.ipv4.ip_forward": "banana"}}, "b": {}},
             "links": [["a", "b"]]},
            "configuring node a", "net.ipv4.ip_forward=banana", "Invalid argument")


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
