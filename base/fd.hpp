// The one owner of file descriptors in netlab: every fd lands in an Fd the moment it exists.
#pragma once

#include <string>
#include <utility>

namespace netlab {

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  explicit operator bool() const { return valid(); }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// open(2) with O_CLOEXEC added; throws SystemError("open", path) on failure.
Fd openFile(const std::string& path, int flags, unsigned mode = 0);
// openat(2) with O_CLOEXEC added; throws SystemError("openat", what) on failure.
Fd openAt(const Fd& dir, const std::string& name, int flags, unsigned mode = 0);

// openat2(2) of path (absolute or not) with RESOLVE_IN_ROOT: symlinks and `..` resolve as if
// root were `/`; O_CLOEXEC added; throws SystemError("openat2", what) on failure.
Fd openInRoot(const Fd& root, const std::string& path, int flags, const std::string& what);

// openat(2) of path below dir with openat2's RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS: no symlink
// (the last component's included), no `..` out of dir, no magic link is followed; O_CLOEXEC
// added. An invalid Fd on failure, errno telling why (ENOENT, ELOOP for a symlink, EXDEV).
Fd tryOpenBeneath(const Fd& dir, const std::string& path, int flags, unsigned mode = 0);

// A whole file by path: opened, read or written to its end, closed; throws SystemError naming
// the path.
std::string readWholeFile(const std::string& path);
void writeWholeFile(const std::string& path, std::string_view data);

// Writes all of data to fd, retrying on short writes and EINTR; throws SystemError naming what.
void writeAll(int fd, std::string_view data, const std::string& what);
// Reads fd to its end; throws SystemError naming what.
std::string readAll(int fd, const std::string& what);

}  // namespace netlab
