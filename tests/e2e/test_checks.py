"""End-to-end tests of the verbs that check a running lab: `netlab pingall` and
`netlab test`."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import unittest

from test_netem import kernel_has_netem
from test_labs import EXAMPLES, LabTest, netlab, unique_lab

SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def node_pid(lab, node):
    status = json.loads(netlab("status", lab, "--format", "json").stdout)
    return next(n["pid"] for n in status["nodes"] if n["name"] == node)


class Pingall(LabTest):
    def test_every_address_answers_in_a_fully_routed_lab(self):
        lab = unique_lab("triangle")
        self.bring_up(os.path.join(EXAMPLES, "triangle.json"), lab)
        result = netlab("pingall", lab)
        self.assertIn("pingall: 0% loss, 18/18 replies", result.stdout)
        self.assertRegex(result.stdout, r"r1\s+-\s+ok\s+ok")

        report = json.loads(netlab("pingall", lab, "--format", "json").stdout)
        self.assertEqual((report["sent"], report["received"]), (18, 18))
        self.assertIn({"from": "r1", "to": "r2", "address": "10.255.0.2", "replied": True},
                      report["pings"])

    def test_a_failed_link_shows_as_lost_pings_and_exit_status_1(self):
        lab = unique_lab("triangle")
        self.bring_up(os.path.join(EXAMPLES, "triangle.json"), lab)
        netlab("link", "down", "--lab", lab, "r1:eth0")
        result = netlab("pingall", lab, "--timeout", "1", check=False)
        self.assertEqual(result.returncode, 1)
        # Under the matrix, each failing source and address by name, as in the JSON.
        self.assertIn("r1 -> r2 (10.0.12.2): no reply", result.stdout)
        self.assertNotIn("r1 -> r3 (10.0.13.2)", result.stdout, "r1's other link still works")
        report = json.loads(netlab("pingall", lab, "--timeout", "1", "--format", "json",
                                   check=False).stdout)
        lost = {(ping["from"], ping["address"]) for ping in report["pings"] if not ping["replied"]}
        self.assertIn(("r1", "10.0.12.2"), lost)
        self.assertNotIn(("r1", "10.0.13.2"), lost, "r1's other link still works")


class EveryExample(LabTest):
    """Issue 13: each example's pingall is what its README says."""

    def pingall_of(self, topology, lab):
        self.bring_up(topology, lab)
        return netlab("pingall", lab, check=False).stdout.splitlines()[-1]

    def test_the_plain_examples_answer_everything(self):
        for name in ("lan", "triangle", "triangle-auto", "chain", "dualstack"):
            with self.subTest(example=name):
                last = self.pingall_of(os.path.join(EXAMPLES, f"{name}.json"), unique_lab(name))
                self.assertRegex(last, r"^pingall: 0% loss, (\d+)/\1 replies$")
                self.doCleanups()

    def test_ospf_answers_everything_once_converged(self):
        if not os.path.exists("/usr/lib/frr/frrinit.sh"):
            self.skipTest("FRR is not installed (Debian's frr)")
        lab = unique_lab("ospf")
        self.bring_up(os.path.join(EXAMPLES, "ospf", "topo.json"), lab)
        netlab("test", lab)  # its checks wait for convergence
        last = netlab("pingall", lab).stdout.splitlines()[-1]
        self.assertRegex(last, r"^pingall: 0% loss, (\d+)/\1 replies$")

    def test_bgp_misses_only_other_ases_loopbacks(self):
        if not shutil.which("bird"):
            self.skipTest("BIRD is not installed (Debian's bird2)")
        lab = unique_lab("bgp")
        self.bring_up(os.path.join(EXAMPLES, "bgp", "topo.json"), lab)
        netlab("test", lab)
        result = netlab("pingall", lab, check=False)
        self.assertEqual(result.stdout.splitlines()[-1], "pingall: 16% loss, 63/75 replies")


