"""End-to-end tests of netem impairments (delay, jitter, loss) measured with ping.

They need the kernel's netem qdisc (CONFIG_NET_SCH_NETEM). On a kernel without it the whole
file is skipped loudly: it exits 77, which ctest reports as skipped, with the reason printed.
"""
import json
import math
import re
import subprocess
import sys
import unittest

from test_labs import LabTest, netlab, unique_lab

RTT_TOLERANCE = 0.10


def kernel_has_netem():
    """Whether a netem qdisc can be made; tried on a dummy device of this private namespace."""
    probe = subprocess.run(
        "ip link add netem-probe type dummy && "
        "tc qdisc add dev netem-probe root netem delay 1ms; status=$?; "
        "ip link del netem-probe; exit $status",
        shell=True, capture_output=True, text=True)
    return probe.returncode == 0, probe.stderr.strip()


def binomial_bounds(trials, probability, z=2.576):
    """The 99% interval of a binomial count (normal approximation, fine for n*p >= 10)."""
    mean = trials * probability
    spread = z * math.sqrt(trials * probability * (1 - probability))
    return mean - spread, mean + spread


class Netem(LabTest):
    def up(self, **link):
        topology = {"version": 1, "name": "netem", "nodes": {"h1": {}, "h2": {}},
                    "links": [{"endpoints": ["h1", "h2"], "prefix": "10.9.0.0/30", **link}]}
        lab = unique_lab("netem")
        self.bring_up(self.write_topology(topology), lab)
        return lab

    def rtt_ms(self, lab, count=10):
        output = self.exec(lab, "h1", "ping", "-c", str(count), "-i", "0.05", "10.9.0.2").stdout
        return float(re.search(r"= [\d.]+/([\d.]+)/", output).group(1))

    def test_delay_gives_the_round_trip_and_changes_live(self):
        lab = self.up(delay="40ms")
        netem = [q for q in json.loads(self.exec(lab, "h1", "tc", "-j", "qdisc", "show", "dev",
                                                 "eth0").stdout) if q["kind"] == "netem"]
        self.assertEqual(len(netem), 1, "the delay is a netem qdisc on h1:eth0")
        self.assertAlmostEqual(self.rtt_ms(lab), 80, delta=80 * RTT_TOLERANCE)
        netlab("link", "set", "--lab", lab, "h1:eth0", "--delay", "10ms")
        self.assertAlmostEqual(self.rtt_ms(lab), 20, delta=20 * RTT_TOLERANCE)

    def test_loss_is_within_binomial_bounds(self):
        lab = self.up()
        netlab("link", "set", "--lab", lab, "h1:eth0", "--loss", "20%", "--direction", "out")
        output = self.exec(lab, "h1", "ping", "-c", "500", "-i", "0.005", "-W", "1", "10.9.0.2",
                           check=False).stdout
        received = int(re.search(r"(\d+) received", output).group(1))
        low, high = binomial_bounds(500, 0.2)
        self.assertTrue(low <= 500 - received <= high,
                        f"{500 - received} of 500 lost, expected {low:.0f}..{high:.0f}")


if __name__ == "__main__":
    available, reason = kernel_has_netem()
    if not available:
        print(f"SKIPPED: this kernel has no netem qdisc ({reason}); delay, jitter and loss "
              "cannot be measured here", file=sys.stderr)
        sys.exit(77)
    unittest.main()
