"""End-to-end tests of a node's root filesystem (docs/topology.md#root-filesystems): by default an
overlay of the node's own over the host's root, which the node changes freely while the host and
its neighbours see nothing of it; `"root": "host"`; and an image directory as the lower layer
(a busybox root made by the test) beside a node over the host's root."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from unittest import mock

from test_image import oci_archive
from test_labs import LabTest, netlab, unique_lab

BUSYBOX = "/bin/busybox"  # Debian's busybox-static: one static binary, a whole userland


def host_directory(test):
    """A directory of the test's on the host's root filesystem (not on a tmpfs of its own), so
    a node sees it through its overlay's lower layer."""
    directory = tempfile.mkdtemp(prefix="netlab-roots-", dir="/var/tmp")
    test.addCleanup(shutil.rmtree, directory, ignore_errors=True)
    return directory


class OverlayRoot(LabTest):
    def up_pair(self, h2_settings=None):
        lab = unique_lab("roots")
        topology = {"nodes": {"h1": {}, "h2": h2_settings or {}}, "links": [["h1", "h2"]]}
        self.bring_up(self.write_topology(topology), lab)
        return lab

    def test_a_node_writes_deletes_and_installs_while_the_host_and_its_neighbour_see_nothing(self):
        directory = host_directory(self)
        kept = os.path.join(directory, "kept")
        with open(kept, "w") as file:
            file.write("the host's\n")
        installed = f"/usr/local/bin/{os.path.basename(directory)}"
        lab = self.up_pair()
        self.exec(lab, "h1", "sh", "-c", f"echo edited >> {kept}; rm {kept}.missing 2>/dev/null;"
                  f" mkdir -p {directory}/new && echo new > {directory}/new/file")
        self.exec(lab, "h1", "sh", "-c",
                  f"printf '#!/bin/sh\\necho installed\\n' > {installed} && chmod 755 {installed}")
        self.assertEqual(self.exec(lab, "h1", os.path.basename(installed)).stdout, "installed\n")
        self.assertEqual(self.exec(lab, "h1", "cat", kept).stdout, "the host's\nedited\n")
        self.exec(lab, "h1", "rm", kept)
        self.assertNotEqual(self.exec(lab, "h1", "test", "-e", kept, check=False).returncode, 0)
        # The host and h2 still see the host's file, unchanged, and nothing of h1's.
        with open(kept) as file:
            self.assertEqual(file.read(), "the host's\n")
        self.assertEqual(self.exec(lab, "h2", "cat", kept).stdout, "the host's\n")
        for path in [installed, f"{directory}/new"]:
            self.assertFalse(os.path.exists(path), f"{path} of h1 reached the host")
            self.assertNotEqual(self.exec(lab, "h2", "test", "-e", path, check=False).returncode,
                                0, f"{path} of h1 reached h2")
        mounts = self.exec(lab, "h1", "cat", "/proc/self/mountinfo").stdout
        self.assertEqual(mounts.splitlines()[0].split(" - ")[1].split()[0], "overlay")

    def test_the_hosts_other_filesystems_are_seen_read_only(self):
        # A filesystem mounted below the host's root (a separate /home, say): the overlay shows
        # the root filesystem alone, so netlab binds it in, read-only.
        directory = host_directory(self)
        subprocess.run(["mount", "-t", "tmpfs", "netlab-roots", directory], check=True)
        self.addCleanup(subprocess.run, ["umount", directory])
        with open(os.path.join(directory, "file"), "w") as file:
            file.write("on its own filesystem\n")
        lab = self.up_pair()
        self.assertEqual(self.exec(lab, "h1", "cat", f"{directory}/file").stdout,
                         "on its own filesystem\n")
        write = self.exec(lab, "h1", "touch", f"{directory}/new", check=False)
        self.assertNotEqual(write.returncode, 0)
        self.assertIn("Read-only", write.stderr)

    def test_a_restarted_node_starts_from_the_lower_layer_again(self):
        lab = self.up_pair()
        self.exec(lab, "h1", "sh", "-c", "echo gone > /etc/netlab-restart-test")
        netlab("node", "restart", "--lab", lab, "h1")
        self.assertNotEqual(
            self.exec(lab, "h1", "test", "-e", "/etc/netlab-restart-test", check=False).returncode,
            0, "the node's layer outlived its restart")

    def test_targets_missing_on_the_host_are_made_in_the_nodes_layer(self):
        """A mount and a file whose targets the host lacks: `up` makes them in the node's own
        layer (validate lets them pass), and the host never gets them."""
        directory = host_directory(self)
        mount_target, file_target = f"{directory}-mount", f"{directory}-file/x"
        lab = self.up_pair({"mounts": [f"{directory}:{mount_target}"],
                            "files": {file_target: "made\n"}})
        self.assertEqual(self.exec(lab, "h2", "cat", file_target).stdout, "made\n")
        self.exec(lab, "h2", "test", "-d", mount_target)
        for path in (mount_target, os.path.dirname(file_target)):
            self.assertFalse(os.path.exists(path), f"{path} made on the host")

    def test_root_host_shares_the_hosts_root(self):
        directory = host_directory(self)
        lab = self.up_pair({"root": "host"})
        self.exec(lab, "h2", "sh", "-c", f"echo from h2 > {directory}/shared")
        with open(os.path.join(directory, "shared")) as file:
            self.assertEqual(file.read(), "from h2\n")
        self.assertEqual(self.exec(lab, "h1", "cat", f"{directory}/shared").stdout, "from h2\n")
        status = json.loads(netlab("plan", "--lab", lab, "--format", "json",
                                   self.write_topology({"nodes": {"h1": {}, "h2": {"root": "host"}},
                                                        "links": [["h1", "h2"]]})).stdout)
        self.assertEqual([node["root"] for node in status["nodes"]], ["overlay", "host"])


