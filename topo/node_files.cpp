#include "topo/node_files.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include "base/error.hpp"
#include "topo/lab.hpp"

namespace netlab::topo {
namespace {

// An image that is a path (it holds a '/') is a root filesystem directory; else an imported
// image's name (RootFilesystem::image).
std::optional<std::string> imageRootOf(const std::string& image, const ImageRoots& images) {
  if (image.find('/') != std::string::npos) return image;
  return images ? images(image) : std::nullopt;
}

}  // namespace

std::optional<NodeFiles> NodeFiles::of(const DraftNode& node, const ImageRoots& images) {
  if (!node.settings.image) {
    return NodeFiles(openFile("/", O_PATH | O_DIRECTORY), "on this machine", true);
  }
  const std::string& image = node.settings.image->value;
  const auto root = imageRootOf(image, images);
  if (!root) return std::nullopt;
  try {
    return NodeFiles(openFile(*root, O_PATH | O_DIRECTORY), fmt::format("in image `{}`", image),
                     false);
  } catch (const SystemError&) {
    // A missing directory has its error from parsing already, a missing image's root from
    // bring-up.
    return std::nullopt;
  }
}

Fd NodeFiles::open(const std::string& path) const {
  try {
    return openInRoot(root_, path, O_PATH, path);
  } catch (const SystemError&) {
    return Fd();
  }
}

bool NodeFiles::exists(const std::string& path) const {
  return open(path).valid();
}

bool NodeFiles::runnable(const std::string& path) const {
  const Fd file = open(path);
  return file && ::faccessat(file.get(), "", X_OK, AT_EMPTY_PATH) == 0;
}

}  // namespace netlab::topo
