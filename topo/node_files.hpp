// What a node will find in its root filesystem, judged from the host before `up`: the host's
// root, or the node's image (a root filesystem directory, or an imported image's). Paths resolve
// inside that root, symbolic links against it (openat2's RESOLVE_IN_ROOT), as they will in the
// node: an image's /usr/bin/x -> /bin/busybox is the image's busybox, never the host's.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "base/fd.hpp"

namespace netlab::topo {

struct DraftNode;

// Where an imported image's root filesystem is (image::imageRoot, which topo may not call:
// docs/architecture.md); nullopt when it is not imported.
using ImageRoots = std::function<std::optional<std::string>(const std::string& name)>;

class NodeFiles {
 public:
  // nullopt when there is nothing to look in: an image not imported (bring-up refuses the node,
  // naming it), or images unset (no finder given) for one that is named.
  static std::optional<NodeFiles> of(const DraftNode& node, const ImageRoots& images);

  bool exists(const std::string& path) const;
  // Exists and this user may execute it (access(2)'s X_OK).
  bool runnable(const std::string& path) const;
  // For messages: "on this machine", "in image `frr-8`", "in image `/srv/rootfs`".
  const std::string& where() const { return where_; }
  bool isHost() const { return host_; }

 private:
  NodeFiles(Fd root, std::string where, bool host)
      : root_(std::move(root)), where_(std::move(where)), host_(host) {}
  // An O_PATH fd of path inside the root; invalid when it cannot be reached.
  Fd open(const std::string& path) const;

  Fd root_;
  std::string where_;
  bool host_;
};

}  // namespace netlab::topo
