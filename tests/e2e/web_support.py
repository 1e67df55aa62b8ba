"""What the web tests share: `netlab web` started on a free loopback port, HTTP requests to
it, and a reader of its event streams (server-sent events)."""
import http.client
import json
import os
import re
import select
import signal
import subprocess
import time
import urllib.parse

NETLAB = os.environ["NETLAB"]


class WebServer:
    """`netlab web --listen 127.0.0.1:0 ...`: the port is the one it prints."""

    def __init__(self, *options):
        self.process = subprocess.Popen([NETLAB, "web", "--listen", "127.0.0.1:0", *options],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True)
        ready, _, _ = select.select([self.process.stdout], [], [], 10)
        line = self.process.stdout.readline() if ready else ""
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        if not match:
            self.process.kill()
            raise AssertionError(f"netlab web did not say where it listens: {line!r} "
                                 f"{self.process.stderr.read()}")
        self.port = int(match.group(1))
        self.url = f"http://127.0.0.1:{self.port}/"

    def request(self, method, path, body=None, headers=None):
        """(status, parsed JSON or text) of one request."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        text = response.read().decode()
        connection.close()
        kind = response.getheader("Content-Type", "")
        return response.status, json.loads(text) if kind.startswith("application/json") else text

    def get(self, path, **headers):
        return self.request("GET", path, headers=headers)

    def post(self, path, body, **headers):
        return self.request("POST", path, json.dumps(body),
                            {"Content-Type": "application/json", **headers})

    def stream(self, lab):
        return EventStream(self.port, lab)

    def stop(self):
        """Ctrl-C, as a user would: it must end cleanly and soon."""
        self.process.send_signal(signal.SIGINT)
        try:
            out, err = self.process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.communicate()
            raise AssertionError("netlab web did not stop within 10 s of SIGINT")
        return self.process.returncode, out, err


def link_path(lab, end, action):
    return f"/api/labs/{lab}/links/{urllib.parse.quote(end)}/{action}"


class EventStream:
    """GET /api/labs/LAB/events, read event by event."""

    def __init__(self, port, lab):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        self.connection.request("GET", f"/api/labs/{lab}/events")
        self.response = self.connection.getresponse()
        assert self.response.status == 200, self.response.read()
        assert self.response.getheader("Content-Type") == "text/event-stream"

    def next(self):
        """(name, data) of the next event; None when the stream has ended."""
        name, data = None, None
        while True:
            line = self.response.readline().decode()
            if not line:
                return None
            line = line.rstrip("\n")
            if line.startswith("event: "):
                name = line[len("event: "):]
            elif line.startswith("data: "):
                data = json.loads(line[len("data: "):])
            elif line == "" and name:
                return name, data

    def wait_for(self, predicate, timeout):
        """The first update for which predicate holds, and the seconds it took to come."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            event = self.next()
            if event is None:
                raise AssertionError("the stream ended")
            if event[0] == "update" and predicate(event[1]):
                return event[1], time.monotonic() - start
        raise AssertionError(f"no such update within {timeout} s")

    def close(self):
        self.connection.close()


def link_of(update, end):
    """The link of an update that has `end` ("node:interface") as either end."""
    for link in update["links"]:
        if end in (f"{link['a']['node']}:{link['a']['interface']}",
                   f"{link['b']['node']}:{link['b']['interface']}"):
            return link
    raise AssertionError(f"no link has the end {end}")
