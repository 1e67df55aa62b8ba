// Where a running lab's state lives: one private directory per lab under the state root
// (/run/netlab; $XDG_RUNTIME_DIR/netlab for an ordinary user, docs/rootless.md; or
// $NETLAB_RUN_DIR), locked with flock while a command works on the lab.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/fd.hpp"

namespace netlab::nsmgr {

std::string stateRootPath();

// The names of the labs that have a directory (running, or left by a crash).
std::vector<std::string> listLabDirectories();

// Removes the temporaries (.LAB.new<pid>) left by an `up` of LAB killed before it renamed its
// directory into place.
void removeAbandonedTemporaries(const std::string& lab);

class LabDirectory {
 public:
  enum class Lock { Shared, Exclusive };

  // Creates and exclusively locks the directory of a new lab; throws when the lab exists.
  static LabDirectory create(const std::string& lab);
  // Opens and locks an existing lab's directory; nullopt when there is no such lab (also when
  // it was removed while this waited for the lock).
  static std::optional<LabDirectory> open(const std::string& lab, Lock lock);

  const std::string& path() const { return path_; }
  std::string pathOf(const std::string& relative) const { return path_ + "/" + relative; }

  // Writes a file atomically (a temporary, then rename), so readers never see half of it;
  // owned by root, or by owner (as uid and gid) when given.
  void writeFile(const std::string& relative, std::string_view content, unsigned mode = 0600,
                 std::optional<uint32_t> owner = std::nullopt) const;
  // A regular file of netlab's below the directory, never through a symlink; nullopt when
  // there is none. Throws on a symlink, a FIFO or device, or a file not owned by this user.
  std::optional<std::string> readFile(const std::string& relative) const;
  // The names in a directory of the lab (itself netlab's, reached without a symlink), sorted;
  // empty when it does not exist.
  std::vector<std::string> entries(const std::string& relative) const;
  void makeDirectory(const std::string& relative) const;
  // Opens (or with O_CREAT makes) a file of the lab below the directory, never through a
  // symlink; throws naming it.
  Fd openFile(const std::string& relative, int flags, unsigned mode = 0600) const {
    return openBeneath(relative, flags, mode);
  }
  // Removes the directory with everything in it; the lock is held until this object dies.
  void remove() const;
  // Removes one entry of the directory (a file, or a directory with everything in it).
  void removeEntry(const std::string& relative) const;

 private:
  LabDirectory(std::string path, Fd fd) : path_(std::move(path)), fd_(std::move(fd)) {}
  Fd openBeneath(const std::string& relative, int flags, unsigned mode = 0) const;
  std::string path_;
  Fd fd_;  // the directory itself, flock'ed
};

}  // namespace netlab::nsmgr
