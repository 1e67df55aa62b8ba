#include "nsmgr/mountinfo.hpp"

#include <algorithm>
#include <iterator>
#include <sstream>

#include "topo/names.hpp"

namespace netlab::nsmgr {
namespace {

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::istringstream stream(text);
  for (std::string part; std::getline(stream, part, separator);) parts.push_back(part);
  return parts;
}

bool isOctalDigit(char c) {
  return c >= '0' && c <= '7';
}

// The kernel writes space, tab, newline and backslash in a path as \ and three octal digits.
std::string unescape(const std::string& path) {
  std::string plain;
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '\\' && i + 3 < path.size() && isOctalDigit(path[i + 1]) &&
        isOctalDigit(path[i + 2]) && isOctalDigit(path[i + 3])) {
      plain += static_cast<char>((path[i + 1] - '0') * 64 + (path[i + 2] - '0') * 8 +
                                 (path[i + 3] - '0'));
      i += 3;
    } else {
      plain += path[i];
    }
  }
  return plain;
}

// Directories every node has of its own (node_setup.cpp), or the host's /dev.
constexpr const char* kNodeOwnDirectories[] = {"/dev", "/proc", "/sys", "/tmp", "/run"};

}  // namespace

std::vector<MountEntry> parseMountinfo(const std::string& text) {
  std::vector<MountEntry> mounts;
  for (const auto& line : split(text, '\n')) {
    // ID PARENT MAJOR:MINOR ROOT POINT OPTIONS [OPTIONAL...] - TYPE SOURCE SUPER-OPTIONS
    const size_t separator = line.find(" - ");
    if (separator == std::string::npos) continue;
    const auto left = split(line.substr(0, separator), ' ');
    const auto right = split(line.substr(separator + 3), ' ');
    if (left.size() < 5 || right.size() < 3) continue;
    mounts.push_back({left[0], left[1], unescape(left[3]), unescape(left[4]), right[0], right[2]});
  }
  return mounts;
}

std::vector<std::string> mountsBelowRoot(const std::vector<MountEntry>& mounts) {
  std::string rootId;
  for (const auto& mount : mounts) {
    if (mount.point == "/") rootId = mount.id;  // the last: the one / shows
  }
  std::vector<std::string> below;
  for (const auto& mount : mounts) {
    if (mount.parent != rootId || mount.point == "/") continue;
    const bool nodesOwn = std::any_of(
        std::begin(kNodeOwnDirectories), std::end(kNodeOwnDirectories),
        [&](const char* directory) { return topo::isPathUnder(mount.point, directory); });
    if (!nodesOwn) below.push_back(mount.point);
  }
  return below;
}

}  // namespace netlab::nsmgr
