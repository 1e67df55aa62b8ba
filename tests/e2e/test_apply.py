"""Issue 17: `netlab apply` changes a running lab into an edited topology, only where they
differ, and `--dry-run` only says what it would change.

Asserted on real state: the pids of `netlab status`, `ip -j link` and `tc -j qdisc` inside the
nodes, pings and `netlab test`; after `down`, nothing left (LabTest's snapshot).
"""
import copy
import json
import os
import shutil
import subprocess
import unittest

from test_labs import EXAMPLES, NETLAB, LabTest, netlab, snapshot, strace, strace_points, unique_lab

LAN = os.path.join(EXAMPLES, "lan.json")


def status(lab):
    return {node["name"]: node for node in
            json.loads(netlab("status", lab, "--format", "json").stdout)["nodes"]}


def pids(lab):
    return {name: node["pid"] for name, node in status(lab).items()}


def egresses(lab):
    """Each end's egress impairment in force, read from the kernel: "r1:eth1" -> {...}."""
    shown = json.loads(netlab("link", "show", lab, "--format", "json").stdout)
    return {f"{end['node']}:{end['interface']}": end["egress"] for link in shown["links"]
            for end in link["ends"]}


def lan():
    with open(LAN) as file:
        return json.load(file)


def with_host_h5(topology):
    """examples/lan.json with a fifth host on r1's LAN."""
    edited = copy.deepcopy(topology)
    edited["nodes"]["h5"] = {"routes": [{"to": "default", "via": "172.16.1.1"}]}
    edited["links"][0]["endpoints"].append("h5")
    return edited


def with_rate(topology, rate):
    """examples/lan.json with a rate limit on r1 -- r2 (tbf: no netem needed)."""
    edited = copy.deepcopy(topology)
    edited["links"][1]["rate"] = rate
    return edited


# Two hosts joined twice: the second link can go without breaking a route.
TWICE = {
    "name": "twice",
    "nodes": {"a": {}, "b": {}},
    "links": [{"endpoints": ["a", "b"], "prefix": "10.0.1.0/30"},
              {"endpoints": ["a", "b"], "prefix": "10.0.2.0/30"}],
}


class ApplyTest(LabTest):
    def up(self, topology, lab):
        path = self.write_topology(topology)
        self.bring_up(path, lab)
        return path

    def apply(self, topology, lab, *options, check=True):
        return netlab("apply", "--lab", lab, self.write_topology(topology), *options, check=check)

    def links(self, lab, node):
        return {link["ifname"] for link in
                json.loads(self.exec(lab, node, "ip", "-j", "link", "show").stdout)}

    def egress(self, lab, node, interface):
        shown = json.loads(self.exec(lab, node, "tc", "-j", "qdisc", "show", "dev",
                                     interface).stdout)
        return sorted(qdisc["kind"] for qdisc in shown)

    def assert_dry_run_changes_nothing(self, lab, topology, expected_lines):
        before = (pids(lab), egresses(lab))
        shown = self.apply(topology, lab, "--dry-run").stdout
        for line in expected_lines:
            self.assertIn(line + "\n", shown)
        self.assertIn("dry run", shown)
        self.assertEqual((pids(lab), egresses(lab)), before,
                         "a dry run changes nothing")

    def assert_nothing_left_to_apply(self, lab, topology):
        again = self.apply(topology, lab).stdout
        self.assertIn("nothing to change", again)
        as_json = json.loads(self.apply(topology, lab, "--format", "json").stdout)
        self.assertTrue(as_json["empty"])
        self.assertFalse(as_json["applied"])


