#include "image/image_store.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <ctime>
#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "base/fd.hpp"
#include "base/image_name.hpp"
#include "image/image_source.hpp"
#include "image/layer.hpp"

namespace netlab::image {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Names in the store that are no image: its lock and the work of imports and removals under
// way, or of ones killed, which the next import or removal clears away.
constexpr std::string_view kImportingPrefix = ".importing-";
constexpr std::string_view kRemovingPrefix = ".removing-";
constexpr const char* kLockName = ".lock";
constexpr const char* kInfoName = "image.json";
constexpr const char* kRootName = "rootfs";

fs::path userDataDirectory() {
  const char* xdg = std::getenv("XDG_DATA_HOME");
  if (xdg && xdg[0] == '/') return xdg;  // the XDG rule: a relative value is ignored
  const char* home = std::getenv("HOME");
  if (home && home[0] != '\0') return fs::path(home) / ".local/share";
  const passwd* user = ::getpwuid(::geteuid());
  if (!user) throw Error("no home directory for the image store: set NETLAB_IMAGE_DIR", ENOENT);
  return fs::path(user->pw_dir) / ".local/share";
}

// One import or removal at a time, for every user of the store: each may clear what a killed
// one left. Listing needs no lock: an image appears and goes by one rename.
class StoreLock {
 public:
  explicit StoreLock(const fs::path& store)
      : fd_(openFile(store / kLockName, O_RDWR | O_CREAT, 0644)) {
    while (::flock(fd_.get(), LOCK_EX) < 0) {
      if (errno != EINTR) throw SystemError("flock", store / kLockName);
    }
  }