class ManyNodes(LabTest):
    """Issue 13: one dead node is that node's failure; a daemon cannot hang netlab; pingall
    probes in process."""

    def test_a_dead_node_fails_alone(self):
        lab = unique_lab("dead")
        self.bring_up(os.path.join(EXAMPLES, "lan.json"), lab)
        os.kill(node_pid(lab, "h2"), signal.SIGKILL)  # by the pid netlab reports
        time.sleep(0.2)
        started = time.monotonic()
        report = json.loads(netlab("pingall", lab, "--timeout", "1", "--format", "json",
                                   check=False).stdout)
        self.assertLess(time.monotonic() - started, 10)
        for ping in report["pings"]:
            involved = "h2" in (ping["from"], ping["to"])
            self.assertEqual(ping["replied"], not involved, ping)
        execs = netlab("exec", "--lab", lab, "h*", "--", "hostname", check=False)
        self.assertEqual(execs.returncode, 126)
        self.assertIn("h2 | node `h2`", execs.stdout + execs.stderr)
        for node in ("h1", "h3", "h4"):
            self.assertIn(f"{node} | {node}", execs.stdout)

    def test_a_daemon_holding_the_output_does_not_hang_exec(self):
        lab = unique_lab("daemon")
        self.bring_up(os.path.join(EXAMPLES, "lan.json"), lab)
        started = time.monotonic()
        result = netlab("exec", "--lab", lab, "--all", "--", "sh", "-c", "echo up; sleep 100 &")
        self.assertLess(time.monotonic() - started, 10)
        self.assertEqual(result.stdout.count("| up"), 7)

    def test_pingall_on_a_200_host_star(self):
        generated = subprocess.run([sys.executable, os.path.join(SOURCE, "bench", "generate.py"),
                                    "star", "200"], capture_output=True, text=True, check=True)
        lab = unique_lab("star")
        self.bring_up(self.write_topology(json.loads(generated.stdout)), lab)
        started = time.monotonic()
        result = netlab("pingall", lab, check=False)
        seconds = time.monotonic() - started
        last = result.stdout.splitlines()[-1]
        print(f"\npingall on a 200-host star: {seconds:.2f} s, {last}", file=sys.stderr)
        # Every pair reported. All of them answer only where the machine's neighbour table
        # (shared by every namespace) holds 200 x 199 entries; else pingall says why.
        self.assertRegex(last, r"^pingall: \d+% loss, \d+/39800 replies$")
        if last.endswith("39800/39800 replies"):
            return
        self.assertIn("net.ipv4.neigh.default.gc_thresh3", result.stderr)


