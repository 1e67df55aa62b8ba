"""Issue 17: a running lab's nodes stopped, started, restarted and killed in place.

A stopped node keeps its network namespace (a pin in the lab's directory), its interfaces with
their names, MACs and ifindexes, and its peers' ends, which lose carrier; `start` boots a fresh
init there. Asserted on real state: pids, namespace inodes, `ip -j link` inside the nodes, the
peers' carrier, pings; and after `down`, nothing left (the pins are mounts: snapshot() sees
them).
"""
import json
import os
import shutil
import signal
import subprocess
import time
import unittest

from test_labs import EXAMPLES, NETLAB, LabTest, netlab, snapshot, strace, strace_points, unique_lab

TRIANGLE = os.path.join(EXAMPLES, "triangle.json")


def status(lab):
    return {node["name"]: node for node in
            json.loads(netlab("status", lab, "--format", "json").stdout)["nodes"]}


def namespace_inode(pid, kind):
    return os.readlink(f"/proc/{pid}/ns/{kind}")


def kill_init(pid):
    """SIGKILL from outside, as a crash would end it; returns once it is gone."""
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
        time.sleep(0.01)


class NodeTest(LabTest):
    def links(self, lab, node):
        """The node's interfaces as the kernel has them: name -> (ifindex, MAC, operstate)."""
        shown = json.loads(self.exec(lab, node, "ip", "-j", "link", "show").stdout)
        return {link["ifname"]: (link["ifindex"], link.get("address"), link["operstate"])
                for link in shown if link["ifname"] != "lo"}

    def peer_carriers(self, lab, peers):
        """Whether each peer's end has carrier, as `ip` shows it (NO-CARRIER among its flags)."""
        shown = {peer: json.loads(self.exec(lab, peer, "ip", "-j", "link", "show", interface)
                                  .stdout)[0] for peer, interface in peers}
        return {"NO-CARRIER" not in link["flags"] and link["operstate"] == "UP"
                for link in shown.values()}


