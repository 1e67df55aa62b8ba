"""Isolation end to end (issue 7): what root inside a node cannot do to the host.

Run by tests/run_isolated.sh. "The host" here is the test's own namespaces; the machine-wide
objects (hostname, vm/kernel sysctls, kernel modules, block devices) are the real machine's, so
every probe that could change one if isolation failed is harmless by construction: it writes
the value already there, or stops after the step that must fail.
"""
import ctypes
import glob
import json
import os
import socket
import subprocess
import sys
import unittest

from test_labs import EXAMPLES, NAMESPACES, LabTest, netlab, snapshot, unique_lab

# Runs inside the node: joins the namespace open on stdin, and reports whether it could.
SETNS_PROBE = """
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
flag = {"net": 0x40000000, "uts": 0x04000000}[sys.argv[1]]
if libc.setns(0, flag) == 0:
    print("joined")  # and nothing more: the probe must not change what it joined
    sys.exit(3)
print(os.strerror(ctypes.get_errno()))
"""

# Loads no module whatever happens: an empty image is refused even with the right to load.
MODULE_PROBE = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.init_module.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_char_p]
# glibc wraps init_module only; finit_module by number, on the machines it is known for.
finit = {"x86_64": 313, "aarch64": 273}.get(os.uname().machine)
calls = [("init_module", lambda: libc.init_module(None, 0, b""))]
if finit:
    calls.append(("finit_module", lambda: libc.syscall(finit, 0, b"", 0)))
for name, call in calls:
    result = call()
    print(name, result, os.strerror(ctypes.get_errno()) if result else "loaded")
"""


# mount(2) itself, so the errno is the kernel's: a block device filesystem in a user namespace
# other than the machine's is refused before the device is even opened.
MOUNT_PROBE = """
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
MS_RDONLY = 1
for fstype in sys.argv[2:]:
    result = libc.mount(sys.argv[1].encode(), b"/tmp/mnt", fstype.encode(), MS_RDONLY, None)
    print(fstype, os.strerror(ctypes.get_errno()) if result else "mounted")
