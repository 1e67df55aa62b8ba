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
#include "image/store_files.hpp"

namespace netlab::image {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kLockName = ".lock";

fs::path userDataDirectory() {
  const char* xdg = std::getenv("XDG_DATA_HOME");
  if (xdg && xdg[0] == '/') return xdg;  // the XDG rule: a relative value is ignored
  const char* home = std::getenv("HOME");
  if (home && home[0] != '\0') return fs::path(home) / ".local/share";
  const passwd* user = ::getpwuid(::geteuid());
  if (!user) throw Error("no home directory for the image store: set NETLAB_IMAGE_DIR", ENOENT);
  return fs::path(user->pw_dir) / ".local/share";
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

}  // namespace

StoreLock::StoreLock(const fs::path& store)
    : fd_(openFile(store / kLockName, O_RDWR | O_CREAT, 0644)) {
  while (::flock(fd_.get(), LOCK_EX) < 0) {
    if (errno != EINTR) throw SystemError("flock", store / kLockName);
  }
}

void clearLeftovers(const fs::path& store) {
  for (const auto& entry : fs::directory_iterator(store)) {
    const std::string name = entry.path().filename();
    if (name.starts_with(kImportingPrefix) || name.starts_with(kRemovingPrefix)) {
      removeTree(entry.path());
    }
  }
}

bool isRoot() {
  return ::geteuid() == 0;
}

json toJson(const ImageInfo& info) {
  return {{"name", info.name},           {"source", info.source},     {"format", info.format},
          {"reference", info.reference}, {"layers", info.layers},     {"imported", info.imported},
          {"sizeBytes", info.sizeBytes}, {"root", info.root.string()}};
}

void removeTree(const fs::path& path) {
  std::error_code error;
  if (geteuid() != 0 && fs::is_directory(fs::symlink_status(path, error))) {
    fs::permissions(path, fs::perms::owner_all, fs::perm_options::add, error);
    for (auto it = fs::recursive_directory_iterator(path, error);
         !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
      if (it->is_directory(error) && !it->is_symlink(error)) {
        fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, error);
      }
    }
  }
  fs::remove_all(path, error);
  if (error) throw SystemError("remove", path.string(), error.value());
}

fs::path imageStoreDirectory() {
  const char* overridden = std::getenv("NETLAB_IMAGE_DIR");
  if (overridden && overridden[0] != '\0') return fs::absolute(overridden);
  if (isRoot()) return "/var/lib/netlab/images";
  return userDataDirectory() / "netlab/images";
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
