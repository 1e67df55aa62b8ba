"""End-to-end tests of the verbs that check a running lab: `netlab pingall` and
`netlab test`."""
import json
import os
import unittest

from test_labs import EXAMPLES, LabTest, netlab, unique_lab


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
        report = json.loads(netlab("pingall", lab, "--timeout", "1", "--format", "json",
                                   check=False).stdout)
        lost = {(ping["from"], ping["address"]) for ping in report["pings"] if not ping["replied"]}
        self.assertIn(("r1", "10.0.12.2"), lost)
        self.assertNotIn(("r1", "10.0.13.2"), lost, "r1's other link still works")


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


if __name__ == "__main__":
    unittest.main()
