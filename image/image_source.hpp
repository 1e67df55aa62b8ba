// What an image archive (or layout directory) holds: its format, its reference, where its
// layers are and what they must hash to, read from an OCI image layout (oci-layout, index.json,
// blobs/sha256/HEX) or a `docker save` archive (manifest.json). Every JSON blob read is checked
// against its digest; the layers are checked as they are applied (image_import.cpp).
#pragma once

#include <string>
#include <vector>

#include "base/fd.hpp"

namespace netlab::image {

struct Layer {
  std::string path;  // relative to the layout's root
  // The blob's "sha256:HEX" as stored (compressed or not); "" in a Docker archive before Docker
  // 25, whose layers are named ID/layer.tar.
  std::string digest;
  std::string diffId;  // "sha256:HEX" of the tar uncompressed: the config's rootfs.diff_ids
};

// How messages and image.json name a layer: its digest, else its path.
std::string layerName(const Layer& layer);

struct ImageLayout {
  std::string format;         // "oci" or "docker"
  std::string reference;      // "docker.io/library/debian:12"; "" when the archive names none
  std::vector<Layer> layers;  // bottom first
};

// Reads the layout rooted at dir: OCI when it has oci-layout and index.json (its first
// manifest, through nested indexes), else Docker's manifest.json (its first image), and the
// image's config. Throws Error saying which file is missing or wrong, or which blob does not hash
// to its digest.
ImageLayout readLayout(const Fd& dir);

// The file at a path of the layout, read-only; symbolic links (docker save links identical
// layers) resolve inside the layout. Throws Error naming the blob when it is missing.
Fd openLayoutFile(const Fd& dir, const Layer& layer);

// blobs/sha256/HEX for a digest "sha256:HEX"; throws Error for anything else (checkDigest: a
// digest is no place for a `/` or a `..`).
std::string blobPath(const std::string& digest);

}  // namespace netlab::image
