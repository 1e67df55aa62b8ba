"""End-to-end tests of `"userns": "isolated"` and of the limits `netlab up` checks first.

Run by tests/run_isolated.sh inside private namespaces, as root. An isolated node's root is
uid 0 inside but an unprivileged host id outside: it cannot write the host's root-owned files,
while its programs, its network and netlab exec work as in any node.
"""
import os
import shutil
import subprocess
import tempfile
import unittest

from test_labs import LabTest, netlab, snapshot, unique_lab

# docs/topology.md#user-namespaces
FIRST_HOST_ID = 0x70000000
IDS_PER_NODE = 65536
HOST_PROBE = "/etc/netlab-isolation-probe"


class Isolated(LabTest):
    def make_probe_directory(self):
        """A root-owned 0755 directory holding a root-only file and a directory anyone may write."""
        directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, directory, ignore_errors=True)
        os.chmod(directory, 0o755)
        with open(os.path.join(directory, "secret"), "w") as secret:
            secret.write("root only\n")
        os.chmod(os.path.join(directory, "secret"), 0o600)
        os.mkdir(os.path.join(directory, "shared"))
        os.chmod(os.path.join(directory, "shared"), 0o777)
        return directory

    def test_node_root_is_an_unprivileged_host_user(self):
        probe = self.make_probe_directory()
        # Never left behind on the host, even if isolation failed.
        self.addCleanup(lambda: os.path.exists(HOST_PROBE) and os.remove(HOST_PROBE))
        topology = self.write_topology({
            "userns": "isolated",
            "defaults": {"mounts": [f"{probe}:/run/probe"]},
            "nodes": {
                "a": {"files": [{"path": "/run/own", "content": "mine\n", "mode": "0600"}],
                      "exec": ["touch /tmp/started"]},
                "b": {"kind": "router"},
                "h": {"userns": "host"},
            },
            "links": [{"endpoints": ["a", "b"]}, {"endpoints": ["b", "h"]}],
            "routing": "static",
        })
        lab = unique_lab("userns")
        plan = self.bring_up(topology, lab)
        nodes = {node["name"]: node for node in plan["nodes"]}
        self.assertEqual(nodes["a"]["userns"], {"first_host_id": FIRST_HOST_ID, "ids": IDS_PER_NODE})
        self.assertEqual(nodes["b"]["userns"]["first_host_id"], FIRST_HOST_ID + IDS_PER_NODE)
        self.assertNotIn("userns", nodes["h"])

        for name in ("a", "b"):
            with self.subTest(node=name):
                first = nodes[name]["userns"]["first_host_id"]
                self.assertEqual(self.exec(lab, name, "id", "-u").stdout.strip(), "0")
                self.assertEqual(self.exec(lab, name, "id", "-g").stdout.strip(), "0")
                uid_map = self.exec(lab, name, "cat", "/proc/self/uid_map").stdout.split()
                self.assertEqual(uid_map, ["0", str(first), str(IDS_PER_NODE)])
                # Root-owned host files: readable where others may read, never writable.
                denied = self.exec(lab, name, "touch", HOST_PROBE, check=False)
                self.assertNotEqual(denied.returncode, 0)
                self.assertIn("Permission denied", denied.stderr)
                self.assertFalse(os.path.exists(HOST_PROBE))
                denied = self.exec(lab, name, "touch", "/run/probe/planted", check=False)
                self.assertIn("Permission denied", denied.stderr)
                self.assertFalse(os.path.exists(os.path.join(probe, "planted")))
                unreadable = self.exec(lab, name, "cat", "/run/probe/secret", check=False)
                self.assertIn("Permission denied", unreadable.stderr)
                self.assertIn("root:x:0:0", self.exec(lab, name, "cat", "/etc/passwd").stdout)
                # What the node writes where others may write belongs to its host id block.
                made = os.path.join(probe, "shared", name)
                self.exec(lab, name, "touch", f"/run/probe/shared/{name}")
                self.assertEqual((os.stat(made).st_uid, os.stat(made).st_gid), (first, first))

        # The node's own files are its root's, whatever their mode; startup commands ran.
        self.assertEqual(self.exec(lab, "a", "cat", "/run/own").stdout, "mine\n")
        self.assertEqual(self.exec(lab, "a", "test", "-e", "/tmp/started").returncode, 0)
        # Programs and the network work as in any node, routed through an isolated router.
        self.exec(lab, "a", "ping", "-c", "1", "-W", "5", "h")
        # A host-mode node in the same lab is host root for files.
        self.assertEqual(self.exec(lab, "h", "cat", "/proc/self/uid_map").stdout.split(),
                         ["0", "0", "4294967295"])
        self.exec(lab, "h", "touch", "/run/probe/by-host-node")
        self.assertEqual(os.stat(os.path.join(probe, "by-host-node")).st_uid, 0)

    def test_a_wrong_mode_is_a_topology_error(self):
        topology = self.write_topology({"nodes": {"a": {"userns": "isolate"}}})
        result = netlab("up", topology, "--lab", unique_lab("userns"), check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("unknown userns `isolate`", result.stderr)
        self.assertIn("isolated", result.stderr)


def chain(count):
    nodes = {f"n{i}": {} for i in range(count)}
    links = [{"endpoints": [f"n{i}", f"n{i + 1}"]} for i in range(count - 1)]
    return {"nodes": nodes, "links": links}


class Limits(LabTest):
    def up_with(self, shell_prefix, topology, lab):
        """`netlab up` after shell_prefix (run in the same shell) changed a limit."""
        return subprocess.run(["sh", "-c", f'{shell_prefix} && exec "$@"', "sh",
                               os.environ["NETLAB"], "up", topology, "--lab", lab],
                              capture_output=True, text=True, timeout=300)

    def assert_nothing_created(self, lab):
        self.assertFalse(os.path.exists(f"/run/netlab/{lab}"))

    def test_too_few_network_namespaces_are_reported_before_anything_is_made(self):
        # user.max_net_namespaces is per user namespace: lowered in a new one (whose root is
        # ours), it limits only what is created in there, and the host keeps its own.
        if shutil.which("unshare") is None:
            self.skipTest("unshare(1) is missing")
        topology = self.write_topology(chain(3))
        lab = unique_lab("limits")
        result = subprocess.run(
            ["unshare", "--user", "--map-root-user", "sh", "-c",
             'echo 2 > /proc/sys/user/max_net_namespaces && exec "$@"', "sh",
             os.environ["NETLAB"], "up", topology, "--lab", lab],
            capture_output=True, text=True, timeout=300)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("network namespaces but user.max_net_namespaces is 2 (raise it with "
                      "`sysctl -w user.max_net_namespaces=", result.stderr)
        self.assert_nothing_created(lab)

    def test_a_low_hard_open_file_limit_is_reported(self):
        topology = self.write_topology(chain(20))
        lab = unique_lab("limits")
        result = self.up_with("ulimit -n 100", topology, lab)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("a lab of 20 nodes needs about 124 open files, but the hard limit is 100 "
                      "(raise it with `ulimit -Hn 124`)", result.stderr)
        self.assert_nothing_created(lab)

    def test_a_low_soft_open_file_limit_is_raised(self):
        # 60 nodes hold about 180 fds while they are built: far above the soft limit given.
        topology = self.write_topology(chain(60))
        lab = unique_lab("limits")
        before = snapshot()
        result = self.up_with("ulimit -Sn 40", topology, lab)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.addCleanup(self.take_down, lab, before)
        self.exec(lab, "n0", "ping", "-c", "1", "-W", "5", "n1")


if __name__ == "__main__":
    unittest.main()
