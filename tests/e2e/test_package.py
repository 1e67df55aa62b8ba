"""netlab installed (issue 22): `cmake --install` under a relocated prefix, and the Debian
package built by CPack, installed on this machine with apt, used, and purged, leaving nothing.

Run by tests/run_isolated.sh inside private namespaces, as root. The package test changes the
machine's package database for its duration only; it is skipped (77) when a netlab package is
installed already (it would replace it), or without cpack or apt.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from test_labs import unique_lab

BUILD = os.environ["NETLAB_BUILD_DIR"]
NETLAB = os.environ["NETLAB"]
EXAMPLES = os.environ["NETLAB_EXAMPLES"]


def run(*args, check=True, env=None, timeout=600):
    result = subprocess.run(list(args), capture_output=True, text=True, env=env, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {result.returncode}:\n"
                             f"{result.stdout}\n{result.stderr}")
    return result


def node_programs(netlab, lab):
    """The programs each node's PID 1 runs, read from the kernel."""
    status = json.loads(run(netlab, "status", lab, "--format", "json").stdout)
    return {node["name"]: os.readlink(f"/proc/{node['pid']}/exe") for node in status["nodes"]}


def demo(case, netlab, examples, helpers):
    """The README's first commands with an installed netlab: up, a ping across, down."""
    lab = unique_lab("package")
    run(netlab, "validate", os.path.join(examples, "lan.json"))
    run(netlab, "up", os.path.join(examples, "lan.json"), "--lab", lab)
    try:
        for node, program in node_programs(netlab, lab).items():
            case.assertEqual(program, os.path.join(helpers, "netlab-init"), node)
        run(netlab, "exec", "--lab", lab, "h1", "--", "ping", "-c", "1", "-W", "5", "h4")
    finally:
        run(netlab, "down", lab)


def package_test_impossible():
    """Why the package cannot be tried here, or None."""
    for program in ["cpack", "apt-get", "dpkg-deb", "dpkg-shlibdeps", "man"]:
        if not shutil.which(program):
            return f"no {program} here"
    if run("dpkg-query", "-W", "-f=${Status}", "netlab", check=False).stdout.startswith(
            "install ok"):
        return "a netlab package is installed here already; the test would replace it"
    return None


class RelocatedInstall(unittest.TestCase):
    """`cmake --install --prefix DIR`: netlab finds its helpers relative to itself."""

    def test_install_prefix(self):
        prefix = tempfile.mkdtemp(prefix="netlab-prefix-")
        try:
            run("cmake", "--install", BUILD, "--prefix", prefix)
            netlab = os.path.join(prefix, "bin", "netlab")
            helpers = os.path.join(prefix, "libexec", "netlab")
            for path in ["bin/netlab", "libexec/netlab/netlab-init", "libexec/netlab/netlab-web",
                         "libexec/netlab/netlab-image", "libexec/netlab/netlab-capture",
                         "share/man/man1/netlab.1", "share/man/man1/netlab-up.1",
                         "share/man/man5/netlab-topology.5",
                         "share/bash-completion/completions/netlab",
                         "share/zsh/vendor-completions/_netlab",
                         "share/netlab/topology.schema.json", "share/netlab/examples/lan.json"]:
                self.assertTrue(os.path.exists(os.path.join(prefix, path)), path)
            self.assertEqual(run("man", "-M", os.path.join(prefix, "share", "man"), "-w",
                                 "netlab-up").stdout.strip(),
                             os.path.join(prefix, "share/man/man1/netlab-up.1"))
            # --help names the documentation where this install put it, and the build's
            # netlab names the repository's.
            docs = os.path.join(prefix, "share", "doc", "netlab")
            self.assertIn(f"Documentation in {docs}: topology.md", run(netlab, "--help").stdout)
            self.assertTrue(os.path.exists(os.path.join(docs, "apply.md")))
            repository = os.path.dirname(os.path.abspath(EXAMPLES))
            self.assertIn(f"Documentation in {repository}/docs: topology.md",
                          run(NETLAB, "--help").stdout)
            demo(self, netlab, os.path.join(prefix, "share", "netlab", "examples"), helpers)
        finally:
            shutil.rmtree(prefix)