class StopStart(NodeTest):
    # r1's peers in the triangle: r2's eth0 and r3's eth1 face it.
    PEERS = [("r2", "eth0"), ("r3", "eth1")]

    def test_stop_keeps_the_place_and_start_boots_afresh(self):
        lab = unique_lab("node")
        self.bring_up(TRIANGLE, lab)
        before = status(lab)["r1"]
        old_pid = before["pid"]
        interfaces = {name: link[:2] for name, link in self.links(lab, "r1").items()}
        net = namespace_inode(old_pid, "net")
        mnt = namespace_inode(old_pid, "mnt")
        self.exec(lab, "r1", "touch", "/tmp/left-from-before", "/run/left-from-before")
        self.exec(lab, "r1", "ip", "route", "add", "192.0.2.0/24", "via", "10.0.12.2")

        stopped = netlab("node", "stop", "--lab", lab, "r1")
        self.assertIn("r1 stopped", stopped.stdout)
        self.assertEqual(status(lab)["r1"]["state"], "stopped")
        self.assertFalse(os.path.exists(f"/proc/{old_pid}"), "its init is gone")
        self.assertEqual(self.peer_carriers(lab, self.PEERS), {False}, "the peers see carrier go")
        refused = self.exec(lab, "r1", "true", check=False)
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn("no running node `r1`", refused.stderr)
        self.assertIn("already stopped", netlab("node", "stop", "--lab", lab, "r1").stdout)

        started = netlab("node", "start", "--lab", lab, "r1")
        self.assertRegex(started.stdout, r"r1 started \(pid \d+\)")
        after = status(lab)["r1"]
        self.assertEqual(after["state"], "running")
        self.assertNotEqual(after["pid"], old_pid)
        self.assertEqual(namespace_inode(after["pid"], "net"), net, "the same network")
        self.assertNotEqual(namespace_inode(after["pid"], "mnt"), mnt, "fresh mounts")
        self.assertEqual({name: link[:2] for name, link in self.links(lab, "r1").items()},
                         interfaces, "names, ifindexes and MACs kept")
        self.assertEqual(self.peer_carriers(lab, self.PEERS), {True},
                         "the peers see carrier come back")
        for path in ("/tmp/left-from-before", "/run/left-from-before"):
            self.assertNotEqual(self.exec(lab, "r1", "test", "-e", path, check=False).returncode,
                                0, f"{path} is fresh")
        self.assertEqual(self.exec(lab, "r1", "hostname").stdout.strip(), "r1")
        routes = self.exec(lab, "r1", "ip", "route").stdout
        self.assertNotIn("192.0.2.0/24", routes, "a route added at run time is gone")
        self.assertIn("10.255.0.2 via 10.0.12.2", routes, "the plan's routes are back")
        netlab("test", lab)

    def test_kill_restart_and_globs(self):
        lab = unique_lab("nodekill")
        self.bring_up(TRIANGLE, lab)
        pids = {name: node["pid"] for name, node in status(lab).items()}
        killed = netlab("node", "kill", "--lab", lab, "r[12]")
        self.assertEqual(sorted(killed.stdout.splitlines()[:2]), ["r1 stopped", "r2 stopped"])
        self.assertEqual({name: node["state"] for name, node in status(lab).items()},
                         {"r1": "stopped", "r2": "stopped", "r3": "running"})
        self.assertEqual(status(lab)["r3"]["pid"], pids["r3"], "r3 untouched")
        restarted = netlab("node", "restart", "--lab", lab, "r*")
        self.assertEqual(len([line for line in restarted.stdout.splitlines()
                              if " started (pid" in line]), 3)
        self.assertTrue(all(node["state"] == "running" for node in status(lab).values()))
        netlab("test", lab)
        netlab("pingall", lab)

    def test_a_node_restarted_from_another_cgroup_returns_to_the_labs(self):
        """`node restart` run in another cgroup than `up` was (another login session, say)
        puts the node back in the lab's cgroups, which the lab records, not in new ones beside
        that netlab's own."""
        lab = unique_lab("nodecg")
        # Removed after `down`: the restart's worker stays there as the node's keeper till then.
        self.addCleanup(self.remove_cgroup, lambda: elsewhere)
        self.bring_up(TRIANGLE, lab)
        with open(f"/proc/{status(lab)['r1']['pid']}/cgroup") as cgroups:
            before = sorted(cgroups.read().splitlines())
        with open(os.path.join("/run/netlab", lab, "cgroups")) as record:
            recorded = record.read()
        elsewhere = os.path.join(os.path.dirname(recorded.splitlines()[0]), f"test-{lab}")
        os.mkdir(elsewhere)
        subprocess.run(["sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', elsewhere,
                        NETLAB, "node", "restart", "--lab", lab, "r1"], check=True,
                       capture_output=True)
        with open(f"/proc/{status(lab)['r1']['pid']}/cgroup") as cgroups:
            self.assertEqual(sorted(cgroups.read().splitlines()), before)
        with open(os.path.join("/run/netlab", lab, "cgroups")) as record:
            self.assertEqual(record.read(), recorded)
        self.assertEqual([entry for entry in os.listdir(elsewhere)
                          if os.path.isdir(os.path.join(elsewhere, entry))], [])

    @staticmethod
    def remove_cgroup(path_of):
        for _ in range(100):
            try:
                os.rmdir(path_of())
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.05)

    def test_restart_of_a_whole_lan_with_its_switch(self):
        lab = unique_lab("nodelan")
        self.bring_up(os.path.join(EXAMPLES, "lan.json"), lab)
        restarted = netlab("node", "restart", "--lab", lab, "*").stdout
        self.assertIn("lan0 started (pid", restarted)
        self.assertIn("0% loss", netlab("pingall", lab).stdout)

    def test_an_isolated_node_keeps_its_user_namespace(self):
        lab = unique_lab("nodeiso")
        topology = self.write_topology({
            "version": 1, "name": lab,
            "nodes": {"a": {"userns": "isolated"}, "b": {}},
            "links": [{"endpoints": ["a", "b"], "prefix": "10.9.0.0/30"}]})
        self.bring_up(topology, lab)
        before = status(lab)["a"]["pid"]
        user = namespace_inode(before, "user")
        uid_map = self.exec(lab, "a", "cat", "/proc/self/uid_map").stdout
        netlab("node", "restart", "--lab", lab, "a")
        after = status(lab)["a"]["pid"]
        self.assertEqual(namespace_inode(after, "user"), user)
        self.assertEqual(self.exec(lab, "a", "cat", "/proc/self/uid_map").stdout, uid_map)
        self.assertNotEqual(uid_map.split()[1], "0", "still not host root")
        self.assertIn("0% loss", netlab("pingall", lab).stdout)

    def test_a_node_whose_init_died_is_exited_and_starts_again(self):
        lab = unique_lab("nodeexit")
        self.bring_up(TRIANGLE, lab)
        old = status(lab)["r1"]["pid"]
        net = namespace_inode(old, "net")
        interfaces = {name: link[:2] for name, link in self.links(lab, "r1").items()}
        kill_init(old)
        self.assertEqual(status(lab)["r1"]["state"], "exited")
        self.assertIn("r1 had exited", netlab("node", "stop", "--lab", lab, "r1").stdout)
        started = netlab("node", "start", "--lab", lab, "r1")
        self.assertRegex(started.stdout, r"r1 started \(pid \d+\)")
        new = status(lab)["r1"]["pid"]
        self.assertNotEqual(namespace_inode(new, "net"), net, "its network went with its init")
        self.assertEqual({name: link[:2] for name, link in self.links(lab, "r1").items()},
                         interfaces, "names, ifindexes and MACs made again as on up")
        self.assertEqual(self.peer_carriers(lab, self.PEERS), {True})
        netlab("test", lab)

    def await_exit(self, lab, node):
        """The exit as `status` shows it once the node's keeper has recorded it."""
        deadline = time.monotonic() + 10
        while not status(lab)[node]["exit"] and time.monotonic() < deadline:
            time.sleep(0.02)
        return status(lab)[node]["exit"]

    def test_an_exited_node_shows_how_its_init_ended(self):
        lab = unique_lab("nodehow")
        self.bring_up(TRIANGLE, lab)
        kill_init(status(lab)["r1"]["pid"])
        self.assertEqual(self.await_exit(lab, "r1"), {"signal": "SIGKILL", "core_dumped": False})
        # Node root ends its own init: it passes SIGTERM on, and exits 0 when all are gone.
        self.exec(lab, "r2", "sh", "-c", "kill -TERM 1", check=False)
        self.assertEqual(self.await_exit(lab, "r2"), {"code": 0})
        table = netlab("status", lab).stdout
        self.assertRegex(table, r"r1 +router +exited \(killed by SIGKILL\)")
        self.assertRegex(table, r"r2 +router +exited \(exit status 0\)")
        self.assertIsNone(status(lab)["r3"]["exit"], "r3 is running")
        # A started init has a keeper too (that of `node start`), and a fresh record.
        netlab("node", "start", "--lab", lab, "r1", "r2")
        self.assertEqual([node["exit"] for node in status(lab).values()], [None] * 3)
        kill_init(status(lab)["r1"]["pid"])
        self.assertEqual(self.await_exit(lab, "r1"), {"signal": "SIGKILL", "core_dumped": False})

    def test_a_switch_and_its_host_that_died_together_start_together(self):
        lab = unique_lab("nodeexlan")
        self.bring_up(os.path.join(EXAMPLES, "lan.json"), lab)
        for node in ("lan0", "h1"):
            kill_init(status(lab)[node]["pid"])
        alone = netlab("node", "start", "--lab", lab, "h1", check=False)
        self.assertEqual(alone.returncode, 1)
        self.assertIn("start both at once (`netlab node start h1 lan0`)", alone.stderr)
        self.assertEqual(status(lab)["h1"]["state"], "exited", "nothing changed")
        netlab("node", "start", "--lab", lab, "h1", "lan0")
        self.assertIn("0% loss", netlab("pingall", lab).stdout)

    def test_two_linked_switches_each_start_again_after_dying(self):
        lab = unique_lab("nodesws")
        self.bring_up(self.write_topology({
            "version": 1, "name": lab,
            "nodes": {"s1": {"kind": "switch"}, "s2": {"kind": "switch"}, "a": {}, "b": {}},
            "links": [{"endpoints": ["s1", "s2"]},
                      {"endpoints": ["a", "s1"], "prefix": "10.8.0.0/24"},
                      {"endpoints": ["b", "s2"]}]}), lab)
        for switch in ("s1", "s2"):
            with self.subTest(switch=switch):
                kill_init(status(lab)[switch]["pid"])
                netlab("node", "start", "--lab", lab, switch)
                self.assertIn("0% loss", netlab("pingall", lab).stdout)

    def test_a_pattern_that_names_no_node_changes_nothing(self):
        lab = unique_lab("nodebad")
        self.bring_up(TRIANGLE, lab)
        pids = {name: node["pid"] for name, node in status(lab).items()}
        refused = netlab("node", "stop", "--lab", lab, "r1", "x*", check=False)
        self.assertEqual(refused.returncode, 1)
        self.assertIn("no node matches `x*`", refused.stderr)
        self.assertEqual({name: node["pid"] for name, node in status(lab).items()}, pids)

    def test_down_removes_a_lab_with_stopped_nodes(self):
        lab = unique_lab("nodedown")
        self.bring_up(TRIANGLE, lab)
        netlab("node", "stop", "--lab", lab, "r1", "r3")
        # take_down (the cleanup) checks that nothing is left: no pin, device or namespace.


