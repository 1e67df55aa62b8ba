// mountNodeFolders: Kathara-style folders. A directory named after a node beside the
// topology (or under `node_folders`) holds files for that node. Nodes see the host's file
// system, and a bind mount needs a target that exists, so the folder is not copied onto `/`:
// each of its shallowest directories that holds a file (or anything but a directory) is
// bind-mounted, read-write, at the same path in the node (`r1/etc/frr/` -> `/etc/frr`).
// The mounts come before the node's own `mounts`, which can therefore mount over them.
#include <fmt/format.h>

#include <algorithm>
#include <system_error>

#include "topo/lab.hpp"

namespace netlab::topo {
namespace {

namespace fs = std::filesystem;

// A node folder is configuration; these bounds keep a mistaken root (a home directory) from
// being walked for long.
constexpr size_t kMaxDepth = 16;
constexpr size_t kMaxEntries = 10'000;

struct FolderContents {
  std::vector<fs::path> mounted;           // relative directories, in path order
  std::vector<std::string> topLevelFiles;  // would need a mount onto `/`
  size_t entries = 0;
};

bool isDirectory(const fs::directory_entry& entry) {
  // Not following symbolic links: a link is content to mount, never a folder to walk.
  return entry.symlink_status().type() == fs::file_type::directory;
}

// Throws fs::filesystem_error (unreadable folders) and netlab's bound as std::length_error.
void walk(const fs::path& folder, const fs::path& relative, size_t depth,
          FolderContents& contents) {
  std::vector<fs::directory_entry> entries{fs::directory_iterator(folder / relative), {}};
  std::sort(entries.begin(), entries.end());
  contents.entries += entries.size();
  if (contents.entries > kMaxEntries) {
    throw std::length_error(fmt::format("it has more than {} entries", kMaxEntries));
  }
  const bool holdsFiles = !std::all_of(entries.begin(), entries.end(), isDirectory);
  if (holdsFiles && !relative.empty()) {
    contents.mounted.push_back(relative);
    return;
  }
  for (const auto& entry : entries) {
    if (!isDirectory(entry)) contents.topLevelFiles.push_back(entry.path().filename().string());
  }
  if (depth == kMaxDepth && !entries.empty()) {
    throw std::length_error(fmt::format("it is nested deeper than {} levels", kMaxDepth));
  }
  for (const auto& entry : entries) {
    if (isDirectory(entry)) walk(folder, relative / entry.path().filename(), depth + 1, contents);
  }
}

void mountFolder(DraftNode& node, const fs::path& folder, DiagnosticSink& sink) {
  FolderContents contents;
  try {
    walk(folder, {}, 0, contents);
  } catch (const std::exception& error) {
    sink.error(node.where,
               fmt::format("cannot use the node folder `{}`: {}", excerpt(folder.string(), 200),
                           error.what()),
               R"(fix it, or turn node folders off with "node_folders": false)");
    return;
  }
  if (!contents.topLevelFiles.empty()) {
    sink.warning(node.where,
                 fmt::format("{} in the node folder `{}` not mounted: {}",
                             contents.topLevelFiles.size() == 1 ? "a file is" : "files are",
                             excerpt(folder.string(), 200),
                             excerpt(fmt::format("{}", fmt::join(contents.topLevelFiles, ", ")))),
                 "nothing can be mounted onto `/`; put files in the folder of their path, "
                 "e.g. r1/etc/frr/frr.conf");
  }
  std::vector<Mount> mounts;
  for (const fs::path& relative : contents.mounted) {
    const std::string target = "/" + relative.generic_string();
    const auto& own = node.settings.mounts;
    const bool written = std::any_of(own.begin(), own.end(),
                                     [&](const Mount& mount) { return mount.target == target; });
    if (!written) mounts.push_back({(folder / relative).string(), target, false});
  }
  node.settings.mounts.insert(node.settings.mounts.begin(), mounts.begin(), mounts.end());
}

}  // namespace

void mountNodeFolders(Lab& lab, const TopologySpec& topology, DiagnosticSink& sink) {
  if (!topology.nodeFolders.enabled) return;
  // Declared nodes come first in the lab; the switches netlab creates have no folders.
  for (size_t i = 0; i < topology.nodes.size() && i < lab.nodes.size(); ++i) {
    const fs::path folder = topology.nodeFolders.root / lab.nodes[i].name;
    std::error_code error;
    if (fs::is_directory(folder, error)) mountFolder(lab.nodes[i], folder, sink);
  }
}

}  // namespace netlab::topo
