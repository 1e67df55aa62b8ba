"""Reliability end to end (issue 7): crashes, races, recycled PIDs, what `down` may touch, the
state directory, hostile input.

Run by tests/run_isolated.sh inside private namespaces. Every test compares snapshot() (links,
named namespaces, mounts, live netlab-init processes, /run/netlab) before and after, and ends
only processes it started itself, by pid.
"""
import concurrent.futures
import errno
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import unittest

from test_labs import (EXAMPLES, NETLAB, LabTest, live_inits, netlab, snapshot, strace, unique_lab,
                       worker_calls)

SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(SOURCE, "tests", "fuzz", "corpus")
STATE_ROOT = "/run/netlab"
# What a crash of netlab itself looks like, as opposed to an error it reports.
CRASH_SIGNS = ("terminate called", "Segmentation fault", "Aborted", "core dumped",
               "AddressSanitizer", "runtime error:")


def generated(kind, count):
    result = subprocess.run([sys.executable, os.path.join(SOURCE, "bench", "generate.py"), kind,
                             str(count)], capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


def start_time(pid):
    """Field 22 of /proc/PID/stat: with the pid, what identifies a process."""
    with open(f"/proc/{pid}/stat") as stat_file:
        fields = stat_file.read()
    return int(fields[fields.rindex(")") + 2:].split()[19])


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as stat_file:
            fields = stat_file.read()
    except (FileNotFoundError, ProcessLookupError):  # gone before the open, or before the read
        return False
    return fields[fields.rindex(")") + 2] != "Z"


def node_pids(lab):
    status = json.loads(netlab("status", lab, "--format", "json").stdout)
    return {node["name"]: node.get("pid") for node in status["nodes"]}


class ReliabilityTest(LabTest):
    def assert_clean_failure(self, result, *expected):
        """Exit 1 (or 2 for bad usage) with a message; never a signal, a hang or an abort."""
        self.assertIn(result.returncode, (1, 2), f"{result.stdout}\n{result.stderr}")
        self.assertTrue(result.stderr.strip(), "a failure without a message")
        for sign in CRASH_SIGNS:
            self.assertNotIn(sign, result.stderr)
        for text in expected:
            self.assertIn(text, result.stderr)

    def assert_host_restored(self, before, what):
        self.assertEqual(snapshot(), before, f"{what} left something behind")

    def generated_topology(self, kind, count):
        return self.write_topology(generated(kind, count))


class CrashSafety(ReliabilityTest):
    NODES = 150

    def measure_bring_up(self, topology):
        lab = unique_lab("measure")
        before = snapshot()
        start = time.monotonic()
        netlab("up", topology, "--lab", lab)
        elapsed = time.monotonic() - start
        netlab("down", lab)
        self.assert_host_restored(before, "up and down")
        return elapsed

    def kill_then_down(self, topology, delay, kill):
        lab = unique_lab("killed")
        before = snapshot()
        up = subprocess.Popen([NETLAB, "up", topology, "--lab", lab],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        time.sleep(delay)
        up.send_signal(kill)
        _, stderr = up.communicate(timeout=120)
        return lab, before, up.returncode, stderr

    def test_sigkill_at_many_points_of_up_then_down_restores_the_host(self):
        topology = self.generated_topology("chain", self.NODES)
        duration = self.measure_bring_up(topology)
        delays = [0.0, 0.01] + [duration * f for f in (0.1, 0.2, 0.35, 0.5, 0.65, 0.8, 0.95)]
        for delay in delays:
            with self.subTest(delay=round(delay, 3)):
                lab, before, status, _ = self.kill_then_down(topology, delay, signal.SIGKILL)
                down = netlab("down", lab)
                self.assertRegex(down.stdout, "is down|not running")
                self.assert_host_restored(before, f"SIGKILL after {delay:.3f} s, then down,")

    def test_sigkill_at_exact_steps_of_up_then_down_restores_the_host(self):
        """strace kills netlab on entering a chosen system call of its worker's main thread
        (test_labs.strace): the renames of files written before the state file (records,
        hosts), the state file's last."""
        if not shutil.which("strace"):
            self.skipTest("strace is not installed")
        topology = self.generated_topology("chain", 20)
        lab = unique_lab("steps")
        log = os.path.join(tempfile.mkdtemp(), "renames")
        self.addCleanup(shutil.rmtree, os.path.dirname(log), ignore_errors=True)
        before = snapshot()
        subprocess.run([*strace("trace=renameat,renameat2", "-o", log), NETLAB, "up", topology,
                        "--lab", lab], check=True, capture_output=True, timeout=120)
        netlab("down", lab)
        with open(log) as renames:
            calls = [line for line in worker_calls(renames.read()) if line[0].startswith("rename")]
        files = [line for call, line in calls if call == "renameat"]
        self.assertTrue(files and files[-1].count("state.json"), calls[-3:])
        points = [("renameat", n) for n in sorted({1, 2, len(files) // 2, len(files) - 1,
                                                   len(files)})]
        for call, when in points:
            with self.subTest(call=call, when=when):
                lab = unique_lab("steps")
                killed = subprocess.run(
                    [*strace(f"trace={call}", "-o", "/dev/null", "-e",
                             f"inject={call}:signal=SIGKILL:when={when}"), NETLAB, "up", topology,
                     "--lab", lab], capture_output=True, text=True, timeout=120)
                # Worker threads write records too (strace counts each thread apart): the main
                # thread's count may differ by a few from the measured one, and a late point may
                # not be reached.
                if killed.returncode == 0:
                    self.assertGreater(when, 2, "netlab was not killed")
                self.assertRegex(netlab("down", lab).stdout, "is down|not running")
                self.assert_host_restored(before, f"SIGKILL on {call} #{when}, then down,")

    # The lab's directory is made as /run/netlab/.LAB.new<pid>, then renamed into place; killed
    # in between, `up` leaves that temporary, which `down LAB` removes.
    def test_sigkill_before_the_lab_directory_is_published(self):
        if not shutil.which("strace"):
            self.skipTest("strace is not installed")
        lab = unique_lab("publish")
        before = snapshot()
        killed = subprocess.run(
            [*strace("trace=renameat2", "-o", "/dev/null", "-e",
                     "inject=renameat2:signal=SIGKILL:when=1"), NETLAB, "up",
             os.path.join(EXAMPLES, "lan.json"), "--lab", lab], capture_output=True, timeout=120)
        self.assertNotEqual(killed.returncode, 0, "netlab was not killed")
        self.assertIn("not running", netlab("down", lab).stdout)
        try:
            self.assert_host_restored(before, "SIGKILL before the rename of the lab's directory")
        finally:
            for name in os.listdir(STATE_ROOT):
                if name.startswith(f".{lab}.new"):
                    os.rmdir(os.path.join(STATE_ROOT, name))

    def test_sigint_during_up_rolls_back_by_itself(self):
        topology = self.generated_topology("chain", self.NODES)
        duration = self.measure_bring_up(topology)
        # The late ones land around the end of `up`, when the lab is complete but not reported.
        for fraction in (0.1, 0.3, 0.5, 0.7, 0.9, 1.0, 1.1):
            delay = duration * fraction
            with self.subTest(delay=round(delay, 3)):
                lab, before, status, stderr = self.kill_then_down(topology, delay, signal.SIGINT)
                if status == 0:
                    netlab("down", lab)
                    self.skipTest(f"up finished before SIGINT at {delay:.3f} s")
                self.assertNotEqual(status, 0)
                if status > 0:
                    # Caught while building: rolled back, and said so.
                    self.assertIn("interrupted by SIGINT", stderr)
                    for sign in CRASH_SIGNS:
                        self.assertNotIn(sign, stderr)
                # No `down`: nothing may be left.
                self.assert_host_restored(before, f"SIGINT after {delay:.3f} s")
                self.assertIn("not running", netlab("down", lab).stdout)

    def test_node_init_killed_from_outside(self):
        lab = unique_lab("shot")
        before = snapshot()
        netlab("up", os.path.join(EXAMPLES, "lan.json"), "--lab", lab)
        pids = node_pids(lab)
        victim = pids["h1"]
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while alive(victim) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertFalse(alive(victim))
        status = json.loads(netlab("status", lab, "--format", "json").stdout)
        states = {node["name"]: node["state"] for node in status["nodes"]}
        self.assertNotEqual(states["h1"], "running")
        self.assertEqual({name for name, state in states.items() if state == "running"},
                         set(pids) - {"h1"})
        self.assert_clean_failure(self.exec(lab, "h1", "true", check=False), "not running")
        self.assertEqual(self.exec(lab, "h2", "hostname").stdout, "h2\n")
        self.assertIn(f"{len(pids) - 1} nodes stopped", netlab("down", lab).stdout)
        self.assert_host_restored(before, "down after a node's init was killed")


class Concurrency(ReliabilityTest):
    def test_two_ups_of_one_lab_name_one_wins(self):
        topology = self.generated_topology("chain", 30)
        lab = unique_lab("race")
        before = snapshot()
        for attempt in range(3):
            ups = [subprocess.Popen([NETLAB, "up", topology, "--lab", lab], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True) for _ in range(2)]
            results = [(up.wait(timeout=120), *up.communicate()) for up in ups]
            with self.subTest(attempt=attempt):
                self.assertEqual(sorted(status for status, _, _ in results), [0, 1], results)
                loser = next(result for result in results if result[0] == 1)
                self.assertIn(f"lab `{lab}` already exists", loser[2])
                # The winner's lab is whole.
                pids = node_pids(lab)
                self.assertEqual(len(pids), 30)
                self.assertTrue(all(pid and alive(pid) for pid in pids.values()), pids)
                self.assertEqual(self.exec(lab, "r29", "hostname").stdout, "r29\n")
                self.assertEqual(self.exec(lab, "r0", "ping", "-c1", "-W2", "-q",
                                           "10.0.0.2", check=False).returncode, 0)
            netlab("down", lab)
            self.assert_host_restored(before, "two ups and a down")

    def test_exec_and_status_during_down_fail_cleanly_or_work(self):
        topology = self.generated_topology("star", 200)
        lab = unique_lab("going")
        before = snapshot()
        netlab("up", topology, "--lab", lab)
        outcomes = []
        done = threading.Event()

        def pester(args):
            while not done.is_set():
                try:
                    result = subprocess.run([NETLAB, *args], capture_output=True, text=True,
                                            timeout=60)
                except subprocess.TimeoutExpired:
                    outcomes.append((args, "hung", ""))
                    return
                outcomes.append((args, result.returncode, result.stderr))

        commands = [["exec", "--lab", lab, "h1", "--", "true"],
                    ["exec", "--lab", lab, "h199", "--", "hostname"],
                    ["status", lab], ["ls"], ["link", "show", lab]]
        threads = [threading.Thread(target=pester, args=(args,)) for args in commands]
        for thread in threads:
            thread.start()
        time.sleep(0.3)
        down = netlab("down", lab)
        time.sleep(0.3)
        done.set()
        for thread in threads:
            thread.join(timeout=90)
        self.assertIn("200 nodes stopped" if "200" in down.stdout else "is down", down.stdout)
        self.assertGreater(len(outcomes), len(commands))
        for args, status, stderr in outcomes:
            with self.subTest(command=" ".join(args[:2])):
                # A command the stopping node ended with SIGTERM (or SIGKILL after its grace)
                # exits as a shell's would, and says so.
                if args[0] == "exec" and status in (128 + signal.SIGTERM, 128 + signal.SIGKILL):
                    self.assertRegex(stderr, r"killed by SIG(TERM|KILL)", args)
                else:
                    self.assertIn(status, (0, 1), f"{args}: {status} {stderr}")
                if status == 1:
                    self.assertTrue(stderr.strip(), "a failure without a message")
                for sign in CRASH_SIGNS:
                    self.assertNotIn(sign, stderr)
        self.assert_host_restored(before, "down with commands racing it")

    def test_fifty_execs_at_once_on_one_node(self):
        lab = unique_lab("fifty")
        self.bring_up(os.path.join(EXAMPLES, "lan.json"), lab)
        runs = [subprocess.Popen([NETLAB, "exec", "--lab", lab, "h1", "--", "sh", "-c",
                                  f"echo {i} $(hostname)"], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True) for i in range(50)]
        outputs = [run.communicate(timeout=120) for run in runs]
        self.assertEqual([run.returncode for run in runs], [0] * 50, [e for _, e in outputs])
        self.assertEqual([out for out, _ in outputs], [f"{i} h1\n" for i in range(50)])
        # Every helper is gone: only the node's init runs in it.
        processes = self.exec(lab, "h1", "ps", "-e", "-o", "comm=").stdout.split()
        self.assertEqual(sorted(processes), ["netlab-init", "ps"])

    def test_concurrent_link_sets_on_one_lab_serialize(self):
        lab = unique_lab("knobs")
        self.bring_up(os.path.join(EXAMPLES, "lan.json"), lab)
        # Each `link set` shapes both directions of h1's link; interleaved, the two ends could
        # end up with the rates of two different commands.
        rates = range(1, 13)
        runs = [subprocess.Popen([NETLAB, "link", "set", "--lab", lab, "h1:eth0",
                                  "--rate", f"{rate}mbit"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for rate in rates]
        outputs = [run.communicate(timeout=120) for run in runs]
        self.assertEqual([run.returncode for run in runs], [0] * len(runs),
                         [err for _, err in outputs])
        shown = json.loads(netlab("link", "show", lab, "--format", "json").stdout)
        ends = next(link["ends"] for link in shown["links"]
                    if {"node": "h1", "interface": "eth0"} in
                    [{"node": e["node"], "interface": e["interface"]} for e in link["ends"]])
        shaped = set()
        for end in ends:
            qdiscs = json.loads(self.exec(lab, end["node"], "tc", "-j", "qdisc", "show", "dev",
                                          end["interface"]).stdout)
            shaped |= {q["options"]["rate"] for q in qdiscs if "rate" in q.get("options", {})}
        self.assertEqual(len(shaped), 1, f"the two ends carry different rates: {shaped}")
        self.assertIn(shaped.pop(), [rate * 125000 for rate in rates])


class LinkChangesAgainstCrashes(ReliabilityTest):
    """`link set` and `link reset` killed at any instant, or unable to save the record: the next
    `link show` tells the kernel's truth, and the next change works and leaves both ends and
    the record in agreement (issue 14, item 3)."""

    def two_hosts(self):
        topology = {"version": 1, "name": "atomic", "nodes": {"h1": {}, "h2": {}},
                    "links": [{"endpoints": ["h1", "h2"], "prefix": "10.8.0.0/30"}]}
        lab = unique_lab("atomic")
        self.bring_up(self.write_topology(topology), lab)
        return lab

    def kernel_rates(self, lab):
        """Each end's tbf rate in bit/s as the kernel holds it (None: no shaper)."""
        rates = {}
        for node in ("h1", "h2"):
            qdiscs = json.loads(self.exec(lab, node, "tc", "-j", "qdisc", "show", "dev",
                                          "eth0").stdout)
            shaped = [q["options"]["rate"] * 8 for q in qdiscs if q["kind"] == "tbf"]
            rates[node] = shaped[0] if shaped else None
        return rates

    def shown_rates(self, lab):
        [link] = json.loads(netlab("link", "show", lab, "--format", "json").stdout)["links"]
        return {end["node"]: end["egress"].get("rate_bps") for end in link["ends"]}

    def recorded_rates(self, lab):
        status = json.loads(netlab("status", lab, "--format", "json").stdout)
        return {node["name"]: interface["egress"].get("rate_bps")
                for node in status["nodes"] for interface in node["interfaces"]
                if interface["name"] == "eth0"}

    def assert_all_agree(self, lab, expected, what):
        self.assertEqual(self.kernel_rates(lab), expected, f"{what}: the kernel")
        self.assertEqual(self.shown_rates(lab), expected, f"{what}: link show")
        self.assertEqual(self.recorded_rates(lab), expected, f"{what}: the record")

    def test_sigkill_at_every_step_of_link_set_and_reset(self):
        """strace kills netlab on entering each netlink send (the dumps, each end's change) and
        the record's rename: between the two ends, and between the kernel and the record."""
        if not shutil.which("strace"):
            self.skipTest("strace is not installed (tools/install-deps.sh installs it)")
        lab = self.two_hosts()
        changes = {"set": ["set", "--lab", lab, "h1:eth0", "--rate", "7mbit"],
                   "reset": ["reset", "--lab", lab, "h1:eth0"]}
        for verb, change in changes.items():
            netlab("link", "set", "--lab", lab, "h1:eth0", "--rate", "2mbit")
            traced = subprocess.run(["strace", "-f", "-qq", "-e", "trace=sendto,renameat",
                                     NETLAB, "link", *change], capture_output=True, text=True,
                                    check=True)
            calls = [line.split("(")[0].split()[-1] for line in traced.stderr.splitlines()
                     if "sendto(" in line or "renameat(" in line]
            self.assertEqual(calls[-1], "renameat", "the record is saved last")
            points = [("sendto", n) for n in range(1, calls.count("sendto") + 1)]
            points.append(("renameat", 1))
            for call, when in points:
                with self.subTest(verb=verb, call=call, when=when):
                    netlab("link", "set", "--lab", lab, "h1:eth0", "--rate", "2mbit")
                    killed = subprocess.run(
                        ["strace", "-f", "-qq", "-o", "/dev/null", "-e", f"trace={call}", "-e",
                         f"inject={call}:signal=SIGKILL:when={when}", NETLAB, "link", *change],
                        capture_output=True, text=True, timeout=60)
                    self.assertNotEqual(killed.returncode, 0, "netlab was not killed")
                    # Whatever the instant: link show says what the kernel holds, end by end.
                    self.assertEqual(self.shown_rates(lab), self.kernel_rates(lab),
                                     "link show after the kill")
                    netlab("link", "set", "--lab", lab, "h1:eth0", "--rate", "9mbit")
                    self.assert_all_agree(lab, {"h1": 9_000_000, "h2": 9_000_000}, "set after")
                    netlab("link", "reset", "--lab", lab, "h1:eth0")
                    self.assert_all_agree(lab, {"h1": None, "h2": None}, "reset after")

    def test_qdiscs_the_record_does_not_know_are_shown_and_changed(self):
        lab = self.two_hosts()
        # As a killed `link set` leaves it: a shaper the record does not have (the kernel's
        # `File exists` on the next set, before), and a recorded one the kernel lost.
        netlab("link", "set", "--lab", lab, "h2:eth0", "--rate", "4mbit", "--direction", "out")
        self.exec(lab, "h1", "tc", "qdisc", "add", "dev", "eth0", "root", "handle", "1:", "tbf",
                  "rate", "1mbit", "burst", "10kb", "latency", "50ms")
        self.exec(lab, "h2", "tc", "qdisc", "del", "dev", "eth0", "root")
        self.assertEqual(self.shown_rates(lab), {"h1": 1_000_000, "h2": None})
        self.assertRegex(netlab("link", "show", lab).stdout, r"h1:eth0\s+h2:eth0\s+up/up\s+"
                         r"rate 1mbit\s+-")
        netlab("link", "set", "--lab", lab, "h1:eth0", "--rate", "3mbit", "--direction", "out")
        # The other end, left alone, is recorded as the kernel holds it.
        self.assert_all_agree(lab, {"h1": 3_000_000, "h2": None}, "after set")

        # Qdiscs netlab does not lay out are named, and a change replaces them.
        self.exec(lab, "h2", "tc", "qdisc", "add", "dev", "eth0", "root", "pfifo")
        [link] = json.loads(netlab("link", "show", lab, "--format", "json").stdout)["links"]
        ends = {end["node"]: end for end in link["ends"]}
        self.assertRegex(ends["h2"]["foreign_qdiscs"], r"^pfifo [0-9a-f]+: root$")
        self.assertIn("not netlab's: pfifo", netlab("link", "show", lab).stdout)
        netlab("link", "set", "--lab", lab, "h1:eth0", "--rate", "6mbit")
        self.assert_all_agree(lab, {"h1": 6_000_000, "h2": 6_000_000}, "after replacing")
        netlab("link", "reset", "--lab", lab, "h1:eth0")
        self.assert_all_agree(lab, {"h1": None, "h2": None}, "after reset")

    def test_a_record_that_cannot_be_saved_puts_the_kernel_back(self):
        # A full state directory: a small tmpfs of this test's own (its mount namespace is
        # private), filled once the lab is up.
        os.makedirs(STATE_ROOT, mode=0o700, exist_ok=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "netlab-full",
                        STATE_ROOT], check=True)
        self.addCleanup(subprocess.run, ["umount", STATE_ROOT], check=True)
        lab = self.two_hosts()
        netlab("link", "set", "--lab", lab, "h1:eth0", "--rate", "2mbit")
        filler = os.path.join(STATE_ROOT, "filler")
        self.addCleanup(lambda: os.path.exists(filler) and os.unlink(filler))
        with open(filler, "wb", buffering=0) as file:
            try:
                while True:
                    file.write(b"\0" * 4096)
            except OSError as error:
                self.assertEqual(error.errno, errno.ENOSPC)
        failed = netlab("link", "set", "--lab", lab, "h1:eth0", "--rate", "5mbit", check=False)
        self.assert_clean_failure(failed, "No space left on device")
        self.assert_all_agree(lab, {"h1": 2_000_000, "h2": 2_000_000}, "after the failed save")
        lab_directory = os.path.join(STATE_ROOT, lab)
        self.assertEqual([name for name in os.listdir(lab_directory) if name.endswith(".tmp")],
                         [], "no half-written record is left")
        os.unlink(filler)
        netlab("link", "set", "--lab", lab, "h1:eth0", "--rate", "5mbit")
        self.assert_all_agree(lab, {"h1": 5_000_000, "h2": 5_000_000}, "once there is room")


class RecycledPid(ReliabilityTest):
    def test_a_pid_now_owned_by_another_process_is_never_signalled_or_entered(self):
        lab = unique_lab("recycled")
        before = snapshot()
        netlab("up", os.path.join(EXAMPLES, "lan.json"), "--lab", lab)
        sleeper = subprocess.Popen(["sleep", "300"])
        self.addCleanup(sleeper.wait)
        self.addCleanup(sleeper.kill)
        real_init = node_pids(lab)["h1"]
        real_start = start_time(real_init)
        # h1's pid now names the sleep, as if the init had died and its pid been reused; the
        # recorded start time stays the init's.
        record_path = os.path.join(STATE_ROOT, lab, "nodes", "h1", "init")
        with open(record_path, "rb") as record:
            record_text = record.read()
        first_line, rest = record_text.split(b"\n", 1)
        self.assertEqual(first_line, f"{real_init} {real_start}".encode())
        with open(record_path, "wb") as record:
            record.write(f"{sleeper.pid} {real_start}\n".encode() + rest)
        state_path = os.path.join(STATE_ROOT, lab, "state.json")
        with open(state_path) as state_file:
            state_text = state_file.read()
        tampered = re.sub(rf'("pid":\s*){real_init}\b', rf"\g<1>{sleeper.pid}", state_text)
        self.assertNotEqual(tampered, state_text, "the state file records no pid to tamper")
        with open(state_path, "w") as state_file:
            state_file.write(tampered)

        marker_dir = tempfile.mkdtemp(dir="/run")
        self.addCleanup(shutil.rmtree, marker_dir, ignore_errors=True)
        marker = os.path.join(marker_dir, "entered")
        entered = self.exec(lab, "h1", "touch", marker, check=False)
        self.assert_clean_failure(entered, "not running")
        self.assertFalse(os.path.exists(marker), "exec ran a command beside the sleep")
        status = json.loads(netlab("status", lab, "--format", "json").stdout)
        self.assertNotEqual({n["name"]: n["state"] for n in status["nodes"]}["h1"], "running")
        down = netlab("down", lab)
        self.assertIn("is down", down.stdout)
        self.assertTrue(alive(sleeper.pid), "down signalled a process it does not own")
        self.assertIsNone(sleeper.poll())
        # h1's real init is no longer recorded: down found it in h1's cgroup, the lab's own.
        self.assertFalse(alive(real_init), "the real h1 was left running")
        self.assert_host_restored(before, "down of a lab with a recycled pid")


class OnlyWhatWasRecorded(ReliabilityTest):
    def test_down_leaves_lookalike_objects_alone(self):
        lab = unique_lab("own")
        before = snapshot()
        if "/run/netns" not in before["mounts"]:
            # `ip netns add` mounts /run/netns once and leaves it; undone last.
            self.addCleanup(subprocess.run, ["umount", "/run/netns"])
        lookalikes = [["ip", "netns", "add", f"{lab}-h1"],
                      ["ip", "netns", "add", "h1"],
                      ["ip", "link", "add", "eth0", "type", "veth", "peer", "name", "h1-eth0"],
                      ["ip", "link", "add", "br0", "type", "bridge"],
                      ["ip", "link", "add", "lan0", "type", "bridge"]]
        for command in lookalikes:
            subprocess.run(command, check=True)
        self.addCleanup(subprocess.run, ["ip", "netns", "delete", "h1"])
        self.addCleanup(subprocess.run, ["ip", "netns", "delete", f"{lab}-h1"])
        for link in ("eth0", "br0", "lan0"):
            self.addCleanup(subprocess.run, ["ip", "link", "delete", link], stderr=subprocess.DEVNULL)
        # A process named like a node's init, and a mount under the state root's parent.
        fake_dir = tempfile.mkdtemp(dir="/run")
        self.addCleanup(shutil.rmtree, fake_dir, ignore_errors=True)
        shutil.copy("/bin/sleep", os.path.join(fake_dir, "netlab-init"))
        fake_init = subprocess.Popen([os.path.join(fake_dir, "netlab-init"), "300"])
        self.addCleanup(fake_init.wait)
        self.addCleanup(fake_init.kill)
        with_lookalikes = snapshot()
        self.assertIn(fake_init.pid, with_lookalikes["inits"])

        netlab("up", os.path.join(EXAMPLES, "lan.json"), "--lab", lab)
        self.assertIn("is down", netlab("down", lab).stdout)
        self.assertEqual(snapshot(), with_lookalikes, "down touched objects it did not create")
        self.assertIn("not running", netlab("down", lab).stdout)
        self.assertIsNone(fake_init.poll())
        self.doCleanups()
        self.assert_host_restored(before, "the lookalikes' own cleanup")


class UnkillableNode(ReliabilityTest):
    """A node whose init outlives SIGKILL (issue 13): cgroup v1's freezer holds a frozen task's
    SIGKILL until it is thawed, as uninterruptible sleep does."""
    FREEZER = "/sys/fs/cgroup/freezer"

    @staticmethod
    def read(group, name):
        with open(os.path.join(group, name)) as file:
            return file.read().strip()

    def freeze(self, pid):
        if not os.path.ismount(self.FREEZER):
            self.skipTest("no cgroup v1 freezer here: cgroup v2's lets a killed task die")
        group = tempfile.mkdtemp(prefix="freezer-test-", dir=self.FREEZER)
        self.addCleanup(os.rmdir, group)
        with open(os.path.join(group, "cgroup.procs"), "w") as procs:
            procs.write(str(pid))
        self.addCleanup(self.thaw, group)
        with open(os.path.join(group, "freezer.state"), "w") as state:
            state.write("FROZEN")
        deadline = time.monotonic() + 10
        while self.read(group, "freezer.state") != "FROZEN":
            self.assertLess(time.monotonic(), deadline, "the node never froze")
            time.sleep(0.05)
        return group

    def thaw(self, group):
        with open(os.path.join(group, "freezer.state"), "w") as state:
            state.write("THAWED")
        # The cgroup can go once its (killed) tasks are gone.
        deadline = time.monotonic() + 10
        while self.read(group, "cgroup.procs"):
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)

    def test_down_keeps_the_record_of_a_node_that_outlives_sigkill(self):
        lab = unique_lab("frozen")
        before = snapshot()
        topology = self.write_topology({"nodes": {"a": {}, "b": {}}, "links": [["a", "b"]]})
        netlab("up", topology, "--lab", lab)
        pids = node_pids(lab)
        group = self.freeze(pids["a"])

        first = netlab("down", lab, check=False)
        self.assert_clean_failure(first, f"lab `{lab}` is not down", "node a (pid",
                                  "still alive after SIGKILL", f"netlab down {lab}")
        self.assertFalse(alive(pids["b"]), "the other node was not stopped")
        self.assertTrue(alive(pids["a"]))
        # Only the survivor is still recorded, so the next down finds it again.
        self.assertEqual(os.listdir(os.path.join(STATE_ROOT, lab, "nodes")), ["a"])

        self.thaw(group)
        second = netlab("down", lab)
        self.assertIn("is down", second.stdout)
        self.assertFalse(alive(pids["a"]))
        self.assert_host_restored(before, "down after the node could die")


class ExecEndsWithItsCaller(ReliabilityTest):
    """Issue 14: a command `exec` started ends when `exec` is killed, as over ssh; what the
    command itself starts in the background lives on."""

    def sleeps_in(self, lab, node):
        found = netlab("exec", "--lab", lab, node, "--", "pgrep", "-x", "sleep", check=False)
        return found.stdout.split()

    def test_sigkill_of_exec_ends_its_command(self):
        lab = unique_lab("execkill")
        self.bring_up(os.path.join(EXAMPLES, "lan.json"), lab)
        running = subprocess.Popen([NETLAB, "exec", "--lab", lab, "h1", "--", "sleep", "300"])
        deadline = time.monotonic() + 10
        while not self.sleeps_in(lab, "h1"):
            self.assertLess(time.monotonic(), deadline, "the command never started")
            time.sleep(0.05)
        running.kill()  # by the pid the test started
        running.wait()
        deadline = time.monotonic() + 5
        while self.sleeps_in(lab, "h1"):
            self.assertLess(time.monotonic(), deadline, "the command outlived its exec")
            time.sleep(0.05)
        # Started in the background on purpose, a daemon outlives the exec that started it.
        netlab("exec", "--lab", lab, "h1", "--", "sh", "-c", "sleep 300 > /dev/null 2>&1 &")
        self.assertEqual(len(self.sleeps_in(lab, "h1")), 1)


class StateDirectory(ReliabilityTest):
    def test_state_root_is_root_only(self):
        netlab("ls")
        info = os.lstat(STATE_ROOT)
        self.assertTrue(stat.S_ISDIR(info.st_mode))
        self.assertEqual((info.st_uid, stat.S_IMODE(info.st_mode)), (0, 0o700))
        lab = unique_lab("mode")
        self.bring_up(os.path.join(EXAMPLES, "lan.json"), lab)
        for directory, _, files in os.walk(os.path.join(STATE_ROOT, lab)):
            self.assertEqual(stat.S_IMODE(os.lstat(directory).st_mode) & 0o077, 0, directory)
            for name in files:
                self.assertEqual(os.lstat(os.path.join(directory, name)).st_mode & 0o022, 0, name)

    def test_a_state_root_anyone_may_write_is_refused(self):
        netlab("ls")
        os.chmod(STATE_ROOT, 0o777)
        self.addCleanup(os.chmod, STATE_ROOT, 0o700)
        before = snapshot()
        refused = netlab("up", os.path.join(EXAMPLES, "lan.json"), "--lab", unique_lab("lax"),
                         check=False)
        self.assert_clean_failure(refused, "must be owned by root with mode 0700")
        self.assert_host_restored(before, "a refused up")

    def test_a_symlink_at_the_state_root_is_not_followed(self):
        netlab("ls")
        self.assertEqual(os.listdir(STATE_ROOT), [], "a lab is still running")
        elsewhere = tempfile.mkdtemp(dir="/run")
        self.addCleanup(shutil.rmtree, elsewhere)
        os.chmod(elsewhere, 0o700)
        os.rmdir(STATE_ROOT)
        os.symlink(elsewhere, STATE_ROOT)

        def restore():
            os.unlink(STATE_ROOT)
            os.mkdir(STATE_ROOT, 0o700)
        self.addCleanup(restore)
        for args in (["up", os.path.join(EXAMPLES, "lan.json"), "--lab", unique_lab("via")],
                     ["ls"], ["down", "--all"]):
            with self.subTest(args=args[0]):
                self.assert_clean_failure(netlab(*args, check=False))
                self.assertEqual(os.listdir(elsewhere), [])
        self.assertEqual(live_inits(), set())

    def test_a_symlink_planted_at_a_lab_is_not_followed(self):
        lab = unique_lab("planted")
        netlab("ls")
        # A directory that looks like a lab's, with a node record naming a process of ours.
        elsewhere = tempfile.mkdtemp(dir="/run")
        self.addCleanup(shutil.rmtree, elsewhere)
        sleeper = subprocess.Popen(["sleep", "300"])
        self.addCleanup(sleeper.wait)
        self.addCleanup(sleeper.kill)
        os.makedirs(os.path.join(elsewhere, "nodes", "h1"))
        with open(os.path.join(elsewhere, "nodes", "h1", "init"), "w") as record:
            record.write(f"{sleeper.pid} {start_time(sleeper.pid)}\n")
        with open(os.path.join(elsewhere, "state.json"), "w") as state_file:
            state_file.write("{}")
        contents = sorted(os.walk(elsewhere))
        planted = os.path.join(STATE_ROOT, lab)
        os.symlink(elsewhere, planted)
        self.addCleanup(os.unlink, planted)
        before = snapshot()

        up = netlab("up", os.path.join(EXAMPLES, "lan.json"), "--lab", lab, check=False)
        self.assert_clean_failure(up, "already exists")
        for args in (["down", lab], ["status", lab], ["exec", "--lab", lab, "h1", "--", "true"],
                     ["link", "show", lab]):
            with self.subTest(args=args[0]):
                self.assert_clean_failure(netlab(*args, check=False))
        listed = netlab("ls", check=False)
        self.assertEqual(listed.returncode, 0, listed.stderr)
        self.assertEqual(sorted(os.walk(elsewhere)), contents, "a planted directory was changed")
        self.assertTrue(os.path.islink(planted))
        self.assertIsNone(sleeper.poll(), "a process named by a planted record was signalled")
        self.assert_host_restored(before, "commands on a planted symlink")

    def up_for_tampering(self, prefix):
        lab = unique_lab(prefix)
        before = snapshot()
        netlab("up", os.path.join(EXAMPLES, "lan.json"), "--lab", lab)
        pids = node_pids(lab)
        sleeper = subprocess.Popen(["sleep", "300"])
        self.addCleanup(sleeper.wait)
        self.addCleanup(sleeper.kill)
        return lab, before, pids, sleeper

    def plant_record(self, lab, sleeper):
        """A directory outside the lab whose record names an unrelated process of ours."""
        elsewhere = tempfile.mkdtemp(dir="/run")
        self.addCleanup(shutil.rmtree, elsewhere)
        with open(os.path.join(elsewhere, "init"), "w") as record:
            record.write(f"{sleeper.pid} {start_time(sleeper.pid)}\n")
        return elsewhere

    def test_a_symlinked_node_record_is_refused_and_the_real_node_stopped(self):
        lab, before, pids, sleeper = self.up_for_tampering("symrec")
        record = os.path.join(STATE_ROOT, lab, "nodes", "r1")
        shutil.rmtree(record)
        os.symlink(self.plant_record(lab, sleeper), record)
        self.assert_clean_failure(self.exec(lab, "r1", "true", check=False), "r1")
        down = netlab("down", lab)
        self.assertIn("is down", down.stdout)
        self.assertIsNone(sleeper.poll(), "a process named by a planted record was signalled")
        self.assertFalse(alive(pids["r1"]), "the real r1 was left running")
        self.assert_host_restored(before, "down with a symlinked record")

    def test_nodes_symlinked_elsewhere_still_stops_every_node(self):
        lab, before, pids, _ = self.up_for_tampering("symnodes")
        nodes = os.path.join(STATE_ROOT, lab, "nodes")
        shutil.rmtree(nodes)
        os.symlink("/etc", nodes)
        down = netlab("down", lab)
        self.assertIn(f"{len(pids)} nodes stopped", down.stdout)
        self.assertFalse(any(alive(pid) for pid in pids.values()))
        self.assertTrue(os.path.isfile("/etc/passwd"))
        self.assert_host_restored(before, "down with `nodes` a symlink")

    def break_records(self, lab, node):
        with open(os.path.join(STATE_ROOT, lab, "nodes", node, "init"), "w") as record:
            record.write("12")  # truncated
        # Neither does the state file identify it.
        with open(os.path.join(STATE_ROOT, lab, "state.json"), "w") as state_file:
            state_file.write("{")

    def test_a_node_no_record_identifies_is_found_through_its_cgroup(self):
        lab, before, pids, _ = self.up_for_tampering("badrec")
        self.break_records(lab, "h1")
        down = netlab("down", lab)
        self.assertIn("is down", down.stdout)
        self.assertFalse(any(alive(pid) for pid in pids.values()))
        self.assert_host_restored(before, "down with a bad record")

    def test_without_cgroups_an_unidentified_node_is_reported_and_never_signalled(self):
        lab, before, pids, _ = self.up_for_tampering("nocg")
        self.break_records(lab, "h1")
        # As a lab of an older netlab: no cgroups recorded (they are removed by hand below).
        record = os.path.join(STATE_ROOT, lab, "cgroups")
        with open(record) as file:
            cgroups = file.read().split()
        os.unlink(record)
        down = netlab("down", lab, check=False)
        self.assert_clean_failure(down, "node h1 cannot be identified", "--force")
        self.assertTrue(alive(pids["h1"]))
        self.assertFalse(any(alive(pid) for name, pid in pids.items() if name != "h1"))
        self.assertEqual(os.listdir(os.path.join(STATE_ROOT, lab, "nodes")), ["h1"])
        os.kill(pids["h1"], signal.SIGKILL)  # by the pid the test read itself
        forced = netlab("down", "--force", lab)
        self.assertIn("is down", forced.stdout)
        for cgroup in cgroups:
            for directory, _, _ in sorted(os.walk(cgroup), reverse=True):
                deadline = time.monotonic() + 10
                while os.path.isdir(directory):
                    try:
                        os.rmdir(directory)
                    except OSError:
                        self.assertLess(time.monotonic(), deadline, directory)
                        time.sleep(0.05)
        deadline = time.monotonic() + 10
        while snapshot() != before and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assert_host_restored(before, "down --force")

    def test_a_fifo_for_the_state_file_hangs_nothing(self):
        lab, before, _, _ = self.up_for_tampering("fifo")
        other = unique_lab("fifo-other")
        netlab("up", os.path.join(EXAMPLES, "lan.json"), "--lab", other)
        self.addCleanup(netlab, "down", other)
        state = os.path.join(STATE_ROOT, lab, "state.json")
        os.unlink(state)
        os.mkfifo(state, 0o600)
        for args in (["status", lab], ["link", "show", lab]):
            with self.subTest(args=args[0]):
                self.assert_clean_failure(netlab(*args, check=False), "state.json")
        listed = netlab("ls", check=False)
        self.assertIn(other, listed.stdout)
        self.assertIn("is down", netlab("down", lab).stdout)

    def test_a_lab_directory_that_is_not_netlabs_is_refused(self):
        netlab("ls")
        lab = unique_lab("foreign")
        planted = os.path.join(STATE_ROOT, lab)
        os.mkdir(planted)
        self.addCleanup(shutil.rmtree, planted, ignore_errors=True)
        os.chown(planted, 65534, 65534)
        os.chmod(planted, 0o777)
        for args in (["down", lab], ["status", lab], ["exec", "--lab", lab, "h1", "--", "true"]):
            with self.subTest(args=args[0]):
                self.assert_clean_failure(netlab(*args, check=False), "not netlab's")

    def test_names_that_are_paths_are_refused(self):
        netlab("ls")
        before = snapshot()
        lan = os.path.join(EXAMPLES, "lan.json")
        cases = [(["up", lan, "--lab", "../escape"], "invalid lab name"),
                 (["up", lan, "--lab", "a/b"], "invalid lab name"),
                 (["up", lan, "--lab", ".."], "invalid lab name"),
                 (["down", "../escape"], "invalid lab name"),
                 (["status", "../../etc"], "invalid lab name"),
                 (["link", "show", "../escape"], "invalid lab name"),
                 (["exec", "--lab", "../escape", "h1", "--", "true"], "invalid lab name")]
        for args, message in cases:
            with self.subTest(args=args):
                self.assert_clean_failure(netlab(*args, check=False), message)
        lab = unique_lab("paths")
        self.bring_up(lan, lab)
        for node in ("../h1", "h1/../h2", "/", ".", "..", "nodes/h1"):
            with self.subTest(node=node):
                self.assert_clean_failure(self.exec(lab, node, "true", check=False))
        self.assertFalse(os.path.exists("/run/escape"))
        self.assertFalse(os.path.exists("/escape"))

    def test_a_user_other_than_root_gets_a_clear_message(self):
        if not shutil.which("setpriv"):
            self.skipTest("setpriv is not installed")
        netlab("ls")
        before = snapshot()
        # The build tree may be unreadable to nobody: a copy it can run.
        copy_dir = tempfile.mkdtemp(dir="/run")
        self.addCleanup(shutil.rmtree, copy_dir)
        os.chmod(copy_dir, 0o755)
        for program in ("netlab", "netlab-init"):
            source = os.path.join(os.path.dirname(NETLAB), program)
            if os.path.exists(source):
                shutil.copy(source, copy_dir)
        topology = os.path.join(copy_dir, "lan.json")
        shutil.copy(os.path.join(EXAMPLES, "lan.json"), topology)
        os.chmod(topology, 0o644)
        nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                  os.path.join(copy_dir, "netlab")]
        # Without root netlab keeps labs in the user's runtime directory (docs/rootless.md):
        # without one, every verb says so.
        environment = {k: v for k, v in os.environ.items() if k != "XDG_RUNTIME_DIR"}
        environment.pop("NETLAB_RUN_DIR", None)
        for args in (["ls"], ["up", topology, "--lab", unique_lab("nobody")], ["down", "--all"],
                     ["status"], ["exec", "h1", "--", "true"]):
            with self.subTest(args=args[0]):
                result = subprocess.run(nobody + args, capture_output=True, text=True, timeout=60,
                                        env=environment)
                self.assert_clean_failure(result)
                self.assertIn("XDG_RUNTIME_DIR is not set", result.stderr)
        self.assert_host_restored(before, "commands run by nobody")


class HostileInput(ReliabilityTest):
    """`netlab validate` on nasty topologies: exit 2 with a located error, quickly."""

    def assert_refused_with_a_location(self, path, seconds=20):
        result = subprocess.run([NETLAB, "validate", path], capture_output=True, text=True,
                                timeout=seconds)
        self.assertEqual(result.returncode, 2, f"{result.stdout}\n{result.stderr}")
        self.assertRegex(result.stdout + result.stderr, re.escape(os.path.basename(path)) + r"(:\d+:\d+)?")
        self.assertRegex(result.stdout + result.stderr, "error")
        for sign in CRASH_SIGNS:
            self.assertNotIn(sign, result.stderr)
        return result.stdout + result.stderr

    def test_every_corpus_file(self):
        files = sorted(os.listdir(CORPUS))
        self.assertGreater(len(files), 20)
        for name in files:
            with self.subTest(file=name):
                self.assert_refused_with_a_location(os.path.join(CORPUS, name))

    def write_text(self, name, text):
        directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, directory, ignore_errors=True)
        path = os.path.join(directory, name)
        with open(path, "wb") as file:
            file.write(text.encode() if isinstance(text, str) else text)
        return path

    def test_generated_monsters(self):
        links = ", ".join('["a:eth0", "b"]' for _ in range(5000))
        cases = {
            "deep.json": "[" * 200_000 + "]" * 200_000,
            "deep_objects.json": '{"a":' * 100_000 + "1" + "}" * 100_000,
            "huge.json": '{"nodes": {"a": {}}, "pad": "' + "x" * (20 << 20) + '"}',
            "links.json": '{"nodes": {"a": {}, "b": {}}, "links": [' + links + "]}",
            "names.json": json.dumps({"name": "../../run", "nodes": {
                "../../x": {}, "a/b": {}, "x" * 300: {}, "h1": {"hostname": "../etc"}}}),
            "interfaces.json": json.dumps({"nodes": {"a": {}, "b": {}}, "links": [
                ["a:abcdefghijklmnop", "b:eth0"], ["a:eth1/..", "b:../eth1"]]}),
            "utf8.json": b'{"nodes": {"\xc3\x28": {}, "a": {"hostname": "\xed\xa0\x80"}}}',
        }
        for name, text in cases.items():
            with self.subTest(file=name):
                output = self.assert_refused_with_a_location(self.write_text(name, text))
                if name == "links.json":
                    self.assertIn("is used twice", output)
                if name == "interfaces.json":
                    self.assertIn("longer than 15 characters", output)


if __name__ == "__main__":
    unittest.main()
