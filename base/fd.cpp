#include "base/fd.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "base/error.hpp"

namespace netlab {

void Fd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

Fd openFile(const std::string& path, int flags, unsigned mode) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) throw SystemError("open", path);
  return Fd(fd);
}

Fd openAt(const Fd& dir, const std::string& name, int flags, unsigned mode) {
  int fd = ::openat(dir.get(), name.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) throw SystemError("openat", name);
  return Fd(fd);
}

Fd openInRoot(const Fd& root, const std::string& path, int flags, const std::string& what) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT;
  int fd = static_cast<int>(::syscall(SYS_openat2, root.get(), path.c_str(), &how, sizeof how));
  if (fd < 0) throw SystemError("openat2", what);
  return Fd(fd);
}

Fd tryOpenBeneath(const Fd& dir, const std::string& path, int flags, unsigned mode) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.mode = (flags & O_CREAT) != 0 ? mode : 0;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  return Fd(static_cast<int>(::syscall(SYS_openat2, dir.get(), path.c_str(), &how, sizeof how)));
}

void writeAll(int fd, std::string_view data, const std::string& what) {
  while (!data.empty()) {
    ssize_t written = ::write(fd, data.data(), data.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      throw SystemError("write", what);
    }
    data.remove_prefix(static_cast<size_t>(written));
  }
}

std::string readAll(int fd, const std::string& what) {
  std::string content;
  char buffer[8192];
  for (;;) {
    ssize_t got = ::read(fd, buffer, sizeof buffer);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw SystemError("read", what);
    }
    if (got == 0) return content;
    content.append(buffer, static_cast<size_t>(got));
  }
}

std::string readWholeFile(const std::string& path) {
  return readAll(openFile(path, O_RDONLY).get(), path);
}

void writeWholeFile(const std::string& path, std::string_view data) {
  writeAll(openFile(path, O_WRONLY).get(), data, path);
}

}  // namespace netlab
