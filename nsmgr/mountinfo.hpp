// /proc/PID/mountinfo (proc_pid_mountinfo(5)), parsed: the cgroup hierarchies and the host's
// filesystems that nodes with a root of their own are given are read from it.
#pragma once

#include <string>
#include <vector>

namespace netlab::nsmgr {

struct MountEntry {
  std::string id;
  std::string parent;  // the ID of the mount it is mounted on
  std::string root;    // the directory of its filesystem it shows
  std::string point;   // where it is mounted, in the reader's mount namespace
  std::string type;
  std::string options;  // the superblock's
  bool operator==(const MountEntry&) const = default;
};

// Every well-formed line's entry, in order; paths with the kernel's octal escapes (\040 for a
// space) undone.
std::vector<MountEntry> parseMountinfo(const std::string& text);

// The mounts stacked directly on what / shows, but for those on directories a node has its own
// of (/dev, /proc, /sys, /tmp, /run, and what lies below them): the filesystems that a root of
// the node's own does not show by itself (a separate /home, /boot).
std::vector<std::string> mountsBelowRoot(const std::vector<MountEntry>& mounts);

}  // namespace netlab::nsmgr