class Test(LabTest):
    def test_failures_name_the_check_and_why_and_exit_1(self):
        topology = {"version": 1, "name": "failing", "nodes": {"h1": {}, "h2": {}},
                    "links": [{"endpoints": ["h1", "h2"], "prefix": "10.6.0.0/30"}],
                    "tests": [
                        {"node": "h1", "reach": "h2"},
                        {"node": "h1", "reach": "10.6.9.9", "timeout": 1},
                        {"node": "h1", "route": "10.99.0.0/16", "timeout": 0},
                        {"name": "greeting", "node": "h2", "command": "echo hi", "match": "^bye$",
                         "timeout": 0},
                        {"node": "h2", "command": "exit 3", "status": 3, "timeout": 0}]}
        lab = unique_lab("failing")
        self.bring_up(self.write_topology(topology), lab)
        result = netlab("test", lab, check=False)
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertIn("PASS  h1 reaches h2", result.stdout)
        self.assertIn("FAIL  h1 reaches 10.6.9.9", result.stdout)
        self.assertIn("no reply from 10.6.9.9", result.stdout)
        self.assertIn("no route to 10.99.0.0/16", result.stdout)
        self.assertIn("output does not match /^bye$/: hi", result.stdout)
        self.assertRegex(result.stdout, r"PASS  h2: .*exit 3")
        self.assertIn("2 passed, 3 failed", result.stdout)

        report = json.loads(netlab("test", lab, "--format", "json", check=False).stdout)
        self.assertEqual((report["passed"], report["failed"]), (2, 3))
        greeting = next(check for check in report["checks"] if check["name"] == "greeting")
        self.assertFalse(greeting["passed"])
        self.assertEqual(greeting["attempts"], 1, "timeout 0: one try")

    def test_tests_run_side_by_side_and_can_be_chosen_cut_short_and_stopped(self):
        # Four tests that fail only at their 3 s timeouts: side by side, about 3 s in all.
        slow = [{"name": f"slow{i}", "node": "h1", "reach": f"10.6.9.{i}", "timeout": 3}
                for i in range(1, 5)]
        topology = {"version": 1, "name": "slow", "nodes": {"h1": {}, "h2": {}},
                    "links": [{"endpoints": ["h1", "h2"], "prefix": "10.6.0.0/30"}],
                    "tests": [{"name": "quick", "node": "h1", "reach": "h2"}, *slow]}
        lab = unique_lab("slow")
        self.bring_up(self.write_topology(topology), lab)
        start = time.monotonic()
        result = netlab("test", lab, check=False)
        elapsed = time.monotonic() - start
        print(f"four failing tests with 3 s timeouts took {elapsed:.1f} s in all")
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertIn("1 passed, 4 failed", result.stdout)
        self.assertLess(elapsed, 7, "the tests ran one after the other")
        # --only: a glob on the names; one that names nothing is refused with the names there are.
        result = netlab("test", lab, "--only", "qu*", "--format", "json")
        report = json.loads(result.stdout)
        self.assertEqual([check["name"] for check in report["checks"]], ["quick"])
        result = netlab("test", lab, "--only", "nothing*", check=False)
        self.assertEqual(result.returncode, 1)
        self.assertIn("no test of lab", result.stderr)
        self.assertIn("quick, slow1", result.stderr)
        # --timeout overrides each test's own.
        start = time.monotonic()
        report = json.loads(netlab("test", lab, "--only", "slow1", "--timeout", "0.5",
                                   "--format", "json", check=False).stdout)
        self.assertLess(report["checks"][0]["seconds"], 2)
        self.assertLess(time.monotonic() - start, 3)
        # --fail-fast: the first failure stops the tests still undecided.
        topology["tests"] = [{"name": "fails", "node": "h1", "reach": "10.6.9.9", "timeout": 0},
                             {"name": "waits", "node": "h1", "reach": "10.6.9.8", "timeout": 30}]
        lab = unique_lab("fast")
        self.bring_up(self.write_topology(topology), lab)
        start = time.monotonic()
        result = netlab("test", lab, "--fail-fast", check=False)
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertLess(time.monotonic() - start, 10, "--fail-fast waited for the 30 s test")
        self.assertIn("FAIL  fails", result.stdout)
        self.assertIn("STOP  waits", result.stdout)
        self.assertIn("0 passed, 1 failed, 1 stopped", result.stdout)

    def test_a_path_test_names_the_nodes_crossed_over_ipv4_and_ipv6(self):
        topology = {"version": 1, "name": "paths", "addressing": {"ipv6": True},
                    "routing": "static",
                    "nodes": {"h1": {}, "r1": {"kind": "router"}, "r2": {"kind": "router"},
                              "r3": {"kind": "router"}, "h2": {}},
                    "links": [["h1", "r1"], ["r1", "r2"], ["r2", "r3"], ["r3", "h2"]],
                    "tests": [
                        {"node": "h1", "path": ["r1", "r2", "r3", "h2"], "to": "h2"},
                        {"node": "h1", "path": ["r1", "r2", "r3", "h2"], "to": "h2",
                         "family": "ipv6"},
                        {"name": "too short", "node": "h1", "path": ["r1", "h2"], "to": "h2",
                         "family": "ipv4", "timeout": 0},
                        {"name": "to an address", "node": "h2", "path": ["r3", "r2", "r1"],
                         "to": "10.0.0.2", "timeout": 0}]}
        lab = unique_lab("paths")
        plan = self.bring_up(self.write_topology(topology), lab)
        result = netlab("test", lab, check=False)
        self.assertIn("PASS  h1 → r1 → r2 → r3 → h2 (", result.stdout)
        self.assertIn("PASS  h1 → r1 → r2 → r3 → h2 over IPv6", result.stdout)
        self.assertIn("FAIL  too short", result.stdout)
        h2 = next(node for node in plan["nodes"] if node["name"] == "h2")
        self.assertIn(f"the path to {h2['interfaces'][0]['addresses'][0].split('/')[0]} is "
                      "r1 → r2 → r3", result.stdout)
        self.assertIn("PASS  to an address", result.stdout)
        self.assertIn("3 passed, 1 failed", result.stdout)
        # A failed link: r2 no longer forwards toward h2 and says so, or nothing answers.
        netlab("link", "down", "--lab", lab, "r2:eth1")
        result = netlab("test", lab, "--only", "h1 →*", "--timeout", "0", check=False)
        self.assertIn("0 passed, 2 failed", result.stdout)
        self.assertIn("not reaching it", result.stdout)

    def test_a_lab_without_tests_has_nothing_to_run(self):
        lab = unique_lab("triangle")
        topology = {"version": 1, "name": "notests", "nodes": {"h1": {}}, "links": []}
        self.bring_up(self.write_topology(topology), lab)
        result = netlab("test", lab, check=False)
        self.assertEqual(result.returncode, 2)
        self.assertIn("has no tests", result.stderr)


# Every example lab: up, its own tests pass, down leaves nothing. The FRR and BIRD examples need
# Debian's frr and bird2 (tools/install-deps.sh installs them).
EXAMPLE_LABS = ["lan.json", "triangle.json", "triangle-auto.json", "chain.json",
                "dualstack.json", "ospf/topo.json", "bgp/topo.json", "bufferbloat/topo.json"]


class Examples(LabTest):
    def check_example(self, path):
        lab = unique_lab(os.path.basename(os.path.dirname(path)) or "example")
        self.bring_up(os.path.join(EXAMPLES, path), lab)
        result = netlab("test", lab, check=False)
        self.assertEqual(result.returncode, 0, f"{path}:\n{result.stdout}{result.stderr}")


for example in EXAMPLE_LABS:
    name = example.replace("/topo.json", "").replace(".json", "").replace("-", "_")
    setattr(Examples, f"test_{name}", lambda self, path=example: self.check_example(path))


# The satellite link's delay needs netem: on a kernel without it the test says so and skips;
# the vm tier runs it on one that has it.
def test_satellite(self):
    available, reason = kernel_has_netem()
    if not available:
        self.skipTest(f"this kernel has no netem ({reason}); vm_e2e_checks runs it")
    self.check_example("satellite/topo.json")


Examples.test_satellite = test_satellite


if __name__ == "__main__":
    unittest.main()
