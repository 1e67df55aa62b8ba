// Folders named after nodes: which of their directories become mounts, and where.
#include <gtest/gtest.h>

#include <fstream>

#include "test_support.hpp"

namespace netlab::topo {
namespace {

namespace fs = std::filesystem;
using testing::dump;
using testing::hasDiagnostic;
using testing::nodeOf;

// A fresh directory for one test, so that no other test's nodes find folders in it.
fs::path freshDir(std::string_view name) {
  const fs::path dir = testing::scratchDir() / "node-folders" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void writeFile(const fs::path& path) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << "x\n";
}

LoadResult loadIn(const fs::path& dir, std::string_view json) {
  return loadTopologyText(json, dir / "lab.json");
}

std::vector<std::string> mountsOf(const Plan& plan, std::string_view node, const fs::path& dir) {
  std::vector<std::string> mounts;
  for (const Mount& mount : nodeOf(plan, node).mounts) {
    std::string source = mount.source;
    if (source.starts_with(dir.string() + "/")) source.erase(0, dir.string().size() + 1);
    mounts.push_back(source + " -> " + mount.target + (mount.readOnly ? " ro" : ""));
  }
  return mounts;
}

TEST(NodeFolders, TheShallowestDirectoriesWithFilesAreMounted) {
  const fs::path dir = freshDir("rule");
  writeFile(dir / "r1/etc/frr/frr.conf");
  writeFile(dir / "r1/etc/frr/daemons");
  writeFile(dir / "r1/etc/bird/bird.conf");
  writeFile(dir / "r1/srv/a/d.txt");
  writeFile(dir / "r1/srv/a/b/c.txt");
  fs::create_directories(dir / "r1/empty/too");
  auto result = loadIn(dir, R"({"nodes": {"r1": {"kind": "router"}, "h1": {}},
                                "links": [["r1", "h1"]]})");
  ASSERT_TRUE(result.ok()) << dump(result);
  EXPECT_TRUE(result.diagnostics.empty()) << dump(result);
  EXPECT_EQ(mountsOf(*result.plan, "r1", dir),
            (std::vector<std::string>{"r1/etc/bird -> /etc/bird", "r1/etc/frr -> /etc/frr",
                                      "r1/srv/a -> /srv/a"}));
  EXPECT_TRUE(nodeOf(*result.plan, "h1").mounts.empty());
}

TEST(NodeFolders, WrittenMountsComeAfterAndWin) {
  const fs::path dir = freshDir("written");
  writeFile(dir / "r1/etc/frr/frr.conf");
  writeFile(dir / "r1/run/x/y");
  writeFile(dir / "mine/frr.conf");
  auto result = loadIn(dir, R"({"nodes": {"r1": {"mounts": ["mine:/etc/frr:ro"]}}})");
  ASSERT_TRUE(result.ok()) << dump(result);
  EXPECT_EQ(mountsOf(*result.plan, "r1", dir),
            (std::vector<std::string>{"r1/run/x -> /run/x", "mine -> /etc/frr ro"}));
}

TEST(NodeFolders, TheRootCanBeNamedOrTurnedOff) {
  const fs::path dir = freshDir("root");
  writeFile(dir / "r1/etc/frr/frr.conf");
  writeFile(dir / "configs/r1/etc/bird/bird.conf");
  auto named = loadIn(dir, R"({"node_folders": "configs", "nodes": {"r1": {}}})");
  ASSERT_TRUE(named.ok()) << dump(named);
  EXPECT_EQ(mountsOf(*named.plan, "r1", dir),
            (std::vector<std::string>{"configs/r1/etc/bird -> /etc/bird"}));
  auto off = loadIn(dir, R"({"node_folders": false, "nodes": {"r1": {}}})");
  ASSERT_TRUE(off.ok()) << dump(off);
  EXPECT_TRUE(nodeOf(*off.plan, "r1").mounts.empty());
  auto on = loadIn(dir, R"({"node_folders": true, "nodes": {"r1": {}}})");
  ASSERT_TRUE(on.ok()) << dump(on);
  EXPECT_EQ(mountsOf(*on.plan, "r1", dir), (std::vector<std::string>{"r1/etc/frr -> /etc/frr"}));
  auto missing = loadIn(dir, R"({"node_folders": "nowhere", "nodes": {"r1": {}}})");
  EXPECT_TRUE(hasDiagnostic(missing, "`nowhere` is not a directory", "node_folders", 1));
}

TEST(NodeFolders, FilesDirectlyInTheFolderAreNotMounted) {
  const fs::path dir = freshDir("top");
  writeFile(dir / "r1/README");
  writeFile(dir / "r1/etc/frr/frr.conf");
  auto result = loadIn(dir, R"({"nodes": {
    "r1": {}}})");
  ASSERT_TRUE(result.ok()) << dump(result);
  EXPECT_TRUE(
      hasDiagnostic(result, "a file is in the node folder", "nodes.r1", 2, Severity::Warning));
  EXPECT_NE(testing::find(result, "not mounted: README", Severity::Warning), nullptr);
  EXPECT_EQ(mountsOf(*result.plan, "r1", dir),
            (std::vector<std::string>{"r1/etc/frr -> /etc/frr"}));
}

TEST(NodeFolders, SymbolicLinksAreContentNotFolders) {
  const fs::path dir = freshDir("links");
  writeFile(dir / "shared/etc/x.conf");
  fs::create_directories(dir / "r1/etc");
  fs::create_directory_symlink(dir / "shared/etc", dir / "r1/etc/linked");
  fs::create_directories(dir / "r1/opt/only");
  fs::create_directory_symlink(dir / "r1", dir / "r1/opt/only/loop");
  auto result = loadIn(dir, R"({"nodes": {"r1": {}}})");
  ASSERT_TRUE(result.ok()) << dump(result);
  EXPECT_EQ(mountsOf(*result.plan, "r1", dir),
            (std::vector<std::string>{"r1/etc -> /etc", "r1/opt/only -> /opt/only"}));
}

TEST(NodeFolders, TooDeepIsAnError) {
  const fs::path dir = freshDir("deep");
  fs::path deep = dir / "r1";
  for (int i = 0; i < 20; ++i) deep /= "d";
  writeFile(deep / "f");
  auto result = loadIn(dir, R"({"nodes": {"r1": {}}})");
  EXPECT_TRUE(hasDiagnostic(result, "it is nested deeper than 16 levels", "nodes.r1", 1));
}

}  // namespace
}  // namespace netlab::topo
