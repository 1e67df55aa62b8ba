#include "nsmgr/kernel_features.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "base/error.hpp"
#include "base/fd.hpp"

namespace netlab::nsmgr {
namespace {

// Each probe makes the call so that it fails harmlessly where the kernel has it (EINVAL, EBADF),
// and with ENOSYS where it does not.
bool hasSystemCall(long result) {
  return result >= 0 || errno != ENOSYS;
}

bool hasPidfdOpen() {
  const long fd = ::syscall(SYS_pidfd_open, ::getpid(), 0);
  if (fd >= 0) Fd owned(static_cast<int>(fd));
  return hasSystemCall(fd);
}

bool hasPidfdSendSignal() {
  return hasSystemCall(::syscall(SYS_pidfd_send_signal, -1, 0, nullptr, 0));
}

bool hasOpenat2() {
  open_how how{};
  how.flags = O_RDONLY | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS;
  const long fd = ::syscall(SYS_openat2, -1, "", &how, sizeof how);
  if (fd >= 0) Fd owned(static_cast<int>(fd));
  return hasSystemCall(fd);
}

// first > last: refused with EINVAL before anything is closed or unshared.
bool hasCloseRangeUnshare() {
  return hasSystemCall(::syscall(SYS_close_range, 1U, 0U, CLOSE_RANGE_UNSHARE));
}

// setns(2) on a pidfd (5.8) cannot be told apart from a bad argument without entering a
// namespace: the release says it.
bool releaseAtLeast(int major, int minor) {
  utsname name{};
  if (::uname(&name) != 0) return true;  // unknown: the calls above have spoken
  int hasMajor = 0, hasMinor = 0;
  if (std::sscanf(name.release, "%d.%d", &hasMajor, &hasMinor) != 2) return true;
  return hasMajor > major || (hasMajor == major && hasMinor >= minor);
}

}  // namespace

std::vector<KernelFeature> kernelFeatures() {
  return {
      {"pidfd_open", "Linux 5.3", "nodes are found again and entered by pidfd", hasPidfdOpen()},
      {"pidfd_send_signal", "Linux 5.1", "nodes are signalled by pidfd only", hasPidfdSendSignal()},
      {"openat2", "Linux 5.6", "node files are opened without following links", hasOpenat2()},
      {"close_range with CLOSE_RANGE_UNSHARE", "Linux 5.9",
       "a starting node leaves netlab's file descriptors", hasCloseRangeUnshare()},
      {"setns on a pidfd", "Linux 5.8", "commands enter every namespace of a node at once",
       releaseAtLeast(5, 8)},
  };
}

std::string kernelRelease() {
  utsname name{};
  return ::uname(&name) == 0 ? std::string(name.release) : std::string();
}

std::vector<std::string> missingKernelFeatures() {
  std::vector<std::string> missing;
  for (const auto& feature : kernelFeatures()) {
    if (!feature.present) {
      missing.push_back(feature.name + " (" + feature.since + "): " + feature.purpose);
    }
  }
  return missing;
}

void requireKernelFeatures() {
  const std::vector<std::string> missing = missingKernelFeatures();
  if (missing.empty()) return;
  std::string message = "this kernel";
  if (const std::string release = kernelRelease(); !release.empty())
    message += " (" + release + ")";
  message += " lacks what netlab needs (Linux " + std::to_string(kMinimumKernelMajor) + "." +
             std::to_string(kMinimumKernelMinor) + " or later has it all):";
  for (const auto& feature : missing) message += "\n  " + feature;
  throw Error(message, ENOSYS);
}

}  // namespace netlab::nsmgr
