// What the image store's directory holds besides its images, shared by the store
// (image_store.cpp) and imports (image_import.cpp).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string_view>

#include "base/fd.hpp"
#include "image/image_store.hpp"

namespace netlab::image {

// Names in the store that are no image: its lock and the work of imports and removals under
// way, or of ones killed, which the next import or removal clears away.
inline constexpr std::string_view kImportingPrefix = ".importing-";
inline constexpr std::string_view kRemovingPrefix = ".removing-";
// An image's directory: its record and its root filesystem.
inline constexpr const char* kInfoName = "image.json";
inline constexpr const char* kRootName = "rootfs";

// One import or removal at a time, for every user of the store: each may clear what a killed
// one left. Listing needs no lock: an image appears and goes by one rename.
class StoreLock {
 public:
  explicit StoreLock(const std::filesystem::path& store);

 private:
  Fd fd_;
};

// What imports and removals that were killed left, under the store's lock: no one works on it.
void clearLeftovers(const std::filesystem::path& store);

bool isRoot();

// Removes path and all below it, never following a symbolic link; directories an ordinary user
// extracted read-only (0555, as images have) are made writable first. Nothing there is fine.
void removeTree(const std::filesystem::path& path);

// image.json's content.
nlohmann::json toJson(const ImageInfo& info);

}  // namespace netlab::image