class DebianPackage(unittest.TestCase):
    """cpack -G DEB; apt install ./netlab_*.deb; use it; apt purge; nothing left."""

    @classmethod
    def setUpClass(cls):
        reason = package_test_impossible()
        if reason:
            raise unittest.SkipTest(reason)
        cls.output = tempfile.mkdtemp(prefix="netlab-deb-")
        run("cpack", "-G", "DEB", "-B", cls.output, "--config",
            os.path.join(BUILD, "CPackConfig.cmake"))
        debs = [name for name in os.listdir(cls.output) if name.endswith(".deb")]
        assert len(debs) == 1, debs
        cls.deb = os.path.join(cls.output, debs[0])

    @classmethod
    def tearDownClass(cls):
        if run("dpkg-query", "-W", "-f=${Status}", "netlab", check=False).stdout.startswith(
                "install ok"):
            run("apt-get", "purge", "-y", "-q", "netlab", env=cls.apt_env())
        shutil.rmtree(cls.output)

    @staticmethod
    def apt_env():
        return dict(os.environ, DEBIAN_FRONTEND="noninteractive")

    def field(self, name):
        return run("dpkg-deb", "-f", self.deb, name).stdout.strip()

    def test_control(self):
        version = run(NETLAB, "--version").stdout.split()[-1]
        self.assertEqual(self.field("Package"), "netlab")
        self.assertEqual(self.field("Version"), version)
        self.assertEqual(os.path.basename(self.deb),
                         f"netlab_{version}_{run('dpkg', '--print-architecture').stdout.strip()}.deb")
        depends = self.field("Depends")
        for library in ["libmnl0", "libpcap0.8", "libarchive13", "libssl3", "libc6"]:
            self.assertIn(library, depends)
        suggests = [word.strip() for word in self.field("Suggests").split(",")]
        for package in ["iproute2", "frr", "bird2", "iperf3", "tshark"]:
            self.assertIn(package, suggests)

    def test_install_use_purge(self):
        files = [line.split(None, 5)[5].lstrip(".") for line in
                 run("dpkg-deb", "-c", self.deb).stdout.splitlines() if not line.startswith("d")]
        run("apt-get", "install", "-y", "-q", "--no-install-recommends", self.deb,
            env=self.apt_env())
        try:
            self.assertEqual(shutil.which("netlab"), "/usr/bin/netlab")
            self.assertIn(run("man", "-w", "netlab-up").stdout.strip(),
                          ["/usr/share/man/man1/netlab-up.1", "/usr/share/man/man1/netlab-up.1.gz"])
            run("man", "-w", "5", "netlab-topology")
            doctor = run("netlab", "doctor", check=False)
            self.assertEqual(doctor.returncode, 0, doctor.stdout + doctor.stderr)
            demo(self, "/usr/bin/netlab", "/usr/share/netlab/examples", "/usr/libexec/netlab")
        finally:
            run("apt-get", "purge", "-y", "-q", "netlab", env=self.apt_env())
        left = [path for path in files if os.path.lexists(path)]
        self.assertEqual(left, [], "files of the package left after purge")
        self.assertFalse(os.path.exists("/usr/libexec/netlab"))
        self.assertFalse(os.path.exists("/usr/share/netlab"))
        self.assertNotEqual(run("dpkg-query", "-W", "-f=${Status}", "netlab",
                                check=False).stdout.strip(), "install ok installed")


if __name__ == "__main__":
    # Run as a program: the package test, skipped as a whole (77) with its reason.
    why = package_test_impossible()
    if why:
        print(f"SKIPPED: {why}")
        sys.exit(77)
    unittest.main(defaultTest="DebianPackage")
