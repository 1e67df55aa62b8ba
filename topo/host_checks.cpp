// checkAgainstThisMachine: what `netlab up` needs of the machine's files, found by validate
// instead of by a failed bring-up. A mount or file target of a node with the host's root, outside
// its own /tmp and /run, must exist on the host, and a startup command's program must be installed
// in the node's root filesystem: the host's, or its image's (node_files.hpp).
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <system_error>

#include "topo/lab.hpp"
#include "topo/names.hpp"
#include "topo/node_files.hpp"

namespace netlab::topo {
namespace {

namespace fs = std::filesystem;

// Each node's own tmpfs, where netlab creates what is missing.
bool inNodeTmpfs(std::string_view path) {
  for (std::string_view tmpfs : {"/tmp", "/run"}) {
    if (path == tmpfs || (path.starts_with(tmpfs) && path[tmpfs.size()] == '/')) return true;
  }
  return false;
}

// A path that a mount of the node may provide is not the host's to judge.
bool providedByMount(std::string_view path, const std::vector<Mount>& mounts) {
  return std::any_of(mounts.begin(), mounts.end(),
                     [&](const Mount& mount) { return isPathUnder(path, mount.target); });
}

bool existsOnHost(const std::string& path) {
  std::error_code error;
  return fs::exists(path, error);
}

// Only a node that shares the host's root: one of its own (an overlay, the default, or an image)
// gets its missing targets made in its own layer.
void checkTargets(const DraftNode& node, DiagnosticSink& sink) {
  if (!node.settings.root || node.settings.root->value != RootMode::Host) return;
  const auto& mounts = node.settings.mounts;
  auto check = [&](const std::string& target, std::string_view what,
                   const std::vector<Mount>& earlier) {
    if (inNodeTmpfs(target) || providedByMount(target, earlier) || existsOnHost(target)) return;
    sink.error(node.where,
               fmt::format("the {} target `{}` does not exist on this machine", what,
                           excerpt(target, 200)),
               "a node with \"root\": \"host\" sees the host's files, and netlab creates "
               "targets there only under /tmp and /run: install what makes it (/etc/frr comes "
               "with frr), use a path there, or give the node a root of its own");
  };
  for (size_t i = 0; i < mounts.size(); ++i) {
    check(mounts[i].target, "mount", {mounts.begin(), mounts.begin() + i});
  }
  for (const File& file : node.settings.files) check(file.target, "file", mounts);
}

// The shell's own commands and words, which no program provides.
constexpr std::array<std::string_view, 44> kShellWords{
    "!",      "{",      "(",       ":",        ".",        "[",      "alias", "bg",    "break",
    "case",   "cd",     "command", "continue", "echo",     "eval",   "exec",  "exit",  "export",
    "false",  "fg",     "for",     "getopts",  "hash",     "if",     "jobs",  "kill",  "local",
    "newgrp", "printf", "pwd",     "read",     "readonly", "return", "set",   "shift", "test",
    "times",  "trap",   "true",    "type",     "ulimit",   "umask",  "unset", "wait"};

// The program a command starts, when it is plain enough to say: its first word, made only of
// characters no shell treats specially, not an assignment, not a word of the shell's own.
std::optional<std::string> programOf(const std::string& command) {
  const size_t start = command.find_first_not_of(" \t");
  if (start == std::string::npos) return std::nullopt;
  const size_t end = command.find_first_of(" \t\n;&|<>", start);
  const std::string word = command.substr(start, end == std::string::npos ? end : end - start);
  const bool plain = std::all_of(word.begin(), word.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("/._+-").find(c) != std::string_view::npos;
  });
  if (!plain || word.empty()) return std::nullopt;
  if (std::find(kShellWords.begin(), kShellWords.end(), word) != kShellWords.end()) {
    return std::nullopt;
  }
  return word;
}

// The node's PATH: its own `env` PATH, else the one every node gets.
std::string pathOf(const DraftNode& node) {
  for (const auto& [name, value] : node.settings.env) {
    if (name == "PATH") return value;
  }
  return kNodePath;
}

bool installed(const std::string& program, const DraftNode& node, const NodeFiles& files) {
  const auto& mounts = node.settings.mounts;
  auto runnable = [&](const std::string& path) {
    return inNodeTmpfs(path) || providedByMount(path, mounts) || files.runnable(path);
  };
  if (program.find('/') != std::string::npos) return program[0] != '/' || runnable(program);
  const std::string path = pathOf(node);
  for (size_t start = 0; start <= path.size();) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    const std::string directory = path.substr(start, end - start);
    if (!directory.empty() && runnable(directory + "/" + program)) return true;
    start = end + 1;
  }
  return false;
}

void checkStartupPrograms(const DraftNode& node, const ImageRoots& images, DiagnosticSink& sink) {
  const auto files = NodeFiles::of(node, images);
  if (!files) return;
  for (const std::string& command : node.settings.exec) {
    auto program = programOf(command);
    if (!program || installed(*program, node, *files)) continue;
    sink.error(node.where,
               fmt::format("the startup command `{}` runs `{}`, which is not installed {}",
                           excerpt(command), *program, files->where()),
               files->isHost() ? "nodes run the host's programs: install its package (Debian's "
                                 "frr for /usr/lib/frr/frrinit.sh), or mount it into the node"
                               : "a node with an image runs the image's programs: install it "
                                 "in the image, or mount it into the node");
  }
}

}  // namespace

void checkAgainstThisMachine(const Lab& lab, const ImageRoots& images, DiagnosticSink& sink) {
  for (const DraftNode& node : lab.nodes) {
    checkTargets(node, sink);
    checkStartupPrograms(node, images, sink);
  }
}

}  // namespace netlab::topo
