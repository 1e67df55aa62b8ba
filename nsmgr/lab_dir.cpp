#include "nsmgr/lab_dir.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <random>

#include "base/error.hpp"
#include "topo/names.hpp"

namespace netlab::nsmgr {
namespace {

void requireValidLabName(const std::string& lab) {
  // Names come from validated topologies, but also from the command line: check again here,
  // where they become paths.
  if (!topo::isValidLabName(lab)) throw Error("invalid lab name `" + lab + "`");
}

// The state root, created root-only on first use. It must be a real directory owned by root
// and writable by nobody else, or a local user could plant files netlab would trust.
Fd openStateRoot() {
  std::string root = stateRootPath();
  if (::mkdir(root.c_str(), 0700) < 0 && errno != EEXIST) throw SystemError("mkdir", root);
  Fd fd = openFile(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  struct stat info {};
  if (::fstat(fd.get(), &info) < 0) throw SystemError("fstat", root);
  if (info.st_uid != 0 || (info.st_mode & 0077) != 0) {
    throw Error(root + " must be owned by root with mode 0700 (it holds netlab's lab state)");
  }
  return fd;
}

void lock(const Fd& directory, LabDirectory::Lock mode, const std::string& path) {
  int operation = mode == LabDirectory::Lock::Shared ? LOCK_SH : LOCK_EX;
  while (::flock(directory.get(), operation) < 0) {
    if (errno != EINTR) throw SystemError("flock", path);
  }
}

bool stillLinked(const Fd& directory) {
  struct stat info {};
  return ::fstat(directory.get(), &info) == 0 && info.st_nlink > 0;
}

}  // namespace

std::string stateRootPath() {
  const char* overridden = std::getenv("NETLAB_RUN_DIR");
  return overridden && *overridden ? overridden : "/run/netlab";
}

std::vector<std::string> listLabDirectories() {
  Fd root = openStateRoot();
  std::vector<std::string> labs;
  for (const auto& entry : std::filesystem::directory_iterator(stateRootPath())) {
    std::string name = entry.path().filename();
    if (entry.is_directory() && topo::isValidLabName(name)) labs.push_back(name);
  }
  std::sort(labs.begin(), labs.end());
  return labs;
}

void removeAbandonedTemporaries(const std::string& lab) {
  requireValidLabName(lab);
  Fd root = openStateRoot();
  std::string prefix = "." + lab + ".new";
  for (const auto& entry : std::filesystem::directory_iterator(stateRootPath())) {
    std::string name = entry.path().filename();
    if (!name.starts_with(prefix)) continue;
    std::string_view digits = std::string_view(name).substr(prefix.size());
    pid_t pid = 0;
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), pid);
    if (error != std::errc() || end != digits.data() + digits.size() || pid <= 0) continue;
    // Its `up` died between making it and renaming it into place; a live one's is left alone.
    if (::kill(pid, 0) == 0 || errno != ESRCH) continue;
    ::unlinkat(root.get(), name.c_str(), AT_REMOVEDIR);  // empty: nothing is written before
  }
}

LabDirectory LabDirectory::create(const std::string& lab) {
  requireValidLabName(lab);
  Fd root = openStateRoot();
  // Built under a temporary name and locked before it is renamed into place, so whoever opens
  // the lab by name finds it already locked by this `up`.
  std::string temporary = "." + lab + ".new" + std::to_string(::getpid());
  if (::mkdirat(root.get(), temporary.c_str(), 0700) < 0) throw SystemError("mkdir", temporary);
  Fd fd = openAt(root, temporary, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  lock(fd, Lock::Exclusive, temporary);
  if (::renameat2(root.get(), temporary.c_str(), root.get(), lab.c_str(), RENAME_NOREPLACE) < 0) {
    int error = errno;
    ::unlinkat(root.get(), temporary.c_str(), AT_REMOVEDIR);
    if (error == EEXIST || error == ENOTEMPTY) {
      throw Error("lab `" + lab + "` already exists (it is running, or a crash left it): " +
                      "`netlab down " + lab + "` removes it",
                  EEXIST);
    }
    throw SystemError("rename", lab, error);
  }
  return LabDirectory(stateRootPath() + "/" + lab, std::move(fd));
}

std::optional<LabDirectory> LabDirectory::open(const std::string& lab, Lock mode) {
  requireValidLabName(lab);
  Fd root = openStateRoot();
  Fd fd(::openat(root.get(), lab.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return std::nullopt;
    throw SystemError("open", stateRootPath() + "/" + lab);
  }
  std::string path = stateRootPath() + "/" + lab;
  lock(fd, mode, path);
  if (!stillLinked(fd)) return std::nullopt;
  return LabDirectory(path, std::move(fd));
}

void LabDirectory::writeFile(const std::string& relative, std::string_view content, unsigned mode,
                             std::optional<uint32_t> owner) const {
  std::string temporary = relative + ".tmp";
  {
    Fd file = openAt(fd_, temporary, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, mode);
    writeAll(file.get(), content, pathOf(temporary));
    if (owner && ::fchown(file.get(), *owner, *owner) < 0) {
      throw SystemError("fchown", pathOf(temporary) + " to " + std::to_string(*owner));
    }
  }
  if (::renameat(fd_.get(), temporary.c_str(), fd_.get(), relative.c_str()) < 0) {
    throw SystemError("rename", pathOf(relative));
  }
}

std::optional<std::string> LabDirectory::readFile(const std::string& relative) const {
  Fd file(::openat(fd_.get(), relative.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!file) {
    if (errno == ENOENT) return std::nullopt;
    throw SystemError("open", pathOf(relative));
  }
  return readAll(file.get(), pathOf(relative));
}

void LabDirectory::makeDirectory(const std::string& relative) const {
  if (::mkdirat(fd_.get(), relative.c_str(), 0700) < 0 && errno != EEXIST) {
    throw SystemError("mkdir", pathOf(relative));
  }
}

void LabDirectory::remove() const {
  std::error_code error;
  std::filesystem::remove_all(path_, error);
  if (error) throw SystemError("remove", path_, error.value());
}

void LabDirectory::removeEntry(const std::string& relative) const {
  std::error_code error;
  std::filesystem::remove_all(pathOf(relative), error);
  if (error) throw SystemError("remove", pathOf(relative), error.value());
}

}  // namespace netlab::nsmgr
