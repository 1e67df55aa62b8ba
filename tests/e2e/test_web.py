"""End-to-end tests of `netlab web`'s JSON API (docs/web.md), over HTTP from Python, against a
running lab: what it serves, what it refuses, control with and without --control, and a lab
that goes down while a client watches it. The page itself is tested in a browser by
test_web_browser.py."""
import http.client
import json
import os
import subprocess
import tempfile
import threading
import time
import unittest

from test_labs import EXAMPLES, LabTest, netlab, unique_lab
from test_capture import read_pcapng
from web_support import WebServer, link_of, link_path

LAN = os.path.join(EXAMPLES, "lan.json")
READINGS = ("cpu_seconds", "memory_bytes")


def without_readings(report):
    """A status report, or (HTTP status, report), without each node's live readings."""
    if isinstance(report, tuple):
        return report[0], without_readings(report[1])
    return {**report, "nodes": [{key: value for key, value in node.items() if key not in READINGS}
                                for node in report["nodes"]]}


class WebApi(LabTest):
    def serve(self, *options):
        server = WebServer(*options)
        self.addCleanup(self.stop, server)
        return server

    def stop(self, server):
        code, out, err = server.stop()
        self.assertEqual(code, 0, f"netlab web exited {code}: {out}{err}")
        self.assertIn("stopped", out)

    def test_reads_what_the_command_line_prints_and_refuses_the_rest(self):
        lab = unique_lab("web")
        plan = self.bring_up(LAN, lab)
        server = self.serve()
        status, labs = server.get("/api/labs")
        self.assertEqual(status, 200)
        self.assertIn(lab, [entry["name"] for entry in labs])
        # Equal but for the live readings (a node's CPU time and memory move between the two).
        self.assertEqual(without_readings(server.get(f"/api/labs/{lab}")),
                         (200, without_readings(json.loads(
                             netlab("status", lab, "--format", "json").stdout))))
        status, links = server.get(f"/api/labs/{lab}/links")
        cli_links = json.loads(netlab("link", "show", lab, "--format", "json").stdout)
        ends = lambda report: [[(e["node"], e["interface"]) for e in l["ends"]]
                               for l in report["links"]]
        self.assertEqual((status, ends(links)), (200, ends(cli_links)))
        status, routes = server.get(f"/api/labs/{lab}/nodes/r1/routes")
        self.assertEqual(status, 200)
        kernel = json.loads(self.exec(lab, "r1", "ip", "-j", "route").stdout)
        self.assertTrue({r["dst"] for r in kernel if "/" in r["dst"]}
                        <= {r["destination"] for r in routes["routes"]})
        status, page = server.get("/")
        self.assertEqual(status, 200)
        self.assertIn('<script src="/app.js">', page)
        self.assertEqual(server.get("/app.js")[0], 200)
        # Bad paths, unknown labs and nodes: 404 with a JSON reason.
        for path in ["/api/nope", "/api/labs/no-such-lab", "/api/labs/no-such-lab/events",
                     f"/api/labs/{lab}/nodes/no-such-node/routes", "/favicon.ico"]:
            with self.subTest(path=path):
                status, body = server.get(path)
                self.assertEqual(status, 404)
                self.assertIn("error", body)
        # Read-only: control is refused, and nothing changed.
        status, body = server.post(link_path(lab, "r1:eth0", "down"), {})
        self.assertEqual(status, 403)
        self.assertIn("--control", body["error"])
        self.assertEqual(server.post(link_path(lab, "r1:eth0", "impairments"),
                                     {"delay": "20ms"})[0], 403)
        self.assertEqual(server.get(link_path(lab, "h1:eth0", "capture"))[0], 403)
        self.assertTrue(link_of(self.first_update(server, lab), "r1:eth0")["up"])
        # A page whose DNS name was rebound to this address names its own host: refused.
        self.assertEqual(server.get("/api/labs", Host=f"attacker.example:{server.port}")[0], 403)
        self.assertEqual(server.get("/api/labs", Host=f"localhost:{server.port}")[0], 200)
        self.assertEqual(len(plan["nodes"]), len(server.get(f"/api/labs/{lab}")[1]["nodes"]))

    def first_update(self, server, lab):
        stream = server.stream(lab)
        try:
            update, _ = stream.wait_for(lambda update: True, 5)
            return update
        finally:
            stream.close()

    def test_control_fails_restores_and_impairs_links(self):
        lab = unique_lab("webctl")
        self.bring_up(LAN, lab)
        server = self.serve("--control")
        down = link_path(lab, "r1:eth0", "down")
        # Another site's page posting through the user's browser names its origin.
        status, body = server.post(down, {}, Origin="http://attacker.example")
        self.assertEqual(status, 403, body)
        status, _ = server.request("POST", down, "delay=20ms",
                                   {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 415)
        self.assertTrue(link_of(self.first_update(server, lab), "r1:eth0")["up"])
        # This server's own page may.
        stream = server.stream(lab)
        self.addCleanup(stream.close)
        stream.wait_for(lambda update: True, 5)
        status, body = server.post(down, {}, Origin=server.url.rstrip("/"))
        self.assertEqual((status, body["state"]), (200, "down"), body)
        update, seconds = stream.wait_for(lambda u: not link_of(u, "r1:eth0")["up"], 5)
        print(f"link down shown in the stream {seconds:.3f} s after the POST returned")
        # A change made through the server is read at once, not at the period's end.
        self.assertLess(seconds, 0.5, "a link downed through the API must show at once")
        link = link_of(update, "r1:eth0")
        self.assertIn("down", (link["a"]["oper_state"], link["b"]["oper_state"]))
        inside = json.loads(self.exec(lab, "r1", "ip", "-j", "link", "show", "eth0").stdout)
        self.assertNotEqual(inside[0]["operstate"], "UP", "the kernel still has the link up")
        status, body = server.post(link_path(lab, "r1:eth0", "up"), {})
        self.assertEqual(status, 200, body)
        stream.wait_for(lambda u: link_of(u, "r1:eth0")["up"], 5)
        # Impairments (a rate: tbf, which every kernel has, unlike netem): set, shown, refused
        # when bad, reset.
        impair = link_path(lab, "r1:eth0", "impairments")
        status, body = server.post(impair, {"rate": "10mbit", "direction": "out"})
        self.assertEqual(status, 200, body)
        self.assertEqual(body["changed"][0]["egress"]["rate_bps"], 10_000_000)
        stream.wait_for(lambda u: "rate 10mbit" in link_of(u, "r1:eth0")["a"]["egress_text"], 5)
        cli = json.loads(netlab("link", "show", lab, "--format", "json").stdout)
        self.assertIn({"rate_bps": 10_000_000},
                      [end["egress"] for link in cli["links"] for end in link["ends"]])
        for bad in [{"delay": "soon"}, {"colour": "red"}, {}, {"direction": "up", "loss": "1%"}]:
            with self.subTest(body=bad):
                status, body = server.post(impair, bad)
                self.assertEqual(status, 400, body)
        self.assertEqual(server.post(link_path(lab, "r1:nope", "down"), {})[0], 404)
        status, body = server.post(impair, {"reset": True})
        self.assertEqual(status, 200, body)
        stream.wait_for(lambda u: link_of(u, "r1:eth0")["a"]["egress_text"] == "", 5)

    def open_capture(self, server, lab, end, query):
        """The download's response, once its headers are in: the capture is then open."""
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        self.addCleanup(connection.close)
        connection.request("GET", link_path(lab, end, "capture") + "?" + query)
        return connection.getresponse()

    def pcapng_of(self, body):
        with tempfile.NamedTemporaryFile(suffix=".pcapng") as file:
            file.write(body)
            file.flush()
            return read_pcapng(file.name)

    def test_control_downloads_a_capture_as_pcapng(self):
        lab = unique_lab("webcap")
        self.bring_up(LAN, lab)
        server = self.serve("--control")
        response = self.open_capture(server, lab, "h1:eth0", "count=10&filter=icmp")
        self.assertEqual(response.status, 200)
        self.assertEqual(response.getheader("Content-Type"), "application/x-pcapng")
        self.assertIn(f'filename="{lab}-h1-eth0.pcapng"',
                      response.getheader("Content-Disposition"))
        self.exec(lab, "h1", "ping", "-c", "5", "-i", "0.05", "172.16.1.3")
        names, packets = self.pcapng_of(response.read())
        self.assertEqual(names, ["h1:eth0"])
        self.assertEqual(len(packets), 10, "five requests and five replies, no ARP (the filter)")
        # ICMP (IPv4 protocol 1) in every frame: the filter was applied.
        self.assertEqual({packet[2][14 + 9] for packet in packets}, {1})
        # Refused before the first byte, each with its reason.
        for end, query, status in [("h1:eth0", "filter=not%20a%20filter%20(", 400),
                                   ("h1:eth0", "seconds=0", 400),
                                   ("h1:eth0", "snaplen=64", 400),
                                   ("h1:eth9", "", 404),
                                   ("nobody:eth0", "", 404)]:
            with self.subTest(end=end, query=query):
                response = self.open_capture(server, lab, end, query)
                body = json.loads(response.read())
                self.assertEqual(response.status, status, body)
                self.assertIn("error", body)
        status, body = server.get(link_path(lab, "h1:eth0", "capture"),
                                  Origin="http://attacker.example")
        self.assertEqual(status, 403, body)

    def test_a_capture_being_downloaded_ends_with_the_server(self):
        lab = unique_lab("webcapstop")
        self.bring_up(LAN, lab)
        server = WebServer("--control")
        response = self.open_capture(server, lab, "h1:eth0", "seconds=3600")
        self.exec(lab, "h1", "ping", "-c", "3", "-i", "0.05", "172.16.1.3")
        time.sleep(1.5)  # the pings flushed (about once a second)
        body = []
        reader = threading.Thread(target=lambda: body.append(response.read()))
        reader.start()
        start = time.monotonic()
        code, out, err = server.stop()
        self.assertEqual(code, 0, f"netlab web exited {code}: {out}{err}")
        print(f"netlab web with an hour's capture open stopped in "
              f"{time.monotonic() - start:.2f} s")
        reader.join(10)
        self.assertFalse(reader.is_alive(), "the download did not end with the server")
        names, packets = self.pcapng_of(body[0])
        self.assertEqual(names, ["h1:eth0"])
        self.assertGreaterEqual(len(packets), 6, "the pings taken before the stop")

    def test_a_link_downed_from_the_command_line_shows_within_a_second(self):
        lab = unique_lab("webcli")
        self.bring_up(LAN, lab)
        server = self.serve()
        stream = server.stream(lab)
        self.addCleanup(stream.close)
        stream.wait_for(lambda update: True, 5)
        start = time.monotonic()
        netlab("link", "down", "--lab", lab, "r1:eth1")
        returned = time.monotonic() - start
        _, seconds = stream.wait_for(lambda u: not link_of(u, "r1:eth1")["up"], 5)
        print(f"`netlab link down` took {returned:.3f} s; the stream showed it "
              f"{seconds:.3f} s after it began")
        self.assertLess(seconds, 1.5, "a downed link must show within about a second")

    def test_a_lab_that_goes_down_while_watched_ends_its_stream(self):
        lab = unique_lab("webgone")
        self.bring_up(LAN, lab)
        server = self.serve()
        stream = server.stream(lab)
        self.addCleanup(stream.close)
        stream.wait_for(lambda update: True, 5)
        netlab("down", lab)
        start = time.monotonic()
        events = []
        while True:
            event = stream.next()
            if event is None:
                break
            events.append(event)
            self.assertLess(time.monotonic() - start, 10, events)
        self.assertEqual(events[-1][0], "gone", events)
        self.assertIn("not running", events[-1][1]["reason"])
        # The server goes on.
        status, labs = server.get("/api/labs")
        self.assertEqual(status, 200)
        self.assertNotIn(lab, [entry["name"] for entry in labs])
        self.assertEqual(server.get(f"/api/labs/{lab}")[0], 404)


if __name__ == "__main__":
    unittest.main()
