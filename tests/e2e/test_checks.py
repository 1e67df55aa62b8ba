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


if __name__ == "__main__":
    unittest.main()