"""


# Host-wide sysfs files root may write, present on this machine: probes write back the value
# already there.
HOST_WIDE_SYSFS = [name for name in ("kernel/mm/ksm/run", "kernel/rcu_expedited",
                                     "kernel/profiling", "kernel/mm/transparent_hugepage/enabled")
                   if os.path.exists(f"/sys/{name}")]


def sysfs_value(name):
    with open(f"/sys/{name}") as current:
        value = current.read().strip()
    # "always [madvise] never" lists the choices, the chosen one in brackets.
    return value.split("[")[1].split("]")[0] if "[" in value else value


class Isolation(unittest.TestCase):
    """One lab for every probe; the host must look as before once it is down."""

    lab = None

    @classmethod
    def setUpClass(cls):
        cls.before = snapshot()
        cls.lab = unique_lab("jail")
        netlab("up", os.path.join(EXAMPLES, "lan.json"), "--lab", cls.lab)
        # Every probe below relies on the node having namespaces of its own: check first, so
        # no probe ever runs in the host's.
        host = {ns: os.readlink(f"/proc/self/ns/{ns}") for ns in NAMESPACES}
        inside = cls.run_in("h1", "readlink", *[f"/proc/self/ns/{ns}" for ns in NAMESPACES])
        shared = [ns for ns, link in zip(NAMESPACES, inside.stdout.split()) if host[ns] == link]
        if shared or inside.returncode != 0:
            netlab("down", cls.lab)
            raise AssertionError(f"h1 shares the host's namespaces {shared}: {inside.stderr}")

    @classmethod
    def tearDownClass(cls):
        netlab("down", cls.lab)
        after = snapshot()
        if after != cls.before:
            raise AssertionError(f"down left something behind: {cls.before} -> {after}")

    @classmethod
    def run_in(cls, node, *command, stdin=None):
        return subprocess.run([os.environ["NETLAB"], "exec", "--lab", cls.lab, node, "--",
                               *command], stdin=stdin, capture_output=True, text=True,
                              timeout=60)

    def shell(self, script, node="h1", stdin=None):
        return self.run_in(node, "sh", "-c", script, stdin=stdin)

    def node_links(self, node="h1"):
        return {link["ifname"] for link in json.loads(self.run_in(node, "ip", "-j", "link").stdout)}

    def test_host_processes_are_invisible(self):
        marker = unique_lab("host-process-marker")
        host_sleep = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", marker])
        self.addCleanup(host_sleep.wait)
        self.addCleanup(host_sleep.kill)
        processes = self.run_in("h1", "ps", "-e", "-o", "pid=,comm=").stdout.split("\n")
        self.assertEqual(sorted(line.split()[1] for line in processes if line.strip()),
                         ["netlab-init", "ps"])
        everything = self.shell("cat /proc/[0-9]*/cmdline | tr '\\0' ' '").stdout
        self.assertNotIn(marker, everything)
        self.assertNotIn("time.sleep", everything)
        # The host's pid means nothing inside, or another process: never the sleeper.
        self.assertNotIn(marker, self.shell(f"cat /proc/{host_sleep.pid}/cmdline 2>&1").stdout)
        killed = self.shell(f"kill -9 {host_sleep.pid}")
        self.assertNotEqual(killed.returncode, 0)
        self.assertIsNone(host_sleep.poll(), "a node killed a host process")

    def test_an_interface_cannot_move_to_the_host_network_namespace(self):
        host_links = snapshot()["links"]
        # PID 1 inside is the node's own init: the move, if accepted, goes nowhere.
        self.shell("ip link set eth0 netns 1")
        self.assertIn("eth0", self.node_links())
        # Even handed the host's namespace itself (a fd on stdin), node root may not use it.
        with open("/proc/self/ns/net") as host_netns:
            moved = self.shell("ip link set eth0 netns /proc/self/fd/0", stdin=host_netns)
        self.assertNotEqual(moved.returncode, 0)
        self.assertIn("Operation not permitted", moved.stderr)
        with open("/proc/self/ns/net") as host_netns:
            joined = self.run_in("h1", "python3", "-c", SETNS_PROBE, "net", stdin=host_netns)
        self.assertEqual(joined.stdout.strip(), "Operation not permitted")
        self.assertIn("eth0", self.node_links())
        self.assertEqual(snapshot()["links"], host_links)
        self.assertEqual(self.run_in("h1", "ping", "-c1", "-W2", "-q", "172.16.1.1").returncode, 0)

    def test_hostname_changes_stay_in_the_node(self):
        host_name = socket.gethostname()
        changed = self.shell("hostname changed-inside && hostname")
        self.assertEqual(changed.stdout, "changed-inside\n", changed.stderr)
        self.addCleanup(self.run_in, "h1", "hostname", "h1")
        self.assertEqual(socket.gethostname(), host_name)
        self.assertEqual(self.run_in("h2", "hostname").stdout, "h2\n")
        with open("/proc/self/ns/uts") as host_uts:
            joined = self.run_in("h1", "python3", "-c", SETNS_PROBE, "uts", stdin=host_uts)
        self.assertEqual(joined.stdout.strip(), "Operation not permitted")
        self.assertEqual(socket.gethostname(), host_name)

    def test_host_wide_sysctls_are_read_only(self):
        names = ("kernel/domainname", "kernel/pid_max", "kernel/sysrq", "vm/swappiness",
                 "fs/file-max")
        present = [name for name in names if os.path.exists(f"/proc/sys/{name}")]
        self.assertGreaterEqual(len(present), 3)
        for name in present:
            with self.subTest(sysctl=name):
                with open(f"/proc/sys/{name}") as current:
                    value = current.read().strip()
                # The value already there: harmless even if the write went through.
                wrote = self.shell(f"echo '{value}' > /proc/sys/{name}")
                self.assertNotEqual(wrote.returncode, 0, f"{name} was writable")
                self.assertIn("Read-only file system", wrote.stderr)
        # The node's own network sysctls stay writable.
        self.assertEqual(self.shell("echo 1 > /proc/sys/net/ipv4/ip_forward").returncode, 0)

    def test_host_wide_sysfs_is_read_only(self):
        self.assertTrue(HOST_WIDE_SYSFS, "none of the probed sysfs files exists here")
        for name in HOST_WIDE_SYSFS:
            with self.subTest(file=name):
                wrote = self.shell(f"echo '{sysfs_value(name)}' > /sys/{name}")
                self.assertNotEqual(wrote.returncode, 0, f"/sys/{name} was writable")
                self.assertIn("Read-only file system", wrote.stderr)

    def test_read_only_mounts_keep_nosuid_nodev_noexec(self):
        # The last mount on each target is the one the node sees.
        options = {}
        for line in self.run_in("h1", "cat", "/proc/self/mountinfo").stdout.splitlines():
            fields = line.split()
            options[fields[4]] = set(fields[5].split(","))
        for target in ("/proc", "/proc/sys", "/proc/sys/net", "/sys"):
            with self.subTest(mount=target):
                self.assertLessEqual({"nosuid", "nodev", "noexec"}, options[target])
        self.assertIn("ro", options["/proc/sys"])
        self.assertIn("ro", options["/sys"])
        self.assertIn("rw", options["/proc/sys/net"])

    # The node's mounts are copies made into its own user namespace, which the kernel locks: node
    # root cannot undo the read-only /proc/sys and /sys, and may not mount a proc or sysfs that
    # shows more than they do.
    def test_host_wide_settings_stay_out_of_reach_through_new_mounts(self):
        with open("/proc/sys/vm/swappiness") as current:
            swappiness = current.read().strip()
        sysfs = HOST_WIDE_SYSFS[0]
        proc_target = ("/proc/sys/vm/swappiness", swappiness)
        sys_target = (f"/sys/{sysfs}", sysfs_value(sysfs))
        # how: (what node root tries, a host-wide file it could then write, the value there)
        tries = {
            "remount /proc/sys": ("mount -o remount,rw /proc/sys", *proc_target),
            "umount /proc/sys": ("umount /proc/sys", *proc_target),
            "lazy umount /proc/sys": ("umount -l /proc/sys", *proc_target),
            "new proc": ("mkdir -p /tmp/p && mount -t proc proc /tmp/p",
                         "/tmp/p/sys/vm/swappiness", swappiness),
            "bind /proc without its children": ("mkdir -p /tmp/b && mount --bind /proc /tmp/b",
                                                "/tmp/b/sys/vm/swappiness", swappiness),
            "remount /sys": ("mount -o remount,rw /sys", *sys_target),
            "umount /sys": ("umount /sys", *sys_target),
            "new sysfs": ("mkdir -p /tmp/s && mount -t sysfs sysfs /tmp/s",
                          f"/tmp/s/{sysfs}", sys_target[1]),
        }
        for how, (script, target, value) in tries.items():
            with self.subTest(how=how):
                tried = self.shell(script)
                # A new sysfs shares the node's read-only superblock where the kernel allows
                # the mount (Debian's 6.1 does): it is the write below that must fail.
                if how != "new sysfs":
                    self.assertNotEqual(tried.returncode, 0, f"`{script}` worked inside the node")
                # Had the mount gone through, this would write back the value already there.
                wrote = self.shell(f"echo '{value}' > {target}")
                self.assertNotEqual(wrote.returncode, 0, f"{target} was writable after `{script}`")
        # Nor in a mount namespace of its own, which copies the locks along.
        nested = self.shell("unshare -m sh -c 'mount -o remount,rw /proc/sys'")
        self.assertNotEqual(nested.returncode, 0, "a nested mount namespace unlocked /proc/sys")

    def test_node_root_still_mounts_and_makes_namespaces_of_its_own(self):
        """Locked mounts take nothing a lab needs: a tmpfs of its own, `ip netns`, hostname."""
        own = self.shell("mkdir -p /tmp/own && mount -t tmpfs own /tmp/own && touch /tmp/own/x && "
                         "umount /tmp/own && echo mounted")
        self.assertEqual(own.stdout, "mounted\n", own.stderr)
        inner = self.shell("ip netns add inner && ip netns exec inner ip -br link; "
                           "status=$?; ip netns del inner; exit $status")
        self.assertEqual(inner.returncode, 0, inner.stderr)
        self.assertRegex(inner.stdout, r"^lo\s")

    def test_kernel_modules_cannot_be_loaded(self):
        probe = self.run_in("h1", "python3", "-c", MODULE_PROBE)
        lines = probe.stdout.splitlines()
        self.assertTrue(lines, probe.stderr)
        if not os.path.exists("/proc/modules"):
            # A kernel built without modules refuses everyone alike: nothing more to prove.
            self.assertEqual(lines[0], "init_module -1 Function not implemented")
            self.skipTest("this kernel has no module support (init_module: ENOSYS for all)")
        # EPERM, not ENOENT or ENOEXEC: refused for want of the right, before the image is read.
        self.assertEqual(lines[0], "init_module -1 Operation not permitted", probe.stderr)
        for line in lines[1:]:
            self.assertEqual(line, "finit_module -1 Operation not permitted")

    def test_a_host_block_device_cannot_be_mounted(self):
        devices = sorted(name for name in os.listdir("/sys/block")
                         if os.path.exists(f"/dev/{name}") and not name.startswith(("loop", "zram")))
        devices = devices or sorted(name for name in os.listdir("/sys/block")
                                    if os.path.exists(f"/dev/{name}"))
        if not devices:
            self.skipTest("no block device in /dev")
        device = devices[0]
        with open(f"/sys/block/{device}/dev") as numbers:
            major, minor = numbers.read().strip().split(":")
        self.assertEqual(self.shell("mkdir -p /tmp/mnt").returncode, 0)
        mounted = self.run_in("h1", "mount", "-o", "ro", f"/dev/{device}", "/tmp/mnt")
        self.assertNotEqual(mounted.returncode, 0, f"node root mounted /dev/{device}")
        # Only filesystems the kernel has already: naming another would make it load a module.
        with open("/proc/filesystems") as registered:
            on_devices = [line.split()[0] for line in registered if not line.startswith("nodev")]
        probe = self.run_in("h1", "python3", "-c", MOUNT_PROBE, f"/dev/{device}", *on_devices)
        self.assertTrue(on_devices)
        self.assertEqual(probe.stdout.splitlines(),
                         [f"{fs} Operation not permitted" for fs in on_devices], probe.stderr)
        # Nor can it make a device node of its own to mount.
        made = self.run_in("h1", "mknod", "/tmp/disk", "b", major, minor)
        self.assertNotEqual(made.returncode, 0)
        self.assertIn("Operation not permitted", made.stderr)
        self.assertNotIn("/tmp/mnt", self.run_in("h1", "cat", "/proc/self/mountinfo").stdout)


if __name__ == "__main__":
    unittest.main()


def read_text(path):
    with open(path) as file:
        return file.read().strip()


class HostWideProc(LabTest):
    """Issue 14: the host-wide files of /proc that container runtimes protect, in a node of each
    user-namespace mode; and each node's /etc/hosts its own."""

    READ_ONLY = ["/proc/irq/default_smp_affinity", "/proc/sysrq-trigger"]
    MASKED = ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug"]

    def test_host_wide_proc_files_are_read_only_or_masked_in_both_modes(self):
        lab = unique_lab("proc")
        topology = self.write_topology({"nodes": {"h": {}, "i": {"userns": "isolated"}},
                                        "links": [["h", "i"]]})
        self.bring_up(topology, lab)
        present = [path for path in self.READ_ONLY if os.path.exists(path)]
        self.assertIn("/proc/irq/default_smp_affinity", present)
        for node in ("h", "i"):
            for path in present:
                with self.subTest(node=node, path=path):
                    # Writes back what is there (or, for sysrq-trigger, a no-op key): harmless
                    # even if isolation failed.
                    value = "h" if path.endswith("sysrq-trigger") else read_text(path)
                    wrote = self.exec(lab, node, "sh", "-c", f"echo '{value}' > {path}",
                                      check=False)
                    self.assertNotEqual(wrote.returncode, 0, f"{path} was writable in {node}")
            irq = self.exec(lab, node, "sh", "-c",
                            "for f in /proc/irq/*/smp_affinity; do cat $f > $f && echo $f; done",
                            check=False)
            self.assertEqual(irq.stdout.strip(), "", f"an irq affinity was writable in {node}")
            for path in self.MASKED:
                if not os.path.exists(path):
                    continue
                with self.subTest(node=node, path=path):
                    shown = self.exec(lab, node, "sh", "-c", f"wc -c < {path}", check=False)
                    self.assertEqual(shown.stdout.strip() or "0", "0", f"{path} shows the host's")
            mounted = self.exec(lab, node, "sh", "-c",
                                "mkdir -p /tmp/cg && mount -t tmpfs none /tmp/cg && echo ok",
                                check=False)
            self.assertIn("ok", mounted.stdout, "masking took node root's own mounts away")

    def test_each_node_has_its_own_etc_hosts(self):
        lab = unique_lab("hosts")
        self.bring_up(os.path.join(EXAMPLES, "lan.json"), lab)
        self.exec(lab, "h1", "sh", "-c", "echo '10.99.99.99 planted' >> /etc/hosts")
        self.assertIn("planted", self.exec(lab, "h1", "cat", "/etc/hosts").stdout)
        self.assertNotIn("planted", self.exec(lab, "h2", "cat", "/etc/hosts").stdout)
        self.assertIn("h2", self.exec(lab, "h2", "cat", "/etc/hosts").stdout)

    def test_each_node_has_cgroups_of_its_own_with_a_task_limit(self):
        lab = unique_lab("cg")
        topology = self.write_topology({"nodes": {"h": {}, "i": {"userns": "isolated"}},
                                        "links": [["h", "i"]]})
        before = snapshot()
        up = netlab("up", topology, "--lab", lab, "--pids-limit", "30")
        self.addCleanup(self.take_down, lab, before)
        self.assertRegex(up.stdout, r"each node may have 30 tasks \(cgroup v[12] pids controller\)")
        for node in ("h", "i"):
            with self.subTest(node=node):
                # Its own cgroups: the root of its cgroup namespace in every hierarchy.
                own = self.exec(lab, node, "cat", "/proc/self/cgroup").stdout.split()
                self.assertTrue(own and all(line.endswith(":/") for line in own), own)
                # A cgroup filesystem mounted inside shows only the node's subtree.
                probe = ("mkdir -p /tmp/cg && mount -t cgroup2 none /tmp/cg && "
                         "mkdir /tmp/cg/probe-$$ && echo made")
                made = self.exec(lab, node, "sh", "-c", probe, check=False)
                if "made" in made.stdout:
                    self.assertFalse([p for p in glob.glob("/sys/fs/cgroup/**/probe-*",
                                                           recursive=False)])
                # A fork bomb stops at the limit: the kernel counts the forks it refused.
                self.exec(lab, node, "sh", "-c", "for i in $(seq 80); do sleep 1 & done; wait",
                          check=False)
                # v1's pids hierarchy (/sys/fs/cgroup/pids/...) or v2's (/sys/fs/cgroup/...).
                events = glob.glob(f"/sys/fs/cgroup/**/netlab-{lab}/{node}/pids.events",
                                   recursive=True)
                self.assertEqual(len(events), 1, events)
                with open(events[0]) as counted:
                    self.assertNotEqual(counted.read().split(), ["max", "0"])
        host_root = [p for p in os.listdir("/sys/fs/cgroup/unified")
                     if p.startswith("probe-")] if os.path.isdir("/sys/fs/cgroup/unified") else []
        self.assertEqual(host_root, [], "a node made a cgroup at the host's root")

