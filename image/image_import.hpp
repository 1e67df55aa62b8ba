// Importing an image into the store (issue 20): the layers of an OCI or Docker image archive
// applied in order with libarchive. Apart from the store itself (image_store.hpp) because
// libarchive and what it loads (libxml2, ICU) would cost every start of netlab milliseconds:
// only the netlab-image helper links it. docs/images.md.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "image/image_store.hpp"

namespace netlab::image {

// Called before each layer is applied: its number (from 1), how many there are, its digest.
using ImportProgress = std::function<void(size_t layer, size_t layers, const std::string& digest)>;

// Imports the image in source (an OCI archive or layout directory, or a docker save archive)
// under name, or the name derived from its reference or file (imageNameFor). Built in a
// temporary directory of the store and renamed into place: a failed import leaves nothing.
// Throws Error "importing SOURCE: …" naming the layer, the entry and the reason.
ImageInfo importImage(const std::filesystem::path& source, std::optional<std::string> name,
                      const ImportProgress& progress = {});

}  // namespace netlab::image
