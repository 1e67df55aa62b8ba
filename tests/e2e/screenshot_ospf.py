"""The screenshot of docs/web.md: examples/ospf in netlab web's page, with the link r1:eth1
(r1-r5) down, pings crossing the ring and r1's routes (read live, OSPF's included) on show.
Not a test; run as root inside private namespaces from the source tree:

    NETLAB=build/tools/netlab NETLAB_EXAMPLES=examples \
        tests/run_isolated.sh python3 tests/e2e/screenshot_ospf.py docs/web-ospf.png
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from browser_support import Browser  # noqa: E402
from test_labs import EXAMPLES, NETLAB, netlab  # noqa: E402
from web_support import WebServer  # noqa: E402


def main(output):
    netlab("up", os.path.join(EXAMPLES, "ospf", "topo.json"), "-q")
    server = browser = ping = None
    try:
        netlab("test", "ospf")  # OSPF has converged
        ping = subprocess.Popen([NETLAB, "exec", "--lab", "ospf", "h1", "--", "ping", "-q",
                                 "-i", "0.05", "172.16.4.1"], stdout=subprocess.DEVNULL)
        server = WebServer()
        browser = Browser()
        browser.open(server.url)
        browser.wait_for("document.querySelector('.lab')?.dataset.updated", 15)
        netlab("link", "down", "--lab", "ospf", "r1:eth1")
        time.sleep(8)  # OSPF notices and reroutes through r2 and r3
        browser.evaluate("document.querySelector('.node[data-node=\"r1\"]')"
                         ".dispatchEvent(new MouseEvent('click'))")
        browser.wait_for("document.querySelector('#details')?.textContent.includes('ospf')", 5)
        time.sleep(1.5)
        browser.screenshot(output)
        print(f"wrote {output}")
    finally:
        if ping:
            ping.kill()
            ping.wait()
        if browser:
            browser.close()
        if server:
            server.stop()
        netlab("down", "ospf")


if __name__ == "__main__":
    main(sys.argv[1])