class Ospf(NodeTest):
    """examples/ospf: a ring of five FRR routers, h1 on r1 and h4 on r4."""

    def setUp(self):
        if not os.path.exists("/usr/lib/frr/ospfd"):
            self.skipTest("FRR is not installed")
        self.lab = unique_lab("nodeospf")
        self.bring_up(os.path.join(EXAMPLES, "ospf", "topo.json"), self.lab)
        netlab("test", self.lab)

    def test_a_restarted_router_passes_the_tests_again(self):
        began = time.monotonic()
        netlab("node", "restart", "--lab", self.lab, "r1")
        netlab("test", self.lab)
        print(f"r1 restarted, `netlab test` passes again after {time.monotonic() - began:.2f} s",
              flush=True)

    def test_traffic_reroutes_round_a_killed_router(self):
        # r1 reaches h4's LAN through r5 (two hops round the ring), until r5 dies.
        self.assertIn("dev eth1", self.exec(self.lab, "r1", "ip", "route", "show",
                                            "172.16.4.0/24").stdout)
        began = time.monotonic()
        netlab("node", "kill", "--lab", self.lab, "r5")
        while "dev eth0" not in self.exec(self.lab, "r1", "ip", "route", "show",
                                          "172.16.4.0/24").stdout:
            self.assertLess(time.monotonic() - began, 60, "r1 never rerouted")
            time.sleep(0.02)
        print(f"r5 killed, r1 rerouted through r2 after {time.monotonic() - began:.2f} s",
              flush=True)
        self.exec(self.lab, "h1", "ping", "-c1", "-W2", "172.16.4.2")
        netlab("node", "start", "--lab", self.lab, "r5")
        netlab("test", self.lab)


