#include "nsmgr/network_pin.hpp"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>

#include "base/error.hpp"

namespace netlab::nsmgr {
namespace {

std::string pinOf(const std::string& node) {
  return "nodes/" + node + "/netns";
}

// The kernel's own word on whether the pin holds a namespace: nsfs, not the empty file below.
bool isNamespace(const Fd& file) {
  return ::ioctl(file.get(), NS_GET_NSTYPE) >= 0;
}

}  // namespace

void pinNetwork(const LabDirectory& directory, const std::string& node, const Fd& netns) {
  unpinNetwork(directory, node);
  directory.writeFile(pinOf(node), "");
  const std::string target = directory.pathOf(pinOf(node));
  const std::string source = "/proc/self/fd/" + std::to_string(netns.get());
  if (::mount(source.c_str(), target.c_str(), nullptr, MS_BIND, nullptr) < 0) {
    throw SystemError("mount", "bind of the network namespace of node " + node + " on " + target);
  }
}

std::optional<Fd> openPinnedNetwork(const LabDirectory& directory, const std::string& node) {
  Fd pin(::open(directory.pathOf(pinOf(node)).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!pin) {
    if (errno == ENOENT) return std::nullopt;
    throw SystemError("open", directory.pathOf(pinOf(node)));
  }
  if (!isNamespace(pin)) return std::nullopt;  // left by a stop killed before its mount
  return pin;
}

bool unpinNetwork(const LabDirectory& directory, const std::string& node) {
  const std::string target = directory.pathOf(pinOf(node));
  bool pinned = ::umount2(target.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) == 0;
  // EINVAL: not a mount point; ENOENT: no pin at all.
  if (!pinned && errno != EINVAL && errno != ENOENT) throw SystemError("umount", target);
  if (::unlink(target.c_str()) < 0 && errno != ENOENT) throw SystemError("unlink", target);
  return pinned;
}

}  // namespace netlab::nsmgr
