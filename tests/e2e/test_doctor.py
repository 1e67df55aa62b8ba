"""`netlab doctor` (issue 22) on this machine and against faked limits, as root.

Run by tests/run_isolated.sh inside private namespaces: the doctor's device probes must leave
this namespace as they found it (they run in a scratch namespace of their own). The faked
limits live in a user namespace of the test's own, whose namespace limits its root may set.
"""
import json
import os
import subprocess
import unittest

NETLAB = os.environ["NETLAB"]


def doctor(*args, env=None, prefix=()):
    result = subprocess.run([*prefix, NETLAB, "doctor", *args], capture_output=True, text=True,
                            timeout=120, env=env)
    return result


def checks_of(result):
    report = json.loads(result.stdout)
    return report, {(check["area"], check["name"]): check for check in report["checks"]}


def links_here():
    return subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True,
                          check=True).stdout.splitlines()


class Doctor(unittest.TestCase):
    def test_this_machine(self):
        before = links_here()
        result = doctor("--format", "json")
        report, checks = checks_of(result)
        self.assertEqual(links_here(), before, "the probes made nothing in this namespace")
        for name in ["veth", "bridge"]:
            self.assertEqual(checks[("devices", name)]["status"], "ok", checks[("devices", name)])
        netem = checks[("devices", "netem")]
        self.assertIn(netem["status"], ["ok", "missing"])
        if netem["status"] == "missing":
            # This machine's kernel lacks netem: the doctor says what that disables.
            self.assertIn("delay", netem["detail"])
            self.assertIn("disables", netem["detail"])
        for kind in ["user", "net", "uts", "mnt", "pid", "ipc", "cgroup"]:
            self.assertEqual(checks[("namespaces", kind)]["status"], "ok", checks[("namespaces", kind)])
        self.assertEqual(checks[("programs", "netlab-init")]["status"], "ok")
        self.assertTrue(report["default_example_runs"])
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_table(self):
        result = doctor()
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        lines = result.stdout.splitlines()
        self.assertEqual(lines[0].split()[:4], ["AREA", "CHECK", "STATUS", "DETAIL"])
        netem = [line for line in lines if line.split()[:2] == ["devices", "netem"]]
        self.assertEqual(len(netem), 1, result.stdout)
        self.assertIn("can run here", lines[-1])

    def test_user_namespace_limit_zero(self):
        # The limits are per user namespace: the test's own, with its limit set to 0.
        script = ('echo 0 > /proc/sys/user/max_user_namespaces && exec "$0" doctor --format json')
        result = subprocess.run(["unshare", "--user", "--map-root-user", "--net", "--mount", "--",
                                 "sh", "-c", script, NETLAB],
                                capture_output=True, text=True, timeout=120)
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        report, checks = checks_of(result)
        user = checks[("namespaces", "user")]
        self.assertEqual(user["status"], "wrong", user)
        self.assertIn("user.max_user_namespaces is 0", user["detail"])
        self.assertIn("sysctl -w user.max_user_namespaces=", user["detail"])
        self.assertFalse(report["default_example_runs"])

    def test_programs_missing_from_path(self):
        result = doctor("--format", "json", env={"PATH": "/nonexistent"})
        report, checks = checks_of(result)
        for name, disables in [("FRR", "examples/ospf"), ("BIRD", "examples/bgp"),
                               ("iperf3", "throughput"), ("tshark", "captures")]:
            check = checks[("programs", name)]
            self.assertEqual(check["status"], "missing", check)
            self.assertIn(disables, check["detail"])
        # None of them is needed by the default example.
        self.assertTrue(report["default_example_runs"])
        self.assertEqual(result.returncode, 0)


if __name__ == "__main__":
    unittest.main()
