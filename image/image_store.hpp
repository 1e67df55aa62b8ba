// The image store (issue 20): root filesystems imported from OCI image archives or layouts and
// Docker `docker save` archives, each stored once, read-only to the nodes that use it as their
// lower layer. No registry is ever contacted. docs/images.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace netlab::image {

struct ImageInfo {
  std::string name;       // the store's name for it, [a-z0-9._-]
  std::string source;     // the file or directory it was imported from, absolute
  std::string format;     // "oci" or "docker"
  std::string reference;  // what the archive calls it ("docker.io/library/debian:12"), or ""
  std::vector<std::string> layers;  // their digests, bottom first
  std::string imported;             // when, UTC, ISO 8601
  uint64_t sizeBytes = 0;           // of the root filesystem's files
  std::filesystem::path root;       // STORE/NAME/rootfs
};

// /var/lib/netlab/images for root; for another user $XDG_DATA_HOME/netlab/images (by default
// ~/.local/share/netlab/images); NETLAB_IMAGE_DIR overrides both.
std::filesystem::path imageStoreDirectory();

std::vector<ImageInfo> listImages();  // by name
void removeImage(const std::string& name);
// The root filesystem of an imported image, for a node's lower layer; throws Error "image NAME
// is not imported (netlab image ls lists those that are)".
std::filesystem::path imageRoot(const std::string& name);

// The store's name for an image without --name: its reference, else the file's name less its
// archive extensions, lower-cased, a registry's docker.io/library/ or localhost/ prefix and an
// @digest dropped, every character but [a-z0-9._-] made '-' (':' and '/' included), runs of
// '-' made one, '.' and '-' trimmed from both ends, at most kMaxImageNameLength characters.
std::string imageNameFor(const std::string& reference, const std::filesystem::path& source);
// Throws Error unless isImageName(name) (base/image_name.hpp).
void checkImageName(const std::string& name);

// The images as JSON (`netlab image ls --format json`): a list of objects with the fields of
// ImageInfo, sizeBytes as a number.
std::string imagesToJson(const std::vector<ImageInfo>& images);

}  // namespace netlab::image
