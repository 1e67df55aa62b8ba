// What `up` needs of this machine's files, checked at load when asked (LoadOptions::
// checkThisMachine): mount and file targets that exist, startup programs that are installed.
// Only paths every Linux machine has (/etc, /bin/sh) or none has are used.
#include <gtest/gtest.h>

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
  auto result = loadChecked(R"({"nodes": {"a": {
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

}  // namespace
}  // namespace netlab::topo
