"""End-to-end test of the benchmark itself (bench/run.py, issue 21): on two small labs it
measures netlab and the kernel floor, keeps each one's phases side by side, records the load
average around each lab, and refuses to measure on a busy machine unless told."""
import json
import os
import subprocess
import sys
import tempfile
import unittest

SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUN = os.path.join(SOURCE, "bench", "run.py")


def bench(*arguments):
    return subprocess.run([sys.executable, RUN, "--netlab", os.environ["NETLAB"],
                           "--floor", os.environ["NETLAB_FLOOR"], *arguments],
                          capture_output=True, text=True, timeout=600)


class Benchmark(unittest.TestCase):
    def test_netlab_and_the_floor_side_by_side_phase_by_phase(self):
        with tempfile.TemporaryDirectory() as scratch:
            results = os.path.join(scratch, "results.json")
            table = os.path.join(scratch, "results.md")
            # Whatever the load: this test checks what the benchmark reports, not a figure.
            done = bench("--sizes", "10", "--shapes", "star,chain", "--fat-tree", "",
                         "--repeat", "2", "--tools", "netlab,floor,mininet", "--loaded-ok",
                         "--settle", "0", "--output", results, "--output", table)
            self.assertEqual(done.returncode, 0, done.stderr)
            with open(results) as source:
                measured = json.load(source)
            with open(table) as source:
                markdown = source.read()
        self.assertEqual([lab["shape"] for lab in measured["labs"]], ["star", "chain"])
        for lab in measured["labs"]:
            self.assertEqual(lab["failures"], {})
            self.assertRegex(lab["load_before"], r"^\d+\.\d+ \d+\.\d+ \d+\.\d+$")
            self.assertRegex(lab["load_after"], r"^\d+\.\d+ \d+\.\d+ \d+\.\d+$")
            for record in lab["records"]["netlab"]:
                phases = record["phases"]
                self.assertEqual(list(phases)[:4], ["read topology", "map ids, check limits",
                                                    "prepare files", "start nodes"])
                self.assertIn("await carrier", phases)
                # The phases are the whole of `up` but netlab's own start and exit.
                self.assertLessEqual(sum(phases.values()), record["up"])
                self.assertGreater(phases["start nodes"], 0)
            for record in lab["records"]["floor"]:
                self.assertEqual(list(record["phases"]),
                                 ["start nodes", "create links", "configure nodes"])
        self.assertIn("### Phases of up", markdown)
        self.assertRegex(markdown, r"\| star 10 \| start nodes \| [0-9.]+ \([0-9.]+–[0-9.]+\) \| "
                                   r"[0-9.]+ \([0-9.]+–[0-9.]+\) \|")
        self.assertIn("### Load average", markdown)
        # The command as it can be run again: the empty --fat-tree quoted.
        self.assertRegex(markdown, r"Command: `bench/run.py .*--shapes star,chain --fat-tree '' ")
        # Where Mininet is not installed, the benchmark names what is missing.
        if "mininet" not in measured["tools"]:
            self.assertRegex(done.stderr, r"mininet: skipped: .*(mnexec|cannot import mininet)")

    def test_a_busy_machine_is_refused_unless_told(self):
        # No load average is below zero: the machine always counts as busy here.
        done = bench("--sizes", "10", "--shapes", "star", "--fat-tree", "", "--repeat", "1",
                     "--tools", "netlab", "--max-load", "-1", "--settle", "0")
        self.assertNotEqual(done.returncode, 0)
        self.assertIn("above -1.0: figures taken now would not be results", done.stderr)
        self.assertNotIn("star 10:", done.stderr)


if __name__ == "__main__":
    unittest.main()
