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
#include <memory>
#include <random>

#include <dirent.h>
#include <fmt/format.h>

#include "base/error.hpp"
#include "nsmgr/rootless.hpp"
#include "topo/names.hpp"

namespace netlab::nsmgr {
namespace {

void requireValidLabName(const std::string& lab) {
  // Names come from validated topologies, but also from the command line: check again here,
  // where they become paths.
  if (!topo::isValidLabName(lab)) throw Error("invalid lab name `" + lab + "`");
}

// The state root, created private on first use. It must be a real directory owned by netlab's
// user (root, or the user of a rootless netlab) and open to nobody else, or another local user
// could plant files netlab would trust, or read them. Inside a rootless lab's user namespace the
// user is uid 0, and their directory shows as owned by 0.
Fd openStateRoot() {
  std::string root = stateRootPath();
  if (::mkdir(root.c_str(), 0700) < 0 && errno != EEXIST) throw SystemError("mkdir", root);
  Fd fd = openFile(root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  struct stat info {};
  if (::fstat(fd.get(), &info) < 0) throw SystemError("fstat", root);
  if (info.st_uid != ::geteuid() || (info.st_mode & 0077) != 0) {
    const std::string owner =
        rootless() ? "you (uid " + std::to_string(::geteuid()) + " here)" : "root";
    throw Error(fmt::format("{} must be owned by {} with mode 0700 (it holds netlab's lab state); "
                            "it is owned by uid {} with mode {:04o}",
                            root, owner, info.st_uid, info.st_mode & 07777),
                EPERM);
  }
  return fd;
}

void lock(const Fd& directory, LabDirectory::Lock mode, const std::string& path) {
  int operation = mode == LabDirectory::Lock::Shared ? LOCK_SH : LOCK_EX;
  while (::flock(directory.get(), operation) < 0) {
    if (errno != EINTR) throw SystemError("flock", path);
  }
}

// Everything of a lab's state is netlab's own: made by this user, writable by nobody else. A
// directory or file planted by another user (or left with a loose mode) is refused, not obeyed.
void requireOwnEntry(const Fd& fd, const std::string& path, bool directory) {
  struct stat info {};
  if (::fstat(fd.get(), &info) < 0) throw SystemError("fstat", path);
  if (directory ? !S_ISDIR(info.st_mode) : !S_ISREG(info.st_mode)) {
    throw Error(path + ": expected a " + (directory ? "directory" : "regular file") +
                    " of netlab's; refusing to use it",
                directory ? ENOTDIR : EINVAL);
  }
  if (info.st_uid != ::geteuid() || (info.st_mode & 0022) != 0) {
    throw Error(fmt::format("{}: owned by uid {} with mode {:04o}, not netlab's (uid {}, "
                            "writable by it alone); refusing to use it",
                            path, info.st_uid, info.st_mode & 07777, ::geteuid()),
                EPERM);
  }
}

// The entries of an open directory, sorted; with onlyDirectories, the directories alone (not
// through d_type, and never a symlink to one).
std::vector<std::string> entriesOf(Fd directory, const std::string& path, bool onlyDirectories) {
  std::unique_ptr<DIR, int (*)(DIR*)> stream(::fdopendir(directory.get()), &::closedir);
  if (!stream) throw SystemError("fdopendir", path);
  directory.release();  // closedir closes it
  std::vector<std::string> names;
  while (const dirent* entry = ::readdir(stream.get())) {
    const std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    struct stat info {};
    if (!onlyDirectories ||
        (::fstatat(::dirfd(stream.get()), entry->d_name, &info, AT_SYMLINK_NOFOLLOW) == 0 &&
         S_ISDIR(info.st_mode))) {
      names.emplace_back(name);
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

bool stillLinked(const Fd& directory) {
  struct stat info {};
  return ::fstat(directory.get(), &info) == 0 && info.st_nlink > 0;
}

}  // namespace

std::string stateRootPath() {
  const char* overridden = std::getenv("NETLAB_RUN_DIR");
  if (overridden && *overridden) return overridden;
  if (!rootless()) return "/run/netlab";
  // An ordinary user's labs are theirs alone, in the runtime directory their login made
  // (private to them, emptied when they log out for good), so two users may run labs of the
  // same name.
  const char* runtime = std::getenv("XDG_RUNTIME_DIR");
  if (!runtime || *runtime != '/') {
    throw Error(
        "netlab without root keeps its labs in $XDG_RUNTIME_DIR/netlab, and "
        "XDG_RUNTIME_DIR is not set to a path (log in through a session that sets it, or "
        "set NETLAB_RUN_DIR to a directory of yours)",
        ENOENT);
  }
  return std::string(runtime) + "/netlab";
}

std::vector<std::string> listLabDirectories() {
  std::vector<std::string> labs = entriesOf(openStateRoot(), stateRootPath(), true);
  std::erase_if(labs, [](const std::string& name) { return !topo::isValidLabName(name); });
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
  requireOwnEntry(fd, path, true);
  lock(fd, mode, path);
  if (!stillLinked(fd)) return std::nullopt;
  return LabDirectory(path, std::move(fd));
}

void LabDirectory::writeFile(const std::string& relative, std::string_view content, unsigned mode,
                             std::optional<uint32_t> owner) const {
  std::string temporary = relative + ".tmp";
  try {
    {
      Fd file = openBeneath(temporary, O_WRONLY | O_CREAT | O_TRUNC, mode);
      writeAll(file.get(), content, pathOf(temporary));
      if (owner && ::fchown(file.get(), *owner, *owner) < 0) {
        throw SystemError("fchown", pathOf(temporary) + " to " + std::to_string(*owner));
      }
    }
    if (::renameat(fd_.get(), temporary.c_str(), fd_.get(), relative.c_str()) < 0) {
      throw SystemError("rename", pathOf(relative));
    }
  } catch (const Error&) {
    // A half-written file (a full disk) is not left behind; the old one stands.
    ::unlinkat(fd_.get(), temporary.c_str(), 0);
    throw;
  }
}

std::optional<std::string> LabDirectory::readFile(const std::string& relative) const {
  // Non-blocking: a FIFO planted in place of a file must not hang the reader.
  Fd file = tryOpenBeneath(fd_, relative, O_RDONLY | O_NONBLOCK | O_NOCTTY);
  if (!file) {
    if (errno == ENOENT) return std::nullopt;
    throw SystemError("openat2",
                      pathOf(relative) + " (a symlink or outside the lab: ELOOP, EXDEV)");
  }
  requireOwnEntry(file, pathOf(relative), false);
  return readAll(file.get(), pathOf(relative));
}

Fd LabDirectory::openBeneath(const std::string& relative, int flags, unsigned mode) const {
  Fd file = tryOpenBeneath(fd_, relative, flags, mode);
  if (!file) throw SystemError("openat2", pathOf(relative));
  return file;
}

std::vector<std::string> LabDirectory::entries(const std::string& relative) const {
  Fd directory = tryOpenBeneath(fd_, relative, O_RDONLY | O_DIRECTORY);
  if (!directory) {
    if (errno == ENOENT) return {};
    throw SystemError("openat2", pathOf(relative) + " (a symlink or not a directory)");
  }
  requireOwnEntry(directory, pathOf(relative), true);
  return entriesOf(std::move(directory), pathOf(relative), false);
}

void LabDirectory::makeDirectory(const std::string& relative) const {
  // The parent is opened without following links, so "nodes/r1" is made in the lab's own
  // `nodes`, never through a symlink planted there.
  const size_t slash = relative.rfind('/');
  Fd parentFd;
  const Fd* parent = &fd_;
  if (slash != std::string::npos) {
    parentFd = openBeneath(relative.substr(0, slash), O_RDONLY | O_DIRECTORY);
    parent = &parentFd;
  }
  const std::string name = slash == std::string::npos ? relative : relative.substr(slash + 1);
  if (::mkdirat(parent->get(), name.c_str(), 0700) < 0 && errno != EEXIST) {
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
