"""`netlab image import|ls|rm` (issue 20) on archives this test writes: an OCI image archive of
two layers (whiteouts, an opaque directory), a docker save archive, and the refusals (a tar
that is no image, a file that is no archive, a missing one, a layer with `../x`, a layer
writing through a symlink, a hard link to outside; a layer with a byte altered, a manifest
naming a wrong or malformed digest), each naming the file and the reason and leaving the
store as it was; then the same import as an ordinary user.

The store is a temporary directory (NETLAB_IMAGE_DIR). Run by tests/run_isolated.sh like the
other e2e tests, though importing needs no privilege.
"""
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import unittest

NETLAB = os.environ["NETLAB"]


def tar_bytes(entries):
    """A tar of (path, kind, data): kind "file" or "program" (data: bytes; mode 0644 or 0755),
    "dir", "symlink" or "hardlink" (data: the target)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path, kind, data in entries:
            info = tarfile.TarInfo(path)
            info.mtime = 1700000000
            if kind in ("file", "program"):
                info.size = len(data)
                info.mode = 0o644 if kind == "file" else 0o755
                tar.addfile(info, io.BytesIO(data))
                continue
            info.type = {"dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE,
                         "hardlink": tarfile.LNKTYPE}[kind]
            info.mode = 0o755 if kind == "dir" else 0o777
            if kind != "dir":
                info.linkname = data
            tar.addfile(info)
    return buffer.getvalue()


def write_tar(path, files):
    """A tar archive of whole files: {path in the archive: bytes}."""
    with open(path, "wb") as out:
        out.write(tar_bytes([(name, "file", data) for name, data in files.items()]))


def read_tar(path):
    """The files of a tar archive: {path in the archive: bytes}."""
    with tarfile.open(path) as tar:
        return {member.name: tar.extractfile(member).read() for member in tar.getmembers()}


def digest_of(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def config_of(tars):
    """An image's config: its rootfs.diff_ids are the digests of the layers' uncompressed tars."""
    return json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {
        "type": "layers", "diff_ids": [digest_of(tar) for tar in tars]}}).encode()


def oci_archive(path, layers, reference="example.org/lab/router:1.0", layer_digest=digest_of):
    """An OCI image archive, as skopeo copy or podman save write it: every layer gzip'd, and
    named (in the manifest and blobs/) by layer_digest of its bytes."""
    blobs = {}
    descriptors = []
    tars = [tar_bytes(entries) for entries in layers]
    for tar in tars:
        data = gzip.compress(tar, mtime=0)
        blobs[layer_digest(data)] = data
        descriptors.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                            "digest": layer_digest(data), "size": len(data)})
    config = config_of(tars)
    blobs[digest_of(config)] = config
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": digest_of(config), "size": len(config)},
        "layers": descriptors}).encode()
    blobs[digest_of(manifest)] = manifest
    index = {"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": digest_of(manifest), "size": len(manifest),
        "annotations": {"org.opencontainers.image.ref.name": reference}}]}
    files = {"oci-layout": b'{"imageLayoutVersion": "1.0.0"}',
             "index.json": json.dumps(index).encode()}
    for digest, data in blobs.items():
        files["blobs/sha256/" + digest.split(":")[1]] = data
    write_tar(path, files)


def docker_archive(path, layers, tag="docker.io/library/saved:2"):
    """A docker save archive (before Docker 25): manifest.json naming ID/layer.tar files."""
    files = {}
    paths = []
    for number, entries in enumerate(layers):
        paths.append(f"{number:064x}/layer.tar")
        files[paths[-1]] = tar_bytes(entries)
    files["config.json"] = config_of([files[layer] for layer in paths])
    files["manifest.json"] = json.dumps(
        [{"Config": "config.json", "RepoTags": [tag], "Layers": paths}]).encode()
    write_tar(path, files)


BASE_LAYER = [
    ("etc", "dir", None), ("etc/hostname", "file", b"base\n"), ("etc/motd", "file", b"hi\n"),
    ("opt", "dir", None), ("opt/old", "file", b"old\n"), ("opt/keep", "dir", None),
    ("opt/keep/deep", "file", b"deep\n"), ("usr", "dir", None), ("usr/bin", "dir", None),
    ("usr/bin/vi", "file", b"#!/bin/sh\n"),
    ("etc/alternatives", "dir", None), ("etc/alternatives/editor", "symlink", "/usr/bin/vi"),
]
TOP_LAYER = [
    ("etc/.wh.motd", "file", b""), ("opt/new", "file", b"new\n"),
    ("opt/.wh..wh..opq", "file", b""), ("etc/hostname", "file", b"router\n"),
]


class ImageStore(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="netlab-e2e-image-")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.store = os.path.join(self.dir, "store")
        self.env = dict(os.environ, NETLAB_IMAGE_DIR=self.store)

    def netlab(self, *args, check=True):
        result = subprocess.run([NETLAB, "image", *args], capture_output=True, text=True,
                                timeout=120, env=self.env)
        if check and result.returncode != 0:
            raise AssertionError(f"netlab image {' '.join(args)} exited {result.returncode}:\n"
                                 f"{result.stdout}{result.stderr}")
        return result

    def path(self, name):
        return os.path.join(self.dir, name)

    def store_entries(self):
        if not os.path.isdir(self.store):
            return []
        return sorted(name for name in os.listdir(self.store) if name != ".lock")

    def assert_refused(self, file, *reasons, kept=()):
        result = self.netlab("import", file, check=False)
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        self.assertIn(f"netlab: importing {file}: ", result.stderr)
        for reason in reasons:
            self.assertIn(reason, result.stderr)
        self.assertEqual(result.stdout, "")
        self.assertEqual(self.store_entries(), sorted(kept), "nothing half-built stays in the store")
        return result.stderr

    def test_import_ls_rm_of_an_oci_archive(self):
        archive = self.path("router.tar")
        oci_archive(archive, [BASE_LAYER, TOP_LAYER])
        imported = self.netlab("import", archive)
        self.assertIn("image `example.org-lab-router-1.0` imported: 2 layers", imported.stdout)
        root = os.path.join(self.store, "example.org-lab-router-1.0", "rootfs")
        with open(os.path.join(root, "etc/hostname")) as hostname:
            self.assertEqual(hostname.read(), "router\n")
        self.assertFalse(os.path.exists(os.path.join(root, "etc/motd")))
        self.assertEqual(sorted(os.listdir(os.path.join(root, "opt"))), ["new"])
        self.assertEqual(os.readlink(os.path.join(root, "etc/alternatives/editor")), "/usr/bin/vi")
        for directory, _, files in os.walk(root):
            self.assertEqual([name for name in files if name.startswith(".wh.")], [], directory)

        listed = json.loads(self.netlab("ls", "--format", "json").stdout)
        self.assertEqual(len(listed), 1)
        image = listed[0]
        self.assertEqual(image["name"], "example.org-lab-router-1.0")
        self.assertEqual(image["reference"], "example.org/lab/router:1.0")
        self.assertEqual(image["format"], "oci")
        self.assertEqual(image["source"], archive)
        self.assertEqual(image["root"], root)
        self.assertEqual(len(image["layers"]), 2)
        self.assertTrue(all(layer.startswith("sha256:") for layer in image["layers"]))
        # What stays: etc/hostname, usr/bin/vi and opt/new.
        self.assertEqual(image["sizeBytes"], len(b"router\n") + len(b"#!/bin/sh\n") + len(b"new\n"))
        table = self.netlab("ls").stdout
        self.assertIn("example.org-lab-router-1.0", table.splitlines()[1])

        again = self.netlab("import", archive, check=False)
        self.assertEqual(again.returncode, 1)
        self.assertIn("netlab image rm example.org-lab-router-1.0", again.stderr)

        self.netlab("rm", "example.org-lab-router-1.0")
        self.assertEqual(json.loads(self.netlab("ls", "--format", "json").stdout), [])
        self.assertEqual(self.store_entries(), [])
        missing = self.netlab("rm", "example.org-lab-router-1.0", check=False)
        self.assertEqual(missing.returncode, 1)
        self.assertIn("is not imported (netlab image ls lists those that are)", missing.stderr)

    def test_import_of_a_docker_save_archive_with_a_name(self):
        archive = self.path("saved.tar")
        docker_archive(archive, [BASE_LAYER, TOP_LAYER])
        self.netlab("import", archive, "--name", "mine")
        root = os.path.join(self.store, "mine", "rootfs")
        self.assertFalse(os.path.exists(os.path.join(root, "etc/motd")))
        self.assertTrue(os.path.exists(os.path.join(root, "opt/new")))
        image = json.loads(self.netlab("ls", "--format", "json").stdout)[0]
        self.assertEqual((image["name"], image["format"], image["reference"]),
                         ("mine", "docker", "docker.io/library/saved:2"))

    def test_refusals(self):
        not_image = self.path("files.tar")
        write_tar(not_image, {"hello.txt": b"hello\n"})
        self.assert_refused(not_image, "neither an OCI image", "nor a Docker archive")

        not_archive = self.path("notes.txt")
        with open(not_archive, "w") as notes:
            notes.write("just text\n")
        self.assert_refused(not_archive, "not a tar archive")

        self.assert_refused(self.path("missing.tar"), "No such file or directory")

        climbing = self.path("climbing.tar")
        oci_archive(climbing, [[("../x", "file", b"out\n")]])
        self.assert_refused(climbing, "layer 1 of 1 (sha256:", "entry ../x: ",
                            "climbs out of the image's root")
        self.assertFalse(os.path.exists(os.path.join(self.dir, "x")))

        through = self.path("through-symlink.tar")
        oci_archive(through, [[("etc", "symlink", "/")],
                              [("etc/netlab-e2e-image", "file", b"out\n")]])
        self.assert_refused(through, "layer 2 of 2", "entry etc/netlab-e2e-image: ",
                            "written through the symbolic link etc -> /")
        self.assertFalse(os.path.exists("/netlab-e2e-image"))

        hardlink = self.path("hardlink.tar")
        oci_archive(hardlink, [[("shadow", "hardlink", "../../../etc/shadow")]])
        self.assert_refused(hardlink, "entry shadow: its hard link target ../../../etc/shadow")

        missing_blob = self.path("missing-blob.tar")
        docker_archive(missing_blob, [BASE_LAYER])
        kept = read_tar(missing_blob)
        del kept[f"{0:064x}/layer.tar"]
        write_tar(missing_blob, kept)
        self.assert_refused(missing_blob, "which is missing")

    def test_refusals_of_what_does_not_hash_to_its_digest(self):
        self.netlab("import", self.make_oci("good.tar"), "--name", "kept")

        # A byte of the gzip header's time altered: the layer still decompresses, to the same
        # tar, but is not the blob the manifest names.
        altered = self.make_oci("altered.tar")
        digest = self.alter_layer(altered, 1, 4)
        actual = digest_of(read_tar(altered)["blobs/sha256/" + digest[7:]])
        self.assert_refused(altered, f"layer 2 of 2 ({digest}): its content hashes to {actual}, "
                            "not to its digest", kept=["kept"])

        wrong = self.path("wrong.tar")
        oci_archive(wrong, [BASE_LAYER], layer_digest=lambda data: digest_of(data + b"!"))
        self.assert_refused(wrong, "layer 1 of 1 (sha256:", "): its content hashes to sha256:",
                            kept=["kept"])

        malformed = self.path("malformed.tar")
        oci_archive(malformed, [BASE_LAYER], layer_digest=lambda data: "sha256:" + "AB" * 32)
        self.assert_refused(malformed, "'s layer: `sha256:" + "AB" * 32 + "` is not a digest",
                            kept=["kept"])

        # Before Docker 25 a layer has no digest of its own: its tar is checked against the
        # config's diff_id.
        saved = self.path("saved.tar")
        docker_archive(saved, [BASE_LAYER])
        files = read_tar(saved)
        layer = f"{0:064x}/layer.tar"
        expected = digest_of(files[layer])
        files[layer] = files[layer].replace(b"base\n", b"BASE\n")
        write_tar(saved, files)
        self.assert_refused(saved, f"layer 1 of 1 ({layer}): its tar hashes to "
                            f"{digest_of(files[layer])}, not to its diff_id {expected}",
                            kept=["kept"])

    def make_oci(self, name):
        archive = self.path(name)
        oci_archive(archive, [BASE_LAYER, TOP_LAYER])
        return archive

    def alter_layer(self, archive, index, offset):
        """Flips the bits of one byte of an OCI archive's layer; returns the layer's digest."""
        files = read_tar(archive)
        index_json = json.loads(files["index.json"])
        manifest = json.loads(files["blobs/sha256/" + index_json["manifests"][0]["digest"][7:]])
        digest = manifest["layers"][index]["digest"]
        blob = bytearray(files["blobs/sha256/" + digest[7:]])
        blob[offset] ^= 0xFF
        files["blobs/sha256/" + digest[7:]] = bytes(blob)
        write_tar(archive, files)
        return digest

    def test_as_an_ordinary_user(self):
        archive = self.path("router.tar")
        oci_archive(archive, [BASE_LAYER, TOP_LAYER])
        os.chmod(self.dir, 0o755)
        os.makedirs(self.store)
        os.chown(self.store, 65534, 65534)
        result = subprocess.run(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", NETLAB, "image",
             "import", archive, "--name", "user"],
            capture_output=True, text=True, timeout=120, env=self.env)
        if result.returncode != 0 and "Permission denied" in result.stderr and NETLAB in result.stderr:
            self.skipTest(f"uid 65534 cannot run {NETLAB}")
        self.assertEqual(result.returncode, 0, result.stderr)
        root = os.path.join(self.store, "user", "rootfs")
        self.assertEqual(os.stat(os.path.join(root, "etc/hostname")).st_uid, 65534)
        self.assertEqual(sorted(os.listdir(os.path.join(root, "opt"))), ["new"])


if __name__ == "__main__":
    unittest.main()
