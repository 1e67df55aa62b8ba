"""End-to-end tests of routing configured by netlab (`"routing": "ospf"` and `"bgp"`, issue 18):
each generated example comes up, converges until its own tests (path tests included) pass, and
goes down leaving nothing. Prints, for each, the time from `netlab up` to all tests passing."""
import json
import os
import subprocess
import sys
import time
import unittest

from test_labs import EXAMPLES, NETLAB, LabTest, netlab, unique_lab

GENERATED_EXAMPLES = ["ospf/generated.json", "bgp/generated.json", "ospf-bgp/topo.json",
                      "ospf-bgp/bird.json"]


def frr_missing():
    if not os.path.exists("/usr/lib/frr/frrinit.sh"):
        return "FRR is not installed (Debian's frr; tools/install-deps.sh installs it)"
    return None


def bird_missing():
    if not os.path.exists("/usr/sbin/bird"):
        return "BIRD is not installed (Debian's bird2; tools/install-deps.sh installs it)"
    return None


class GeneratedExamples(LabTest):
    def check_example(self, path):
        reason = bird_missing() if path.endswith("bird.json") else frr_missing()
        if reason:
            print(f"SKIPPED: {reason}", file=sys.stderr)
            self.skipTest(reason)
        lab = unique_lab(os.path.basename(os.path.dirname(path)))
        started = time.monotonic()
        plan = self.bring_up(os.path.join(EXAMPLES, path), lab)
        up = time.monotonic() - started
        result = netlab("test", lab, check=False)
        passed = time.monotonic() - started
        self.assertEqual(result.returncode, 0, f"{path}:\n{result.stdout}{result.stderr}")
        print(f"\n{path}: up {up:.2f} s, up to all tests passing {passed:.2f} s",
              file=sys.stderr)
        self.check_configuration_in_node(lab, plan)

    def check_configuration_in_node(self, lab, plan):
        """The node sees the generated configuration in /etc, may change it and apply the
        change as docs/topology.md says; the host's own file stays as it was."""
        router = next(node for node in plan["nodes"] if node["kind"] == "router")
        name = router["name"]
        generated = {f["path"]: f for f in router["files"] if f.get("generated")}
        bird = "/etc/bird/bird.conf" in generated
        path = "/etc/bird/bird.conf" if bird else "/etc/frr/frr.conf"
        self.assertIn(path, generated)
        seen = self.exec(lab, name, "cat", path).stdout
        self.assertEqual(seen, generated[path]["content"])
        if bird:
            addition, apply, show = ("protocol static edited_here { ipv4; }\\n",
                                     ["birdc", "configure"], ["birdc", "show", "protocols"])
        else:
            addition, apply, show = ("interface lo\\n description edited_here\\nexit\\n",
                                     ["/usr/lib/frr/frrinit.sh", "restart"],
                                     ["vtysh", "-c", "show running-config"])
        self.exec(lab, name, "sh", "-c", f"printf '{addition}' >> {path}")
        self.exec(lab, name, *apply)
        self.assertIn("edited_here", self.exec(lab, name, *show).stdout)
        with open(path) as host:
            self.assertNotIn("edited_here", host.read(), "the host's file changed")


for example in GENERATED_EXAMPLES:
    name = example.replace("/topo.json", "").replace(".json", "").replace("/", "_").replace("-", "_")
    setattr(GeneratedExamples, f"test_{name}",
            lambda self, path=example: self.check_example(path))


class Validation(unittest.TestCase):
    def test_plan_shows_each_routers_configuration(self):
        if frr_missing():
            self.skipTest(frr_missing())
        table = netlab("plan", os.path.join(EXAMPLES, "ospf-bgp", "topo.json")).stdout
        self.assertIn("/etc/frr/frr.conf (mode 0644, ", table)
        self.assertIn("| router bgp 65002", table)
        plan = json.loads(netlab("plan", os.path.join(EXAMPLES, "ospf-bgp", "topo.json"),
                                 "--format", "json").stdout)
        r1 = next(node for node in plan["nodes"] if node["name"] == "r1")
        self.assertTrue(any(f["path"] == "/etc/frr/frr.conf" and f.get("generated")
                            for f in r1["files"]))

    def test_a_suite_not_installed_is_a_located_error(self):
        """With the suite's files hidden by an empty tmpfs (in a mount namespace of the
        check's own), validate names what is missing, where routing is asked for, and the
        package."""
        if os.geteuid() != 0:
            self.skipTest("hiding a directory takes a mount namespace of one's own: root")
        for hidden, example, message, package in [
                ("/usr/lib/frr", "ospf-bgp/topo.json",
                 "FRR is not installed on this machine (/usr/lib/frr/frrinit.sh is missing)",
                 "apt-get install frr"),
                ("/usr/sbin", "ospf-bgp/bird.json",
                 "BIRD is not installed on this machine (/usr/sbin/bird is missing)",
                 "apt-get install bird2")]:
            if not os.path.isdir(hidden):
                self.skipTest(f"{hidden} is not here to hide")
            topology = os.path.join(EXAMPLES, example)
            result = subprocess.run(
                ["unshare", "--mount", "sh", "-c", 'mount -t tmpfs none "$1" && exec "$2" '
                 'validate "$3"', "hide", hidden, NETLAB, topology],
                capture_output=True, text=True, timeout=60)
            with self.subTest(example=example):
                self.assertEqual(result.returncode, 2, result.stderr)
                self.assertIn(f"{topology}:4:14: error: routing: {message}", result.stderr)
                self.assertIn(package, result.stderr)


if __name__ == "__main__":
    unittest.main()
