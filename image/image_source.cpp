#include "image/image_source.hpp"

#include <fcntl.h>
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <optional>

#include "base/error.hpp"
#include "image/digest.hpp"

namespace netlab::image {
namespace {

using nlohmann::json;

constexpr const char* kOciIndexMediaType = "application/vnd.oci.image.index.v1+json";
constexpr const char* kDockerListMediaType =
    "application/vnd.docker.distribution.manifest.list.v2+json";
// An index names manifests that may be indexes themselves (a multi-platform image); more
// levels than this is a loop or a hostile archive.
constexpr int kMaxIndexDepth = 4;

std::optional<std::string> readIfPresent(const Fd& dir, const std::string& path) {
  try {
    return readAll(openInRoot(dir, path, O_RDONLY, path).get(), path);
  } catch (const SystemError& error) {
    if (error.errnoValue() == ENOENT) return std::nullopt;
    throw;
  }
}

json parseJson(const std::string& text, const std::string& what) {
  json document = json::parse(text, nullptr, false);
  if (document.is_discarded()) throw Error(what + " is not valid JSON", EINVAL);
  return document;
}

const json& member(const json& object, const char* key, json::value_t type,
                   const std::string& where) {
  if (!object.is_object() || !object.contains(key) || object[key].type() != type) {
    throw Error(fmt::format("{} has no \"{}\" of the right type", where, key), EINVAL);
  }
  return object[key];
}

std::string stringAt(const json& object, const char* key, const std::string& where) {
  return member(object, key, json::value_t::string, where).get<std::string>();
}

const json& firstOf(const json& array, const std::string& where) {
  if (array.empty()) throw Error(where + " is empty: the archive holds no image", EINVAL);
  return array.front();
}

std::string annotation(const json& descriptor, const char* key) {
  if (!descriptor.contains("annotations") || !descriptor["annotations"].is_object()) return "";
  const json& annotations = descriptor["annotations"];
  return annotations.contains(key) && annotations[key].is_string()
             ? annotations[key].get<std::string>()
             : "";
}

// containerd (docker save since Docker 25) puts the whole reference in its own annotation and
// only the tag in the OCI one; skopeo and podman write the OCI one.
std::string ociReference(const json& descriptor) {
  std::string reference = annotation(descriptor, "io.containerd.image.name");
  return reference.empty() ? annotation(descriptor, "org.opencontainers.image.ref.name")
                           : reference;
}

// An index rather than a manifest: by its media type, which the spec makes optional, else by
// having manifests and no layers.
bool isIndex(const json& blob) {
  const std::string mediaType = blob.is_object() ? blob.value("mediaType", "") : "";
  if (mediaType == kOciIndexMediaType || mediaType == kDockerListMediaType) return true;
  return mediaType.empty() && blob.is_object() && blob.contains("manifests") &&
         !blob.contains("layers");
}

// A digest a JSON file names, its form checked there.
std::string digestAt(const json& descriptor, const std::string& where) {
  std::string digest = stringAt(descriptor, "digest", where);
  withContext(where, [&] { checkDigest(digest); });
  return digest;
}

// A blob that names itself by digest (blobs/sha256/HEX), parsed once it hashes to it.
json readBlobJson(const Fd& dir, const std::string& digest, const std::string& namedBy) {
  auto text = readIfPresent(dir, blobPath(digest));
  if (!text) {
    throw Error(fmt::format("{} names blob {}, which is missing", namedBy, digest), ENOENT);
  }
  withContext("blob " + digest, [&] { checkContent(sha256Digest(*text), digest); });
  return parseJson(*text, "blob " + digest);
}

// The config's rootfs.diff_ids: what each layer's tar, uncompressed, hashes to.
void addDiffIds(ImageLayout& layout, const json& config, const std::string& where) {
  const json& rootfs = member(config, "rootfs", json::value_t::object, where);
  const json& diffIds = member(rootfs, "diff_ids", json::value_t::array, where + "'s rootfs");
  if (diffIds.size() != layout.layers.size()) {
    throw Error(fmt::format("{} has {} rootfs.diff_ids for {} layers", where, diffIds.size(),
                            layout.layers.size()),
                EINVAL);
  }
  for (size_t i = 0; i < diffIds.size(); ++i) {
    const std::string at = fmt::format("{}'s rootfs.diff_ids[{}]", where, i);
    if (!diffIds[i].is_string()) throw Error(at + " is not a string", EINVAL);
    layout.layers[i].diffId = diffIds[i].get<std::string>();
    withContext(at, [&] { checkDigest(layout.layers[i].diffId); });
  }
}

void addLayers(ImageLayout& layout, const json& manifest, const std::string& where) {
  for (const json& layer : member(manifest, "layers", json::value_t::array, where)) {
    const std::string digest = digestAt(layer, where + "'s layer");
    layout.layers.push_back({.path = blobPath(digest), .digest = digest, .diffId = ""});
  }
}

void addManifest(ImageLayout& layout, const Fd& dir, const json& manifest,
                 const std::string& where) {
  addLayers(layout, manifest, where);
  const json& config = member(manifest, "config", json::value_t::object, where);
  const std::string digest = digestAt(config, where + "'s config");
  addDiffIds(layout, readBlobJson(dir, digest, where), "config " + digest);
}

ImageLayout readOci(const Fd& dir, const std::string& indexText) {
  json index = parseJson(indexText, "index.json");
  std::string where = "index.json";
  ImageLayout layout{"oci", "", {}};
  for (int depth = 0;; ++depth) {
    const json& descriptor =
        firstOf(member(index, "manifests", json::value_t::array, where), where);
    if (layout.reference.empty()) layout.reference = ociReference(descriptor);
    const std::string digest = digestAt(descriptor, where + "'s manifest");
    json blob = readBlobJson(dir, digest, where);
    if (!isIndex(blob)) {
      addManifest(layout, dir, blob, "manifest " + digest);
      return layout;
    }
    if (depth == kMaxIndexDepth) throw Error("index.json nests indexes too deep", ELOOP);
    index = std::move(blob);  // descriptor, which pointed into the old one, is not used again
    where = "index " + digest;
  }
}

// Docker 25 and later lay blobs out as OCI does: the path holds the digest. Older archives name
// layers ID/layer.tar and the config ID.json, by no digest of their content.
std::string digestOfPath(const std::string& path) {
  const std::string prefix = "blobs/sha256/";
  if (path.rfind(prefix, 0) != 0) return "";
  std::string digest = "sha256:" + path.substr(prefix.size());
  withContext("manifest.json", [&] { checkDigest(digest); });
  return digest;
}

void addDockerConfig(ImageLayout& layout, const Fd& dir, const std::string& path) {
  const std::string digest = digestOfPath(path);
  if (!digest.empty()) {
    addDiffIds(layout, readBlobJson(dir, digest, "manifest.json"), "config " + digest);
    return;
  }
  auto text = readIfPresent(dir, path);
  if (!text) {
    throw Error(fmt::format("manifest.json names config {}, which is missing", path), ENOENT);
  }
  addDiffIds(layout, parseJson(*text, "config " + path), "config " + path);
}

ImageLayout readDocker(const Fd& dir, const std::string& manifestText) {
  const json manifests = parseJson(manifestText, "manifest.json");
  if (!manifests.is_array()) throw Error("manifest.json is not a list of images", EINVAL);
  const json& image = firstOf(manifests, "manifest.json");
  ImageLayout layout{"docker", "", {}};
  if (image.contains("RepoTags") && image["RepoTags"].is_array() && !image["RepoTags"].empty() &&
      image["RepoTags"][0].is_string()) {
    layout.reference = image["RepoTags"][0].get<std::string>();
  }
  for (const json& path : member(image, "Layers", json::value_t::array, "manifest.json")) {
    if (!path.is_string()) throw Error("manifest.json has a layer that is not a path", EINVAL);
    const std::string layer = path.get<std::string>();
    layout.layers.push_back({.path = layer, .digest = digestOfPath(layer), .diffId = ""});
  }
  addDockerConfig(layout, dir, stringAt(image, "Config", "manifest.json"));
  return layout;
}

}  // namespace

std::string blobPath(const std::string& digest) {
  checkDigest(digest);
  const size_t colon = digest.find(':');
  return fmt::format("blobs/{}/{}", digest.substr(0, colon), digest.substr(colon + 1));
}

std::string layerName(const Layer& layer) {
  return layer.digest.empty() ? layer.path : layer.digest;
}

ImageLayout readLayout(const Fd& dir) {
  auto index = readIfPresent(dir, "index.json");
  if (index && readIfPresent(dir, "oci-layout")) return readOci(dir, *index);
  if (auto manifest = readIfPresent(dir, "manifest.json")) return readDocker(dir, *manifest);
  throw Error(
      "neither an OCI image (it has no oci-layout and index.json) nor a Docker archive (it has "
      "no manifest.json)",
      EINVAL);
}

Fd openLayoutFile(const Fd& dir, const Layer& layer) {
  try {
    return openInRoot(dir, layer.path, O_RDONLY, layer.path);
  } catch (const SystemError& error) {
    if (error.errnoValue() != ENOENT) throw;
    throw Error(fmt::format("the manifest names blob {}, which is missing", layer.path), ENOENT);
  }
}

}  // namespace netlab::image