class CrashSafety(NodeTest):
    CALLS = "mount,umount2,pidfd_send_signal,sendto,sendmsg,clone,renameat"

    def check_sigkill_at_every_step(self, prepare, command):
        """strace kills netlab on entering every mount, signal, netlink send, clone and rename
        the command's worker makes (test_labs.strace); whatever the instant, `down` leaves
        nothing."""
        if not shutil.which("strace"):
            self.skipTest("strace is not installed (tools/install-deps.sh installs it)")
        lab = unique_lab("noderun")
        self.bring_up(TRIANGLE, lab)
        prepare(lab)
        traced = subprocess.run([*strace(f"trace={self.CALLS}"), NETLAB, *command, "--lab", lab],
                                capture_output=True, text=True, check=True, timeout=120)
        counts, points = strace_points(traced.stderr, self.CALLS)
        self.assertGreaterEqual(len(points), 10, counts)
        print(f"{len(points)} points: {points}", flush=True)
        for call, when in points:
            with self.subTest(call=call, when=when):
                lab = unique_lab("nodecrash")
                before = snapshot()
                netlab("up", TRIANGLE, "--lab", lab)
                prepare(lab)
                try:
                    killed = subprocess.run(
                        [*strace(f"trace={call}", "-o", "/dev/null", "-e",
                                 f"inject={call}:signal=SIGKILL:when={when}"), NETLAB, *command,
                         "--lab", lab], capture_output=True, text=True, timeout=120)
                finally:
                    self.assertRegex(netlab("down", lab).stdout, "is down")
                # The dumps that wait for carrier are repeated until it comes: their number,
                # and so that of netlink sends, varies from run to run.
                if call not in ("sendto", "sendmsg"):
                    self.assertNotEqual(killed.returncode, 0, "netlab was not killed")
                self.assertEqual(snapshot(), before, f"SIGKILL on {call} #{when}, then down")

    def test_sigkill_at_every_step_of_node_restart_then_down(self):
        self.check_sigkill_at_every_step(lambda lab: None, ["node", "restart", "r1"])

    def test_sigkill_at_every_step_of_starting_an_exited_node_then_down(self):
        self.check_sigkill_at_every_step(lambda lab: kill_init(status(lab)["r1"]["pid"]),
                                         ["node", "start", "r1"])


if __name__ == "__main__":
    unittest.main()
