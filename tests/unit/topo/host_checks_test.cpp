// What `up` needs of this machine's files, checked at load when asked (LoadOptions::
// checkThisMachine): mount and file targets that exist, startup programs and routing suites that
// are installed, on the host or in a node's image. Only paths every Linux machine has (/etc,
// /bin/sh) or none has are used on the host; images are directories the tests make.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "test_support.hpp"

namespace netlab::topo {
namespace {

using testing::dump;
using testing::errorCount;
using testing::hasDiagnostic;

LoadResult loadChecked(std::string_view json) {
  return testing::load(json, {"", true});
}

TEST(HostChecks, TargetsMustExistOutsideTheNodesTmpfs) {
  auto result = loadChecked(R"({"nodes": {"a": {"root": "host",
      "mounts": ["/tmp:/netlab-no-such-target", "/tmp:/etc", "/tmp:/run/made",
                 "/tmp:/tmp/made"],
      "files": {"/netlab-no-such-dir/file": "x", "/etc/made-by-a-mount/x": "x",
                "/run/x": "x"}}}})");
  EXPECT_TRUE(hasDiagnostic(result, "the mount target `/netlab-no-such-target` does not exist",
                            "nodes.a", 1));
  EXPECT_TRUE(hasDiagnostic(result, "the file target `/netlab-no-such-dir/file` does not exist",
                            "nodes.a", 1));
  // /etc/made-by-a-mount lies in the mount on /etc, which the host cannot judge.
  EXPECT_EQ(errorCount(result), 2u) << dump(result);
  // Not asked: the plan holds for any machine.
  EXPECT_TRUE(
      testing::load(R"({"nodes": {"a": {"mounts": ["/tmp:/netlab-no-such-target"]}}})").ok());
}

TEST(HostChecks, ANodeWithARootOfItsOwnGetsItsMissingTargetsMade) {
  auto result = loadChecked(R"({"defaults": {"root": "host"}, "nodes": {
      "a": {"root": "overlay", "mounts": ["/tmp:/netlab-no-such-target"],
            "files": {"/netlab-no-such-dir/file": "x"}}}})");
  EXPECT_EQ(errorCount(result), 0u) << dump(result);
}

TEST(HostChecks, StartupProgramsMustBeInstalled) {
  auto result = loadChecked(R"({"nodes": {"a": {"exec": [
      "/usr/lib/netlab-no-such/daemon start", "netlab-no-such-program --flag",
      "sh -c true", "echo hello > /tmp/x", "FOO=1 netlab-no-such-program", "cd /tmp && ls",
      "if true; then :; fi", "./relative", "/tmp/made-by-a-file"]},
    "b": {"env": {"PATH": "/netlab-no-such-dir"}, "exec": ["sh -c true"]},
    "c": {"mounts": ["/tmp:/usr/local/bin"], "exec": ["tool-in-the-mount"]}}})");
  EXPECT_TRUE(hasDiagnostic(result,
                            "the startup command `/usr/lib/netlab-no-such/daemon start` runs "
                            "`/usr/lib/netlab-no-such/daemon`, which is not installed",
                            "nodes.a", 1));
  EXPECT_TRUE(
      hasDiagnostic(result, "runs `netlab-no-such-program`, which is not installed", "nodes.a", 1));
  // The node's own PATH is the one searched.
  EXPECT_TRUE(hasDiagnostic(result, "the startup command `sh -c true` runs `sh`", "nodes.b", 5));
  // Shell words, assignments, relative paths, the node's tmpfs and its mounts are not judged.
  EXPECT_EQ(errorCount(result), 3u) << dump(result);
}

namespace fs = std::filesystem;

// A root filesystem directory: an executable bin/busybox, and absolute symbolic links to it and
// to the host's /bin/sh, which the image does not have.
class ImageChecks : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "netlab-image-checks-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    image_ = pattern;
    fs::create_directories(image_ / "bin");
    fs::create_directories(image_ / "usr/bin");
    std::ofstream(image_ / "bin/busybox") << "#!/bin/busybox sh\n";
    fs::permissions(image_ / "bin/busybox", fs::perms::owner_all);
    fs::create_symlink("/bin/busybox", image_ / "usr/bin/tool");
    fs::create_symlink("/bin/sh", image_ / "usr/bin/hostsh");
  }
  void TearDown() override { fs::remove_all(image_); }

  // Makes the files of a routing suite in the image.
  void install(const std::vector<std::string>& paths) {
    for (const std::string& path : paths) {
      fs::create_directories((image_ / path.substr(1)).parent_path());
      std::ofstream(image_ / path.substr(1)) << "";
    }
  }

  LoadResult loadWithImage(const std::string& nodes, const ImageRoots& images = {}) {
    return testing::load(R"({"nodes": )" + nodes + "}", {"", true, images});
  }

  fs::path image_;
};

TEST_F(ImageChecks, StartupProgramsAreLookedForInTheImage) {
  auto result = loadWithImage(R"({"a": {"image": ")" + image_.string() + R"(", "exec": [
      "tool --flag", "/usr/bin/tool", "busybox true", "sh -c true", "hostsh -c true"]}})");
  // usr/bin/tool -> /bin/busybox resolves against the image's root.
  // sh and hostsh (-> /bin/sh) are the host's, not the image's.
  EXPECT_TRUE(hasDiagnostic(result,
                            "the startup command `sh -c true` runs `sh`, which is not installed "
                            "in image `" +
                                image_.string() + "`",
                            "nodes.a", 1));
  EXPECT_TRUE(
      hasDiagnostic(result, "runs `hostsh`, which is not installed in image", "nodes.a", 1));
  EXPECT_EQ(errorCount(result), 2u) << dump(result);
}

TEST_F(ImageChecks, AnImportedImageIsFoundByName) {
  const ImageRoots images = [&](const std::string& name) -> std::optional<std::string> {
    if (name == "busybox") return image_.string();
    return std::nullopt;
  };
  auto result = loadWithImage(R"({"a": {"image": "busybox", "exec": ["tool", "sh -c true"]},
      "b": {"image": "not-imported", "exec": ["netlab-no-such-program"]}})",
                              images);
  EXPECT_TRUE(
      hasDiagnostic(result, "runs `sh`, which is not installed in image `busybox`", "nodes.a", 1));
  // Not imported: nothing to judge here; bring-up refuses the node, naming the image.
  EXPECT_EQ(errorCount(result), 1u) << dump(result);
}

TEST_F(ImageChecks, ARoutingSuiteMustBeInstalledInTheImage) {
  const std::string router =
      R"({"kind": "router", "routing": "ospf", "image": ")" + image_.string() + R"("})";
  auto result = loadWithImage(R"({"r1": )" + router + R"(, "r2": )" + router + "}");
  // Once for the image, at its first router.
  EXPECT_TRUE(hasDiagnostic(result,
                            "FRR is not installed in image `" + image_.string() +
                                "` (/usr/lib/frr/frrinit.sh is missing), and router `r1` runs it",
                            "nodes.r1.routing", 1));
  EXPECT_EQ(errorCount(result), 1u) << dump(result);
  // /etc/frr a symbolic link within the image, absolute: resolved in it.
  install({"/usr/lib/frr/frrinit.sh", "/srv/frr/.keep", "/etc/.keep"});
  fs::create_symlink("/srv/frr", image_ / "etc/frr");
  result = loadWithImage(R"({"r1": )" + router + "}");
  EXPECT_EQ(errorCount(result), 0u) << dump(result);
}

}  // namespace
}  // namespace netlab::topo
