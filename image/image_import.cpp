#include "image/image_import.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "base/fd.hpp"
#include "image/digest.hpp"
#include "image/image_source.hpp"
#include "image/image_store.hpp"
#include "image/layer.hpp"
#include "image/store_files.hpp"

namespace netlab::image {
namespace {

namespace fs = std::filesystem;

// Its owner's alone: root's images keep their setuid programs (as root, owners and modes are
// the archive's), which no other user of the host may reach and run. Nodes see an image through
// their own mounts, not through this path.
fs::path createStore() {
  fs::path store = imageStoreDirectory();
  std::error_code error;
  if (fs::create_directories(store, error)) fs::permissions(store, fs::perms::owner_all, error);
  if (error) throw SystemError("mkdir", store, error.value());
  return store;
}

// A directory of the store's own for one import, removed with all in it at the end whatever
// happens; on success the image inside has been renamed out of it first.
class WorkDirectory {
 public:
  explicit WorkDirectory(const fs::path& store) {
    std::string pattern = (store / kImportingPrefix).string() + "XXXXXX";
    if (!::mkdtemp(pattern.data())) throw SystemError("mkdtemp", pattern);
    path_ = pattern;
  }
  ~WorkDirectory() {
    try {
      removeTree(path_);
    } catch (const Error&) {
      // Left for the next import to clear (clearLeftovers); the error in flight matters more.
    }
  }
  WorkDirectory(const WorkDirectory&) = delete;
  WorkDirectory& operator=(const WorkDirectory&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void makeDirectory(const fs::path& path) {
  if (::mkdir(path.c_str(), 0755) < 0) throw SystemError("mkdir", path);
}

// The layout to read: the directory given, or the archive extracted into the work directory.
Fd openLayout(const fs::path& source, const fs::path& work) {
  if (fs::is_directory(source)) return openFile(source, O_PATH | O_DIRECTORY);
  const fs::path unpacked = work / "source";
  makeDirectory(unpacked);
  extractArchive(openFile(source, O_RDONLY).get(), unpacked, {.whiteouts = false, .owners = false});
  return openFile(unpacked, O_PATH | O_DIRECTORY);
}

std::string utcNow() {
  const time_t now = ::time(nullptr);
  tm utc{};
  ::gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

uint64_t regularFileBytes(const fs::path& root) {
  uint64_t bytes = 0;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.is_regular_file() && !entry.is_symlink()) bytes += entry.file_size();
  }
  return bytes;
}

void refuseTaken(const fs::path& store, const std::string& name) {
  if (fs::exists(fs::symlink_status(store / name))) {
    throw Error(fmt::format("an image named {} is imported already: `netlab image rm {}` "
                            "first, or give another --name",
                            name, name),
                EEXIST);
  }
}

// The blob's digest, where it has one, is of its bytes as stored; its diff_id of the tar they
// hold. Checked once the layer is applied: a mismatch leaves only the work directory to remove.
void checkLayer(const Layer& layer, const ArchiveDigests& read) {
  if (!layer.digest.empty()) checkContent(read.stored, layer.digest);
  if (read.decompressed != layer.diffId) {
    throw Error(fmt::format("its tar hashes to {}, not to its diff_id {} (the image's config)",
                            read.decompressed, layer.diffId),
                EBADMSG);
  }
}

void applyLayers(const Fd& layout, const ImageLayout& image, const fs::path& rootfs,
                 const ImportProgress& progress) {
  for (size_t i = 0; i < image.layers.size(); ++i) {
    const Layer& layer = image.layers[i];
    const std::string name = layerName(layer);
    if (progress) progress(i + 1, image.layers.size(), name);
    withContext(fmt::format("layer {} of {} ({})", i + 1, image.layers.size(), name), [&] {
      checkLayer(layer, extractArchive(openLayoutFile(layout, layer).get(), rootfs,
                                       {.whiteouts = true, .owners = isRoot()}));
    });
  }
}

ImageInfo importInto(const fs::path& store, const fs::path& source, std::optional<std::string> name,
                     const ImportProgress& progress) {
  if (name) checkImageName(*name);
  struct stat status;
  if (::stat(source.c_str(), &status) < 0) throw Error(errnoText(errno), errno);
  const StoreLock lock(store);
  clearLeftovers(store);
  if (name) refuseTaken(store, *name);
  const WorkDirectory work(store);
  const Fd layout = openLayout(source, work.path());
  const ImageLayout image = readLayout(layout);
  const std::string imageName = name ? *name : imageNameFor(image.reference, source);
  checkImageName(imageName);
  refuseTaken(store, imageName);
  const fs::path built = work.path() / "image";
  makeDirectory(built);
  makeDirectory(built / kRootName);
  applyLayers(layout, image, built / kRootName, progress);
  std::vector<std::string> digests;
  for (const Layer& layer : image.layers) digests.push_back(layerName(layer));
  const ImageInfo info{.name = imageName,
                       .source = source.string(),
                       .format = image.format,
                       .reference = image.reference,
                       .layers = digests,
                       .imported = utcNow(),
                       .sizeBytes = regularFileBytes(built / kRootName),
                       .root = store / imageName / kRootName};
  const std::string infoPath = built / kInfoName;
  writeAll(openFile(infoPath, O_WRONLY | O_CREAT | O_EXCL, 0644).get(), toJson(info).dump(2) + "\n",
           infoPath);
  if (::rename(built.c_str(), (store / info.name).c_str()) < 0) {
    throw SystemError("rename", store / info.name);
  }
  return info;
}

}  // namespace

ImageInfo importImage(const fs::path& source, std::optional<std::string> name,
                      const ImportProgress& progress) {
  return withContext("importing " + source.string(), [&] {
    return importInto(createStore(), fs::absolute(source), std::move(name), progress);
  });
}

}  // namespace netlab::image