def busybox_root(test):
    """A root filesystem of busybox alone: /bin/busybox and a link to it per command used."""
    root = tempfile.mkdtemp(prefix="netlab-busybox-")
    test.addCleanup(shutil.rmtree, root, ignore_errors=True)
    os.makedirs(os.path.join(root, "bin"))
    shutil.copy(BUSYBOX, os.path.join(root, "bin", "busybox"))
    for command in ["sh", "cat", "ls", "ping", "ip", "hostname", "echo", "touch", "rm", "uname"]:
        os.symlink("busybox", os.path.join(root, "bin", command))
    os.makedirs(os.path.join(root, "etc"))
    with open(os.path.join(root, "etc", "os-release"), "w") as file:
        file.write("NAME=busybox-by-the-test\n")
    return root


@unittest.skipUnless(os.path.exists(BUSYBOX), f"{BUSYBOX} is missing (Debian's busybox-static)")
class ImageRoot(LabTest):
    def test_a_busybox_node_and_a_host_node_ping_each_other(self):
        image = busybox_root(self)
        lab = unique_lab("image")
        topology = self.write_topology({
            "nodes": {"bb": {"image": image, "exec": ["echo started > /tmp/started"]}, "h": {}},
            "links": [{"endpoints": ["bb", "h"]}]})
        plan = self.bring_up(topology, lab)
        self.assertEqual([node.get("image") for node in plan["nodes"]], [image, None])
        self.assertEqual(self.exec(lab, "bb", "cat", "/etc/os-release").stdout,
                         "NAME=busybox-by-the-test\n")
        self.assertEqual(self.exec(lab, "bb", "cat", "/tmp/started").stdout, "started\n")
        self.assertEqual(self.exec(lab, "bb", "hostname").stdout, "bb\n")
        # The host's programs are not there; busybox's are.
        self.assertNotEqual(self.exec(lab, "bb", "ls", "/usr/bin/python3", check=False).returncode, 0)
        h = [node for node in plan["nodes"] if node["name"] == "h"][0]
        bb = [node for node in plan["nodes"] if node["name"] == "bb"][0]
        h_address = h["interfaces"][0]["addresses"][0].split("/")[0]
        bb_address = bb["interfaces"][0]["addresses"][0].split("/")[0]
        self.exec(lab, "bb", "ping", "-c", "1", "-W", "2", h_address)
        self.exec(lab, "h", "ping", "-c", "1", "-W", "2", bb_address)
        # The node writes into its layer, never into the image.
        self.exec(lab, "bb", "touch", "/etc/written-by-bb")
        self.exec(lab, "bb", "rm", "/etc/os-release")
        self.assertEqual(sorted(os.listdir(os.path.join(image, "etc"))), ["os-release"])

    def test_an_imported_oci_image_runs_with_its_layers_and_whiteouts(self):
        work = tempfile.mkdtemp(prefix="netlab-oci-")
        self.addCleanup(shutil.rmtree, work, ignore_errors=True)
        with open(BUSYBOX, "rb") as file:
            busybox = file.read()
        archive = os.path.join(work, "busybox.tar")
        oci_archive(archive, [
            [("bin", "dir", None), ("bin/busybox", "program", busybox),
             *[(f"bin/{command}", "symlink", "busybox") for command in ["sh", "cat", "ls", "ping"]],
             ("etc", "dir", None), ("etc/motd", "file", b"layer one\n"),
             ("etc/old", "file", b"removed by layer two\n")],
            [("etc/.wh.old", "file", b""), ("etc/motd", "file", b"layer two\n")]],
            reference="example.org/lab/busybox:1")
        with mock.patch.dict(os.environ, {"NETLAB_IMAGE_DIR": os.path.join(work, "store")}):
            imported = netlab("image", "import", archive, "--name", "bb-test")
            self.assertIn("bb-test", imported.stdout)
            lab = unique_lab("oci")
            topology = self.write_topology({"nodes": {"bb": {"image": "bb-test"}, "h": {}},
                                            "links": [["bb", "h"]]})
            plan = self.bring_up(topology, lab)
            self.assertEqual(self.exec(lab, "bb", "cat", "/etc/motd").stdout, "layer two\n")
            self.assertNotEqual(self.exec(lab, "bb", "ls", "/etc/old", check=False).returncode, 0)
            h = [node for node in plan["nodes"] if node["name"] == "h"][0]
            self.exec(lab, "bb", "ping", "-c", "1", "-W", "2",
                      h["interfaces"][0]["addresses"][0].split("/")[0])
            # Not imported: refused, naming the image.
            missing = self.write_topology({"nodes": {"bb": {"image": "not-imported"}}, "links": []})
            refused = netlab("up", missing, "--lab", unique_lab("oci"), check=False)
            self.assertNotEqual(refused.returncode, 0)
            self.assertIn("image not-imported is not imported", refused.stderr)

    def test_startup_programs_are_looked_for_in_the_image(self):
        image = busybox_root(self)
        os.makedirs(os.path.join(image, "usr", "bin"))
        # Absolute, as Debian's alternatives are: it resolves in the image, not on the host.
        os.symlink("/bin/busybox", os.path.join(image, "usr", "bin", "tool"))
        topology = self.write_topology({"nodes": {"bb": {"image": image, "exec": [
            "tool true", "ping -c 1 127.0.0.1", "python3 -c 1"]}}, "links": []})
        result = netlab("validate", topology, check=False)
        self.assertEqual(result.returncode, 2, result.stdout + result.stderr)
        self.assertIn(f"the startup command `python3 -c 1` runs `python3`, which is not installed "
                      f"in image `{image}`", result.stderr)
        self.assertNotIn("`tool", result.stderr)
        self.assertNotIn("`ping", result.stderr)

    def test_an_image_that_is_not_a_directory_is_a_located_error(self):
        missing = os.path.join(tempfile.gettempdir(), "netlab-no-such-image", "root")
        topology = self.write_topology({"nodes": {"h1": {"image": missing}}, "links": []})
        result = netlab("up", topology, "--lab", unique_lab("image"), check=False)
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("topology.json:1:", result.stderr)
        self.assertIn(f"image `{missing}` is not a directory", result.stderr)


if __name__ == "__main__":
    unittest.main()
