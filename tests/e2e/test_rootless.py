"""End-to-end tests of issue 19: netlab run by an ordinary user (docs/rootless.md).

Run by tests/run_isolated.sh as root inside private namespaces; each test runs netlab as a
throwaway user: a uid no account and no process has, with its gid and no supplementary groups
(subprocess's user/group/extra_groups, no entry in /etc/passwd to add or remove). Its runtime
directory is made on the private /run. Whatever happens, every process of that uid is killed,
by pid, and its directory removed. Every assertion is on real state: the nodes' processes, their
owner and user namespaces, pings between them, and after `down`, no process and no state left.
"""
import json
import os
import pwd
import shutil
import signal
import subprocess
import time
import unittest

from test_labs import EXAMPLES, NETLAB, live_inits, unique_lab


def unused_id():
    """A uid (and gid) no account names and no process runs as."""
    taken = {entry.pw_uid for entry in pwd.getpwall()}
    for candidate in range(200000 + os.getpid() % 1000 * 100, 300000):
        if candidate not in taken and not processes_of(candidate):
            return candidate
    raise AssertionError("no free uid between 200000 and 300000")


def processes_of(uid):
    """Pids of the processes whose real uid is uid (zombies included)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as status:
                for line in status:
                    if line.startswith("Uid:"):
                        if int(line.split()[1]) == uid:
                            pids.append(int(entry))
                        break
        except OSError:
            continue
    return pids


class RootlessLab(unittest.TestCase):
    def setUp(self):
        self.uid = unused_id()
        self.runtime = f"/run/user/{self.uid}"
        os.makedirs(self.runtime, mode=0o700)
        os.chown(self.runtime, self.uid, self.uid)
        self.addCleanup(self.remove_user_traces)

    def remove_user_traces(self):
        """Kills every process of the throwaway uid (each by its pid), then its directory."""
        for _ in range(50):
            pids = processes_of(self.uid)
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.1)
        shutil.rmtree(self.runtime, ignore_errors=True)

    def as_user(self, *args, check=True):
        environment = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
                       "XDG_RUNTIME_DIR": self.runtime, "HOME": "/"}
        result = subprocess.run([NETLAB, *args], capture_output=True, text=True, timeout=300,
                                user=self.uid, group=self.uid, extra_groups=[],
                                env=environment, cwd="/")
        if check and result.returncode != 0:
            raise AssertionError(f"netlab {' '.join(args)} as uid {self.uid} exited "
                                 f"{result.returncode}:\n{result.stdout}\n{result.stderr}")
        return result

    def test_up_exec_status_down_as_an_ordinary_user(self):
        lab = unique_lab("rootless")
        inits_before = live_inits()
        up = self.as_user("up", os.path.join(EXAMPLES, "lan.json"), "--lab", lab)
        self.assertIn(f"lab `{lab}` is up: 7 nodes", up.stdout)
        state_directory = os.path.join(self.runtime, "netlab", lab)
        info = os.lstat(state_directory)
        self.assertEqual((info.st_uid, info.st_mode & 0o777), (self.uid, 0o700))
        self.assertFalse(os.path.exists(os.path.join("/run/netlab", lab)))

        status = json.loads(self.as_user("status", lab, "--format", "json").stdout)
        nodes = {node["name"]: node for node in status["nodes"]}
        self.assertEqual(sorted(nodes), ["h1", "h2", "h3", "h4", "lan0", "r1", "r2"])
        for name, node in nodes.items():
            self.assertEqual(node["state"], "running", name)
            pid = node["pid"]
            self.assertIn(pid, live_inits() - inits_before)
            self.assertEqual(os.stat(f"/proc/{pid}").st_uid, self.uid, name)
            # Seen from the host, node root is the user and nothing else.
            with open(f"/proc/{pid}/uid_map") as uid_map:
                self.assertEqual(uid_map.read().split(), ["0", str(self.uid), "1"], name)
            self.assertNotEqual(os.readlink(f"/proc/{pid}/ns/user"), os.readlink("/proc/self/ns/user"))
        self.assertEqual({i["oper_state"] for i in nodes["r1"]["interfaces"] if i["name"] != "lo"},
                         {"up"})

        # Across the router pair: h1's LAN, r1, r2, h4's LAN.
        ping = self.as_user("exec", "--lab", lab, "h1", "--", "ping", "-c", "1", "-W", "5", "h4")
        self.assertIn("1 received", ping.stdout)
        hostname = self.as_user("exec", "--lab", lab, "h4", "--", "hostname")
        self.assertEqual(hostname.stdout.strip(), "h4")
        identity = self.as_user("exec", "--lab", lab, "r1", "--", "id", "-u")
        self.assertEqual(identity.stdout.strip(), "0")
        self.as_user("test", lab)

        refused = self.as_user("ls", check=False)
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn("does not work without root yet", refused.stderr)
        self.assertNotIn("internal error", refused.stderr)

        down = self.as_user("down", lab)
        self.assertIn(f"lab `{lab}` is down: 7 nodes stopped", down.stdout)
        self.assertEqual(processes_of(self.uid), [])
        self.assertEqual(live_inits() - inits_before, set())
        self.assertFalse(os.path.exists(state_directory))
        self.assertIn("not running", self.as_user("down", lab).stdout)

    def test_another_users_lab_is_not_theirs(self):
        lab = unique_lab("rootless")
        self.as_user("up", os.path.join(EXAMPLES, "lan.json"), "--lab", lab, "-q")
        self.addCleanup(self.as_user, "down", lab, check=False)
        # Root's own labs are elsewhere: root does not see the user's.
        self.assertNotIn(lab, os.listdir("/run/netlab") if os.path.isdir("/run/netlab") else [])
        other = RootlessLab.__new__(RootlessLab)
        other.uid = self.uid + 1
        other.runtime = self.runtime  # the user's directory: another user cannot even look in
        blocked = other.as_user("status", lab, check=False)
        self.assertNotEqual(blocked.returncode, 0)
        self.assertNotIn("internal error", blocked.stderr)
        self.assertEqual(processes_of(self.uid + 1), [])


if __name__ == "__main__":
    unittest.main()