 private:
  Fd fd_;
};

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

// What an import or removal that was killed left, under the store's lock: no one works on it.
void clearLeftovers(const fs::path& store) {
  for (const auto& entry : fs::directory_iterator(store)) {
    const std::string name = entry.path().filename();
    if (name.starts_with(kImportingPrefix) || name.starts_with(kRemovingPrefix)) {
      removeTree(entry.path());
    }
  }
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

bool isRoot() {
  return ::geteuid() == 0;
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

json toJson(const ImageInfo& info) {
  return {{"name", info.name},           {"source", info.source},     {"format", info.format},
          {"reference", info.reference}, {"layers", info.layers},     {"imported", info.imported},
          {"sizeBytes", info.sizeBytes}, {"root", info.root.string()}};
}

ImageInfo readInfo(const fs::path& directory) {
  const fs::path file = directory / kInfoName;
  const json document = json::parse(readWholeFile(file), nullptr, false);
  try {
    if (document.is_discarded()) throw Error("not valid JSON");
    ImageInfo info;
    info.name = document.at("name").get<std::string>();
    info.source = document.at("source").get<std::string>();
    info.format = document.at("format").get<std::string>();
    info.reference = document.at("reference").get<std::string>();
    info.layers = document.at("layers").get<std::vector<std::string>>();
    info.imported = document.at("imported").get<std::string>();
    info.sizeBytes = document.at("sizeBytes").get<uint64_t>();
    info.root = directory / kRootName;  // where it is now, whatever it was
    return info;
  } catch (const std::exception& error) {
    throw Error(fmt::format("{}: {}", file.string(), error.what()), EINVAL);
  }
}

fs::path imageDirectory(const fs::path& store, const std::string& name) {
  checkImageName(name);
  return store / name;
}

Error notImported(const std::string& name) {
  return Error(fmt::format("image {} is not imported (netlab image ls lists those that are)", name),
               ENOENT);
}

void refuseTaken(const fs::path& store, const std::string& name) {
  if (fs::exists(fs::symlink_status(store / name))) {
    throw Error(fmt::format("an image named {} is imported already: `netlab image rm {}` "
                            "first, or give another --name",
                            name, name),
                EEXIST);
  }
}

void applyLayers(const Fd& layout, const ImageLayout& image, const fs::path& rootfs,
                 const ImportProgress& progress) {
  for (size_t i = 0; i < image.layers.size(); ++i) {
    const Layer& layer = image.layers[i];
    if (progress) progress(i + 1, image.layers.size(), layer.digest);
    withContext(fmt::format("layer {} of {} ({})", i + 1, image.layers.size(), layer.digest), [&] {
      extractArchive(openLayoutFile(layout, layer).get(), rootfs,
                     {.whiteouts = true, .owners = isRoot()});
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
  for (const Layer& layer : image.layers) digests.push_back(layer.digest);
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

fs::path imageStoreDirectory() {
  const char* overridden = std::getenv("NETLAB_IMAGE_DIR");
  if (overridden && overridden[0] != '\0') return fs::absolute(overridden);
  if (isRoot()) return "/var/lib/netlab/images";
  return userDataDirectory() / "netlab/images";
}

ImageInfo importImage(const fs::path& source, std::optional<std::string> name,
                      const ImportProgress& progress) {
  return withContext("importing " + source.string(), [&] {
    return importInto(createStore(), fs::absolute(source), std::move(name), progress);
  });
}

std::vector<ImageInfo> listImages() {
  const fs::path store = imageStoreDirectory();
  std::vector<ImageInfo> images;
  std::error_code error;
  if (!fs::is_directory(store, error)) return images;
  for (const auto& entry : fs::directory_iterator(store)) {
    const std::string name = entry.path().filename();
    if (name.front() == '.' || !fs::exists(entry.path() / kInfoName)) continue;
    images.push_back(readInfo(entry.path()));
  }
  std::sort(images.begin(), images.end(),
            [](const ImageInfo& a, const ImageInfo& b) { return a.name < b.name; });
  return images;
}

void removeImage(const std::string& name) {
  const fs::path store = imageStoreDirectory();
  const fs::path directory = imageDirectory(store, name);
  if (!fs::exists(fs::symlink_status(directory))) throw notImported(name);
  const StoreLock lock(store);
  clearLeftovers(store);
  // Out of sight in one step, so that an interrupted removal leaves no half image.
  const fs::path removing =
      store / fmt::format("{}{}-{}", kRemovingPrefix, name, static_cast<long>(::getpid()));
  if (::rename(directory.c_str(), removing.c_str()) < 0) {
    if (errno == ENOENT) throw notImported(name);
    throw SystemError("rename", directory);
  }
  removeTree(removing);
}

fs::path imageRoot(const std::string& name) {
  const fs::path directory = imageDirectory(imageStoreDirectory(), name);
  if (!fs::exists(directory / kInfoName)) throw notImported(name);
  return directory / kRootName;
}

void checkImageName(const std::string& name) {
  const bool valid = isImageName(name);
  if (!valid) {
    throw Error(fmt::format("`{}` is not an image name: lower-case letters, digits, '.', '_' and "
                            "'-', starting with a letter or digit, at most {} characters",
                            name, kMaxImageNameLength),
                EINVAL);
  }
}

std::string imageNameFor(const std::string& reference, const fs::path& source) {
  std::string text = reference;
  if (text.empty()) {
    // A layout directory given as DIR/ has an empty last component.
    fs::path file = source.has_filename() ? source.filename() : source.parent_path().filename();
    while (file.has_extension() &&
           (file.extension() == ".tar" || file.extension() == ".gz" || file.extension() == ".tgz" ||
            file.extension() == ".zst" || file.extension() == ".oci")) {
      file = file.stem();
    }
    text = file.string();
  }
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  text = text.substr(0, text.find('@'));
  for (std::string_view prefix : {"docker.io/library/", "docker.io/", "localhost/"}) {
    if (text.starts_with(prefix)) {
      text.erase(0, prefix.size());
      break;
    }
  }
  std::string name;
  for (char c : text) {
    const bool kept = std::islower(static_cast<unsigned char>(c)) ||
                      std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '_';
    if (kept) {
      name += c;
    } else if (name.empty() || name.back() != '-') {
      name += '-';
    }
  }
  const size_t first = name.find_first_not_of(".-_");
  name = first == std::string::npos ? "" : name.substr(first, kMaxImageNameLength);
  while (!name.empty() && (name.back() == '-' || name.back() == '.')) name.pop_back();
  return name.empty() ? "image" : name;
}

std::string imagesToJson(const std::vector<ImageInfo>& images) {
  json list = json::array();
  for (const auto& info : images) list.push_back(toJson(info));
  return list.dump(2) + "\n";
}

}  // namespace netlab::image
