"""End-to-end tests of `netlab capture` (issue 16): packets captured in the nodes, written as
pcapng and read back by an independent reader (tshark, from Debian's tshark package, and a
small pcapng parser of Python's own below), filters, several interfaces merged in time order,
Ctrl-C, a node that stops, and the errors.

Run by tests/run_isolated.sh inside private namespaces, like every e2e test. Without tshark the
file exits 77 (skipped) with the reason.
"""
import os
import pty
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import unittest

from test_labs import EXAMPLES, NETLAB, LabTest, netlab, unique_lab


def read_pcapng(path):
    """(interface names, [(interface index, timestamp ns, captured bytes)]) of a pcapng file,
    parsed by the format's draft: section header, interface descriptions, enhanced packets."""
    with open(path, "rb") as file:
        data = file.read()
    names, packets, offset = [], [], 0
    while offset < len(data):
        kind, length = struct.unpack_from("<II", data, offset)
        if length < 12 or offset + length > len(data):
            raise ValueError(f"a truncated block at {offset}")
        body = data[offset + 8:offset + length - 4]
        if struct.unpack_from("<I", data, offset + length - 4)[0] != length:
            raise ValueError(f"the block at {offset} does not end with its length")
        if kind == 0x0A0D0D0A:
            assert struct.unpack_from("<I", body)[0] == 0x1A2B3C4D, "byte-order magic"
        elif kind == 1:
            options, name = body[8:], None
            while len(options) >= 4:
                code, size = struct.unpack_from("<HH", options)
                if code == 0:
                    break
                if code == 2:
                    name = options[4:4 + size].decode()
                options = options[4 + (size + 3) // 4 * 4:]
            names.append(name)
        elif kind == 6:
            interface, high, low, captured, _ = struct.unpack_from("<IIIII", body)
            packets.append((interface, high << 32 | low, body[20:20 + captured]))
        offset += length
    return names, packets


def tshark_fields(path, *fields, display_filter=None):
    command = ["tshark", "-r", path, "-T", "fields"]
    for field in fields:
        command += ["-e", field]
    if display_filter:
        command += ["-Y", display_filter]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return [line.split("\t") for line in result.stdout.splitlines()]


class Capture(LabTest):
    def setUp(self):
        self.directory = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.directory, ignore_errors=True)

    def lan(self):
        lab = unique_lab("capture")
        self.bring_up(os.path.join(EXAMPLES, "lan.json"), lab)
        return lab

    def start(self, lab, *arguments):
        """A capture in the background, once it says it is capturing (its sockets are open)."""
        capture = subprocess.Popen([NETLAB, "capture", "--lab", lab, *arguments],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(lambda: capture.poll() is None and capture.kill())
        line = capture.stderr.readline().decode()
        self.assertIn("capturing on", line)
        return capture

    def ping(self, lab, node, address, count):
        self.exec(lab, node, "ping", "-c", str(count), "-i", "0.05", address)

    def test_a_known_number_of_pings_read_back_by_tshark(self):
        lab = self.lan()
        path = os.path.join(self.directory, "pings.pcapng")
        capture = self.start(lab, "h1:eth0", "-w", path, "-c", "10", "icmp")
        self.ping(lab, "h1", "172.16.1.3", 5)
        _, stderr = capture.communicate(timeout=30)
        self.assertEqual(capture.returncode, 0, stderr)
        self.assertIn(b"h1:eth0: 10 packets, 0 dropped", stderr)
        rows = tshark_fields(path, "frame.interface_name", "frame.interface_description",
                             "icmp.type")
        self.assertEqual(len(rows), 10)
        self.assertEqual({row[0] for row in rows}, {"h1:eth0"})
        self.assertEqual({row[1] for row in rows}, {f"lab {lab}, h1:eth0"})
        self.assertEqual(sorted(row[2] for row in rows), ["0"] * 5 + ["8"] * 5,
                         "five requests and five replies, no ARP (the filter)")
        names, packets = read_pcapng(path)
        self.assertEqual(names, ["h1:eth0"])
        self.assertEqual(len(packets), 10)

    def test_several_interfaces_are_merged_in_time_order(self):
        lab = self.lan()
        path = os.path.join(self.directory, "merged.pcapng")
        # h1's ping crosses h1:eth0, the switch, r1:eth0; its replies come back the same way.
        capture = self.start(lab, "h1:eth0", "r1:eth0", "h2:eth0", "-w", path, "-c", "20",
                             "icmp")
        self.ping(lab, "h1", "172.16.1.1", 5)
        self.ping(lab, "h2", "172.16.1.1", 5)
        capture.communicate(timeout=30)
        names, packets = read_pcapng(path)
        self.assertEqual(names, ["h1:eth0", "r1:eth0", "h2:eth0"])
        self.assertEqual(len(packets), 20)
        times = [timestamp for _, timestamp, _ in packets]
        self.assertEqual(times, sorted(times), "packets are in time order across interfaces")
        # h1's pings first: the count of 20 ends the capture before h2's are seen.
        per_interface = [sum(1 for index, _, _ in packets if index == i) for i in range(3)]
        self.assertEqual(per_interface, [10, 10, 0])
        # tshark agrees on the interfaces and the order.
        rows = tshark_fields(path, "frame.interface_name", "frame.time_epoch")
        self.assertEqual([row[0] for row in rows], [names[index] for index, _, _ in packets])

    def test_sigint_leaves_a_complete_file_and_a_summary(self):
        lab = self.lan()
        path = os.path.join(self.directory, "interrupted.pcapng")
        capture = self.start(lab, "r1:eth0", "-w", path)
        self.ping(lab, "h1", "172.16.1.1", 3)
        time.sleep(0.2)
        capture.send_signal(signal.SIGINT)
        _, stderr = capture.communicate(timeout=30)
        self.assertEqual(capture.returncode, 0, stderr)
        self.assertRegex(stderr.decode(), r"\d+ packets captured to .*interrupted.pcapng")
        requests = tshark_fields(path, "icmp.seq", display_filter="icmp.type == 8")
        self.assertEqual(len(requests), 3)
        result = subprocess.run(["capinfos", "-c", path], capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_pcapng_on_a_pipe_and_a_line_per_packet_on_a_terminal(self):
        lab = self.lan()
        # stdout a pipe: pcapng, read live by tshark from its stdin.
        reader = subprocess.Popen(
            f"{NETLAB} capture --lab {lab} h1:eth0 -c 4 icmp | "
            "tshark -r - -T fields -e frame.interface_name -e icmp.type",
            shell=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: reader.poll() is None and reader.kill())
        # Pinged once the capture says it is capturing (a fixed pause was too short for a
        # sanitized build beside other tests): tshark may speak on the same stderr first.
        said = []
        while not said or "capturing on" not in said[-1]:
            said.append(reader.stderr.readline())
            self.assertTrue(said[-1], "the capture ended before capturing: " + "".join(said))
        self.ping(lab, "h1", "172.16.1.1", 2)
        stdout, stderr = reader.communicate(timeout=30)
        self.assertEqual(stdout.split(), ["h1:eth0", "8", "h1:eth0", "0"] * 2,
                         "".join(said) + stderr)

        # stdout a terminal: a line per packet.
        leader, follower = pty.openpty()
        capture = subprocess.Popen([NETLAB, "capture", "--lab", lab, "h1:eth0", "-c", "2",
                                    "icmp"], stdout=follower, stderr=subprocess.PIPE)
        os.close(follower)
        self.assertIn(b"capturing on h1:eth0", capture.stderr.readline())
        self.ping(lab, "h1", "172.16.1.1", 1)
        capture.wait(timeout=30)
        capture.stderr.close()
        output = b""
        while select.select([leader], [], [], 0.5)[0]:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
        os.close(leader)
        lines = output.decode().splitlines()
        self.assertEqual(len(lines), 2, output)
        self.assertRegex(lines[0], r"^\d\d:\d\d:\d\d\.\d{6} h1:eth0 172\.16\.1\.2 > 172\.16\.1\.1 "
                                   r"ICMP echo request, id \d+, seq 1$")
        self.assertRegex(lines[1], r"h1:eth0 172\.16\.1\.1 > 172\.16\.1\.2 ICMP echo reply")

    def test_globs_and_all(self):
        lab = self.lan()
        path = os.path.join(self.directory, "all.pcapng")
        capture = self.start(lab, "--all", "-w", path, "--duration", "0.5")
        capture.communicate(timeout=30)
        names, _ = read_pcapng(path)
        self.assertEqual(names, ["r1:eth0", "r1:eth1", "r2:eth0", "r2:eth1", "h1:eth0",
                                 "h2:eth0", "h3:eth0", "h4:eth0"], "every node's, no switch's")
        path = os.path.join(self.directory, "globs.pcapng")
        capture = self.start(lab, "r*:eth1", "-w", path, "--duration", "0.2")
        capture.communicate(timeout=30)
        self.assertEqual(read_pcapng(path)[0], ["r1:eth1", "r2:eth1"])

    def test_a_node_that_stops_ends_its_interfaces_only(self):
        lab = self.lan()
        path = os.path.join(self.directory, "stopped.pcapng")
        capture = self.start(lab, "h1:eth0", "h2:eth0", "-w", path, "icmp")
        status = netlab("status", lab, "--format", "json").stdout
        h2 = re.search(r'"name": "h2"[^}]*?"pid": (\d+)', status)
        self.assertIsNotNone(h2, status)
        os.kill(int(h2.group(1)), signal.SIGKILL)
        time.sleep(0.3)
        self.ping(lab, "h1", "172.16.1.1", 2)
        time.sleep(0.2)
        self.assertIsNone(capture.poll(), "the capture goes on with h1:eth0")
        capture.send_signal(signal.SIGINT)
        _, stderr = capture.communicate(timeout=30)
        self.assertIn(b"h2:eth0: 0 packets, 0 dropped; stopped: node h2 stopped", stderr)
        self.assertIn(b"h1:eth0: 4 packets", stderr)

    def test_errors_name_what_is_wrong_before_anything_is_captured(self):
        lab = self.lan()
        cases = [
            (["h1:eth0", "tcp", "port", "((("], "capture filter `tcp port (((`"),
            (["h9:eth0"], f"lab `{lab}` has no node matching `h9`"),
            (["h1:eth7"], "no interface of `h1` matches `eth7` (its interfaces: eth0)"),
            (["icmp"], "name the interfaces to capture on"),
        ]
        for arguments, message in cases:
            with self.subTest(arguments=arguments):
                result = netlab("capture", "--lab", lab, *arguments, "-w",
                                os.path.join(self.directory, "never.pcapng"), check=False)
                self.assertEqual(result.returncode, 1, result.stderr)
                self.assertIn(message, result.stderr)
                self.assertFalse(os.path.exists(os.path.join(self.directory, "never.pcapng")))
        result = netlab("capture", "--lab", unique_lab("absent"), "h1:eth0", check=False)
        self.assertEqual(result.returncode, 1)
        self.assertIn("not running", result.stderr)


if __name__ == "__main__":
    if not shutil.which("tshark"):
        print("SKIPPED: tshark, the independent reader of the captures, is not installed "
              "(tools/install-deps.sh installs it)", file=sys.stderr)
        sys.exit(77)
    unittest.main()