class AddAndRemove(ApplyTest):
    def test_a_host_added_to_the_lan_leaves_every_other_node_alone(self):
        lab = unique_lab("apply")
        self.up(lan(), lab)
        edited = with_host_h5(lan())
        self.assert_dry_run_changes_nothing(lab, edited,
                                            ["+ node h5", "+ link h5:eth0 -- lan0:eth4"])
        before = pids(lab)
        applied = self.apply(edited, lab).stdout
        self.assertIn("+ node h5\n", applied)
        after = pids(lab)
        self.assertEqual({name: pid for name, pid in after.items() if name != "h5"}, before,
                         "every other node kept its pid")
        self.assertEqual(status(lab)["h5"]["state"], "running")
        self.assertIn("eth4", self.links(lab, "lan0"))
        self.exec(lab, "h5", "ping", "-c", "1", "-W", "2", "172.16.1.1")
        self.exec(lab, "h5", "ping", "-c", "1", "-W", "2", "172.16.2.2")  # h4, behind r2
        netlab("test", lab)
        self.assert_nothing_left_to_apply(lab, edited)

        # And back: h5 and its switch port go, the rest stays.
        self.assert_dry_run_changes_nothing(lab, lan(), ["- link h5:eth0 -- lan0:eth4",
                                                         "- node h5"])
        self.apply(lan(), lab)
        self.assertNotIn("h5", status(lab))
        self.assertNotIn("eth4", self.links(lab, "lan0"))
        self.assertEqual(pids(lab), before)
        netlab("test", lab)

    def test_apply_and_node_commands_at_once_take_turns(self):
        """Under the lab's lock: each sees the lab the other left, whichever goes first."""
        lab = unique_lab("applyturns")
        self.up(lan(), lab)
        edited = self.write_topology(with_host_h5(lan()))
        original = self.write_topology(lan())
        for topology in (edited, original, edited):
            applying = subprocess.Popen([NETLAB, "apply", "--lab", lab, topology],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            netlab("node", "restart", "--lab", lab, "h1", "lan0")
            _, errors = applying.communicate(timeout=120)
            self.assertEqual(applying.returncode, 0, errors)
            self.assertTrue(all(node["state"] == "running" for node in status(lab).values()))
        self.assertIn("h5", status(lab))
        netlab("test", lab)
        self.exec(lab, "h5", "ping", "-c", "1", "-W", "2", "172.16.1.2")

    def test_a_removed_link_takes_its_veths(self):
        lab = unique_lab("applylink")
        self.up(TWICE, lab)
        self.assertEqual(self.links(lab, "a"), {"lo", "eth0", "eth1"})
        edited = copy.deepcopy(TWICE)
        del edited["links"][1]
        self.assert_dry_run_changes_nothing(lab, edited, ["- link a:eth1 -- b:eth1"])
        before = pids(lab)
        self.apply(edited, lab)
        self.assertEqual(self.links(lab, "a"), {"lo", "eth0"})
        self.assertEqual(self.links(lab, "b"), {"lo", "eth0"})
        self.assertEqual(pids(lab), before)
        self.exec(lab, "a", "ping", "-c", "1", "-W", "2", "10.0.1.2")
        self.assert_nothing_left_to_apply(lab, edited)

        # Made again between the two running nodes, with its addresses.
        self.apply(TWICE, lab)
        self.assertEqual(self.links(lab, "a"), {"lo", "eth0", "eth1"})
        self.exec(lab, "a", "ping", "-c", "1", "-W", "2", "10.0.2.2")
        self.assertEqual(pids(lab), before)


class Change(ApplyTest):
    def test_an_impairment_changes_in_place(self):
        lab = unique_lab("applyrate")
        self.up(with_rate(lan(), "10mbit"), lab)
        edited = with_rate(lan(), "20mbit")
        self.assert_dry_run_changes_nothing(
            lab, edited, ["~ link r1:eth1 -- r2:eth0 impairment r1:eth1 rate 10mbit -> rate 20mbit"])
        before = pids(lab)
        self.apply(edited, lab)
        self.assertEqual(pids(lab), before, "no node restarted")
        rates = {end: egress["rate_bps"] for end, egress in egresses(lab).items() if egress}
        self.assertEqual(rates, {"r1:eth1": 20000000, "r2:eth0": 20000000})
        self.assertIn("tbf", self.egress(lab, "r1", "eth1"))
        self.assert_nothing_left_to_apply(lab, edited)

    def test_a_changed_node_is_restarted_alone(self):
        lab = unique_lab("applynode")
        self.up(lan(), lab)
        edited = lan()
        edited["nodes"]["h1"]["routes"].append({"to": "192.0.2.0/24", "via": "172.16.1.1"})
        self.assert_dry_run_changes_nothing(lab, edited, ["~ node h1 (routes)"])
        before = pids(lab)
        self.apply(edited, lab)
        after = pids(lab)
        self.assertNotEqual(after["h1"], before["h1"], "h1 restarted")
        del after["h1"], before["h1"]
        self.assertEqual(after, before)
        self.assertIn("192.0.2.0/24 via 172.16.1.1", self.exec(lab, "h1", "ip", "route").stdout)
        netlab("test", lab)
        self.assert_nothing_left_to_apply(lab, edited)


    def test_a_stopped_node_takes_its_changes_when_it_starts(self):
        lab = unique_lab("applystopped")
        self.up(with_rate(lan(), "10mbit"), lab)
        netlab("node", "stop", "--lab", lab, "r2")
        edited = with_rate(lan(), "20mbit")
        edited["nodes"]["r2"]["routes"].append({"to": "192.0.2.0/24", "via": "10.0.0.1"})
        self.apply(edited, lab)
        self.assertEqual(status(lab)["r2"]["state"], "stopped", "apply does not start it")
        self.assertEqual(egresses(lab)["r1:eth1"]["rate_bps"], 20000000, "r1's end changed")
        netlab("node", "start", "--lab", lab, "r2")
        self.assertIn("192.0.2.0/24 via 10.0.0.1", self.exec(lab, "r2", "ip", "route").stdout)
        self.assertEqual(egresses(lab)["r2:eth0"]["rate_bps"], 20000000)
        netlab("test", lab)
        self.assert_nothing_left_to_apply(lab, edited)

    def test_a_changed_address_replaces_the_old_one(self):
        lab = unique_lab("applyaddr")
        self.up(lan(), lab)
        # r1 -- r2 renumbered, and the routes and tests that name it with it.
        edited = json.loads(json.dumps(lan()).replace("10.0.0.", "10.0.9."))
        self.assert_dry_run_changes_nothing(lab, edited, ["~ node r1 (addresses, routes)",
                                                          "~ node r2 (addresses, routes)",
                                                          "~ tests"])
        self.apply(edited, lab)
        addresses = {f"{a['local']}/{a['prefixlen']}" for link in
                     json.loads(self.exec(lab, "r1", "ip", "-j", "address").stdout)
                     for a in link.get("addr_info", []) if a["family"] == "inet"}
        self.assertIn("10.0.9.1/30", addresses)
        self.assertNotIn("10.0.0.1/30", addresses, "the old address is gone")
        netlab("test", lab)
        self.assert_nothing_left_to_apply(lab, edited)


class Refusal(ApplyTest):
    def test_an_invalid_topology_is_located_and_changes_nothing(self):
        lab = unique_lab("applyinvalid")
        self.up(lan(), lab)
        before = pids(lab)
        edited = with_host_h5(lan())
        edited["nodes"]["h5"]["routes"][0]["via"] = "10.9.9.9"
        refused = self.apply(edited, lab, check=False)
        self.assertEqual(refused.returncode, 2)
        self.assertRegex(refused.stderr, r"topology.json:\d+:\d+: error: nodes.h5.routes\[0\]")
        self.assertEqual(pids(lab), before)

    def test_a_node_that_changes_kind_is_refused_before_any_change(self):
        lab = unique_lab("applykind")
        self.up(lan(), lab)
        before = pids(lab)
        edited = with_host_h5(lan())
        edited["nodes"]["h2"]["kind"] = "router"
        dry = self.apply(edited, lab, "--dry-run", check=False)
        self.assertEqual(dry.returncode, 1)
        self.assertIn("- node h2\n", dry.stdout)
        self.assertIn("apply would refuse this", dry.stdout)
        refused = self.apply(edited, lab, check=False)
        self.assertEqual(refused.returncode, 1)
        self.assertIn("node h2 changes kind or user namespace", refused.stderr)
        self.assertEqual(pids(lab), before, "h5 was not added")

    def test_a_link_between_stopped_nodes_is_refused_before_any_change(self):
        lab = unique_lab("applystop")
        self.up(TWICE, lab)
        netlab("node", "stop", "--lab", lab, "a", "b")
        edited = copy.deepcopy(TWICE)
        del edited["links"][1]
        edited["nodes"]["c"] = {}
        refused = self.apply(edited, lab, check=False)
        self.assertEqual(refused.returncode, 1)
        self.assertIn("cannot be removed while neither of its nodes runs", refused.stderr)
        self.assertEqual(set(status(lab)), {"a", "b"}, "c was not added")


class Rollback(ApplyTest):
    def test_a_refused_change_undoes_the_others(self):
        lab = unique_lab("applyundo")
        self.up(with_rate(lan(), "10mbit"), lab)
        # h5 and its link come first; then the kernel refuses h1's new forwarding value (the
        # validator checks sysctl names, not what the kernel takes), before the rate's turn.
        edited = with_rate(with_host_h5(lan()), "20mbit")
        edited["nodes"]["h1"]["sysctls"] = {"net.ipv4.ip_forward": "banana"}
        before = (pids(lab), egresses(lab), self.links(lab, "lan0"))
        refused = self.apply(edited, lab, check=False)
        self.assertEqual(refused.returncode, 1, refused.stdout + refused.stderr)
        self.assertIn("net.ipv4.ip_forward=banana", refused.stderr)
        self.assertIn("Invalid argument; the changes made before it were undone", refused.stderr)
        after = pids(lab)
        self.assertNotIn("h5", after)
        self.assertEqual(set(after), set(before[0]))
        self.assertEqual({name: pid for name, pid in after.items() if name != "h1"},
                         {name: pid for name, pid in before[0].items() if name != "h1"},
                         "only the node restarted to undo its change has a new pid")
        self.assertEqual(egresses(lab), before[1], "the rate is back")
        self.assertEqual(self.links(lab, "lan0"), before[2], "h5's port is gone")
        netlab("test", lab)
        self.assertNotIn("nothing to change", self.apply(edited, lab, "--dry-run",
                                                         check=False).stdout)


class CrashSafety(ApplyTest):
    CALLS = "clone,sendto,sendmsg,renameat,mount,umount2,pidfd_send_signal"

    @staticmethod
    def every_kind_of_change():
        """examples/lan.json with h5 added, h1's routes changed, a rate on r1 -- r2, and h4
        removed with its link (and the tests that name it)."""
        edited = with_rate(with_host_h5(lan()), "10mbit")
        edited["nodes"]["h1"]["routes"].append({"to": "192.0.2.0/24", "via": "172.16.1.1"})
        del edited["nodes"]["h4"]
        del edited["links"][2]
        edited["tests"] = [test for test in edited["tests"] if "h4" not in test.values()]
        return edited

    def test_sigkill_at_every_step_of_apply_then_down(self):
        """strace kills netlab on entering every clone, netlink send, rename, mount, unmount and
        signal `apply`'s worker makes (test_labs.strace); whatever the instant, `down` leaves
        nothing."""
        if not shutil.which("strace"):
            self.skipTest("strace is not installed (tools/install-deps.sh installs it)")
        edited = self.write_topology(self.every_kind_of_change())
        lab = unique_lab("applyrun")
        self.bring_up(LAN, lab)
        traced = subprocess.run([*strace(f"trace={self.CALLS}"), NETLAB, "apply", "--lab", lab,
                                 edited], capture_output=True, text=True, check=True, timeout=120)
        self.assertIn("- node h4", traced.stdout)
        counts, points = strace_points(traced.stderr, self.CALLS)
        self.assertGreaterEqual(len(points), 10, counts)
        print(f"{len(points)} points: {points}", flush=True)
        for call, when in points:
            with self.subTest(call=call, when=when):
                lab = unique_lab("applycrash")
                before = snapshot()
                netlab("up", LAN, "--lab", lab)
                try:
                    killed = subprocess.run(
                        [*strace(f"trace={call}", "-o", "/dev/null", "-e",
                                 f"inject={call}:signal=SIGKILL:when={when}"), NETLAB, "apply",
                         "--lab", lab, edited], capture_output=True, text=True, timeout=120)
                finally:
                    self.assertRegex(netlab("down", lab).stdout, "is down")
                # The dumps that wait for carrier are repeated until it comes: their number,
                # and so that of netlink sends, varies from run to run.
                if call not in ("sendto", "sendmsg"):
                    self.assertNotEqual(killed.returncode, 0, "netlab was not killed")
                self.assertEqual(snapshot(), before, f"SIGKILL on {call} #{when}, then down")


if __name__ == "__main__":
    unittest.main()
