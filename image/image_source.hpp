// What an image archive (or layout directory) holds: its format, its reference and where its
// layers are, read from an OCI image layout (oci-layout, index.json, blobs/ALGORITHM/ENCODED) or
// a `docker save` archive (manifest.json).
#pragma once

#include <string>
#include <vector>

#include "base/fd.hpp"

namespace netlab::image {

struct Layer {
  std::string digest;  // "sha256:…"; in a Docker archive without digests, the layer's path
  std::string path;    // relative to the layout's root
};

struct ImageLayout {
  std::string format;         // "oci" or "docker"
  std::string reference;      // "docker.io/library/debian:12"; "" when the archive names none
  std::vector<Layer> layers;  // bottom first
};

// Reads the layout rooted at dir: OCI when it has oci-layout and index.json (its first
// manifest, through nested indexes), else Docker's manifest.json (its first image). Throws Error
// saying which file is missing or wrong.
ImageLayout readLayout(const Fd& dir);

// The file at a path of the layout, read-only; symbolic links (docker save links identical
// layers) resolve inside the layout. Throws Error naming the blob when it is missing.
Fd openLayoutFile(const Fd& dir, const Layer& layer);

// blobs/ALGORITHM/ENCODED for a digest "ALGORITHM:ENCODED"; throws Error for anything else (a
// digest is no place for a `/` or a `..`).
std::string blobPath(const std::string& digest);

}  // namespace netlab::image
