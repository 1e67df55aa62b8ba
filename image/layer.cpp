#include "image/layer.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <set>
#include <system_error>
#include <vector>

#include "base/error.hpp"
#include "base/fd.hpp"
#include "image/digest.hpp"
#include "image/store_files.hpp"

namespace netlab::image {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kOpaqueWhiteout = ".wh..wh..opq";
constexpr size_t kReadBlockBytes = size_t{64} * 1024;
// libarchive finds out on opening (a compression filter's header) or at the first entry.
const std::string kNotAnArchive = "not a tar archive (plain, gzip or zstd): ";

struct ReadArchiveFree {
  void operator()(archive* reader) const { archive_read_free(reader); }
};
struct WriteArchiveFree {
  void operator()(archive* writer) const { archive_write_free(writer); }
};
using ArchiveReader = std::unique_ptr<archive, ReadArchiveFree>;
using ArchiveWriter = std::unique_ptr<archive, WriteArchiveFree>;

// libarchive's message, with the system's reason where a system call failed ("Can't create
// 'ro/x': Permission denied"); its own codes for a bad format (EILSEQ on Linux) or a misuse
// (EINVAL), private to libarchive, have no text to add.
std::string archiveErrorText(archive* handle) {
  const char* text = archive_error_string(handle);
  const int code = archive_errno(handle);
  const bool systemCode = code > 0 && code != EILSEQ && code != EINVAL;
  if (!text) return errnoText(code);
  return systemCode ? std::string(text) + ": " + errnoText(code) : text;
}

// Bytes read from a source, hashed as they pass: every byte libarchive is given is hashed once, in
// order, and drain() reads what libarchive left (a tar's padding, a compressor's trailer), so
// that the digest is of the whole stream.
class HashedSource {
 public:
  HashedSource() : block_(kReadBlockBytes) {}
  virtual ~HashedSource() = default;
  HashedSource(const HashedSource&) = delete;
  HashedSource& operator=(const HashedSource&) = delete;

  // The next block, 0 bytes at the end.
  size_t read(const void** buffer) {
    const size_t size = readBlock(block_.data(), block_.size());
    hash_.update(block_.data(), size);
    *buffer = block_.data();
    return size;
  }
  std::string drain() {
    const void* ignored;
    while (read(&ignored) > 0) {
    }
    return hash_.finish();
  }

 private:
  virtual size_t readBlock(char* block, size_t size) = 0;

  std::vector<char> block_;
  Sha256 hash_;
};

// libarchive's read callback: C, so nothing is thrown through it; a failure becomes the
// archive's error (EINVAL: a code archiveErrorText adds nothing to, the message has the reason).
la_ssize_t readHashed(archive* reader, void* source, const void** buffer) noexcept {
  try {
    return static_cast<la_ssize_t>(static_cast<HashedSource*>(source)->read(buffer));
  } catch (const std::exception& error) {
    archive_set_error(reader, EINVAL, "%s", error.what());
    return -1;
  }
}

// The file as stored: a blob's digest is of these bytes.
class StoredSource : public HashedSource {
 public:
  explicit StoredSource(int fd) : fd_(fd) {}

 private:
  size_t readBlock(char* block, size_t size) override {
    for (;;) {
      const ssize_t got = ::read(fd_, block, size);
      if (got >= 0) return static_cast<size_t>(got);
      if (errno != EINTR) throw Error("read: " + errnoText(errno), errno);
    }
  }
  int fd_;
};

// The stream decompressed: a diff_id is of these bytes.
class DecompressedSource : public HashedSource {
 public:
  explicit DecompressedSource(archive* decompressor) : decompressor_(decompressor) {}

 private:
  size_t readBlock(char* block, size_t size) override {
    const la_ssize_t got = archive_read_data(decompressor_, block, size);
    if (got < 0) throw Error("decompressing it: " + archiveErrorText(decompressor_), EINVAL);
    return static_cast<size_t>(got);
  }
  archive* decompressor_;
};

ArchiveReader newReader() {
  ArchiveReader reader(archive_read_new());
  if (!reader) throw Error("archive_read_new: out of memory", ENOMEM);
  return reader;
}

// Any tar libarchive knows (ustar, pax, GNU), plain or compressed: layers come gzip'd (Docker,
// most OCI images), zstd'd (newer OCI images) or plain (docker save). Two readers, so that both
// digests come from one pass: the first only decompresses (libarchive's raw format, whose one
// entry is the whole stream), the second reads the tar from what the first gives.
class HashingReader {
 public:
  explicit HashingReader(int fd)
      : stored_(fd),
        decompressor_(newReader()),
        decompressed_(decompressor_.get()),
        tar_(newReader()) {
    archive_read_support_filter_all(decompressor_.get());
    archive_read_support_format_raw(decompressor_.get());
    archive_entry* stream;
    if (archive_read_open(decompressor_.get(), &stored_, nullptr, readHashed, nullptr) !=
            ARCHIVE_OK ||
        archive_read_next_header(decompressor_.get(), &stream) != ARCHIVE_OK) {
      throw Error(kNotAnArchive + archiveErrorText(decompressor_.get()), EINVAL);
    }
    archive_read_support_format_tar(tar_.get());
    if (archive_read_open(tar_.get(), &decompressed_, nullptr, readHashed, nullptr) != ARCHIVE_OK) {
      throw Error(kNotAnArchive + archiveErrorText(tar_.get()), EINVAL);
    }
  }
  HashingReader(const HashingReader&) = delete;
  HashingReader& operator=(const HashingReader&) = delete;

  archive* tar() { return tar_.get(); }
  // Once the tar has ended: the digests of all the stream, what follows its end included.
  ArchiveDigests finish() {
    std::string decompressed = decompressed_.drain();
    return {.stored = stored_.drain(), .decompressed = std::move(decompressed)};
  }

 private:
  StoredSource stored_;
  ArchiveReader decompressor_;
  DecompressedSource decompressed_;
  ArchiveReader tar_;
};

// The secure flags are libarchive's own guard against `..`, absolute paths and symlinks on the
// way; entryPathWithinRoot and refuseSymlinkOnTheWay refuse the same first, so that the message
// names the entry and the reason. UNLINK: a file replacing a symlink of an earlier layer takes
// its place instead of being written where it points.
ArchiveWriter openWriter(const ExtractOptions& options) {
  ArchiveWriter writer(archive_write_disk_new());
  if (!writer) throw Error("archive_write_disk_new: out of memory", ENOMEM);
  int flags = ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
              ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS | ARCHIVE_EXTRACT_UNLINK |
              ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME;
  if (options.owners) flags |= ARCHIVE_EXTRACT_OWNER;
  archive_write_disk_set_options(writer.get(), flags);
  // No archive_write_disk_set_standard_lookup: the image's numeric ids are what its own
  // /etc/passwd means, not whoever has those names on this host.
  return writer;
}

// archive_write_disk writes relative to the working directory, and must be given relative paths
// (ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS): this moves into the root while an archive is
// extracted and back after (held by an O_PATH fd: a directory the user may not read is still one
// to return to). netlab is single-threaded while it imports.
class WorkingDirectory {
 public:
  explicit WorkingDirectory(const fs::path& directory)
      : previous_(openFile(".", O_PATH | O_DIRECTORY)) {
    if (::chdir(directory.c_str()) < 0) throw SystemError("chdir", directory);
  }
  ~WorkingDirectory() {
    if (::fchdir(previous_.get()) < 0) std::terminate();  // cannot happen: the fd holds it
  }
  WorkingDirectory(const WorkingDirectory&) = delete;
  WorkingDirectory& operator=(const WorkingDirectory&) = delete;

 private:
  Fd previous_;
};

// Refuses an entry under a directory path one of whose components is a symbolic link on disk
// (an earlier entry's): writing there would land wherever it points, `/` for `etc -> /`. The
// root's own contents are checked component by component, from the top.
void refuseSymlinkOnTheWay(const std::string& directory) {
  fs::path walked;
  for (const auto& component : fs::path(directory)) {
    walked /= component;
    struct stat status;
    if (::lstat(walked.c_str(), &status) < 0) return;  // not there: made as a directory
    if (S_ISLNK(status.st_mode)) {
      std::error_code ignored;
      throw Error(fmt::format("it would be written through the symbolic link {} -> {}",
                              walked.string(), fs::read_symlink(walked, ignored).string()),
                  ELOOP);
    }
  }
}

std::string parentOf(const std::string& path) {
  return fs::path(path).parent_path().string();
}

// What an archive's entries did so far: the whiteouts of a layer spare what the layer itself put.
struct LayerState {
  const ExtractOptions& options;
  std::set<std::string> written;
};

// Whether the layer wrote path or anything below it.
bool wroteAtOrBelow(const LayerState& state, const std::string& path) {
  auto it = state.written.lower_bound(path);
  if (it == state.written.end()) return false;
  if (*it == path) return true;
  it = state.written.lower_bound(path + "/");
  return it != state.written.end() && it->compare(0, path.size() + 1, path + "/") == 0;
}

// An opaque directory: what earlier layers put in it goes, to the bottom; what this layer wrote
// there, before the marker, stays (the directories on its way too, emptied of the rest).
void clearEarlierLayers(const std::string& directory, const LayerState& state) {
  const fs::path onDisk = directory.empty() ? fs::path(".") : fs::path(directory);
  std::error_code error;
  if (!fs::is_directory(fs::symlink_status(onDisk, error))) return;
  for (const auto& child : fs::directory_iterator(onDisk)) {
    const std::string path = (fs::path(directory) / child.path().filename()).string();
    if (!wroteAtOrBelow(state, path)) {
      removeTree(child.path());
    } else if (child.is_directory(error) && !child.is_symlink(error)) {
      clearEarlierLayers(path, state);
    }
  }
}

void applyWhiteout(const Whiteout& whiteout, const LayerState& state) {
  refuseSymlinkOnTheWay(whiteout.directory);
  if (whiteout.name) {
    removeTree(fs::path(whiteout.directory.empty() ? "." : whiteout.directory) / *whiteout.name);
    return;
  }
  clearEarlierLayers(whiteout.directory, state);
}

void copyData(archive* reader, archive* writer) {
  const void* block;
  size_t size;
  la_int64_t offset;
  for (;;) {
    const int status = archive_read_data_block(reader, &block, &size, &offset);
    if (status == ARCHIVE_EOF) return;
    if (status < ARCHIVE_WARN) throw Error("reading it: " + archiveErrorText(reader));
    if (archive_write_data_block(writer, block, size, offset) < ARCHIVE_WARN) {
      throw Error("writing it: " + archiveErrorText(writer));
    }
  }
}

// A file (or link) in place of an earlier layer's directory replaces it with all it held;
// libarchive would remove only an empty one.
void removeEarlierDirectory(const std::string& path) {
  struct stat status;
  if (::lstat(path.c_str(), &status) == 0 && S_ISDIR(status.st_mode)) removeTree(path);
}

bool isDevice(archive_entry* entry) {
  const auto type = archive_entry_filetype(entry);
  return type == AE_IFCHR || type == AE_IFBLK;
}

void applyEntry(archive* reader, archive* writer, archive_entry* entry, LayerState& state) {
  const char* name = archive_entry_pathname(entry);
  if (!name) throw Error("it has no path", EINVAL);
  const std::string path = entryPathWithinRoot(name);
  if (path.empty()) return;  // the root itself: the store's directory, kept as it is
  if (state.options.whiteouts) {
    if (auto whiteout = parseWhiteout(path)) {
      applyWhiteout(*whiteout, state);
      return;
    }
  }
  // Only root can make device nodes; an ordinary user's image has none (docs/images.md).
  if (isDevice(entry) && !state.options.owners) return;
  refuseSymlinkOnTheWay(parentOf(path));
  if (archive_entry_filetype(entry) != AE_IFDIR) removeEarlierDirectory(path);
  if (const char* target = archive_entry_hardlink(entry)) {
    const std::string within = withContext(fmt::format("its hard link target {}", target),
                                           [&] { return entryPathWithinRoot(target); });
    refuseSymlinkOnTheWay(parentOf(within));
    archive_entry_set_hardlink(entry, within.c_str());
  }
  archive_entry_set_pathname(entry, path.c_str());
  state.written.insert(path);
  if (archive_write_header(writer, entry) < ARCHIVE_WARN) throw Error(archiveErrorText(writer));
  if (archive_entry_size(entry) > 0) copyData(reader, writer);
  if (archive_write_finish_entry(writer) < ARCHIVE_WARN) throw Error(archiveErrorText(writer));
}

}  // namespace

std::string entryPathWithinRoot(const std::string& path) {
  if (!path.empty() && path.front() == '/') {
    throw Error("its path is absolute, outside the image's root", EPERM);
  }
  fs::path clean;
  for (const auto& component : fs::path(path)) {
    if (component == "..") throw Error("its path climbs out of the image's root (`..`)", EPERM);
    if (component == "." || component.empty()) continue;
    clean /= component;
  }
  return clean.string();
}

std::optional<Whiteout> parseWhiteout(const std::string& path) {
  const fs::path entry(path);
  const std::string name = entry.filename().string();
  if (name.rfind(kWhiteoutPrefix, 0) != 0) return std::nullopt;
  Whiteout whiteout{entry.parent_path().string(), std::nullopt};
  if (name == kOpaqueWhiteout) return whiteout;
  whiteout.name = name.substr(kWhiteoutPrefix.size());
  // `.wh..` and `.wh...` would remove the directory itself or its parent, the root's included.
  if (whiteout.name->empty() || whiteout.name == "." || whiteout.name == "..") {
    throw Error("a whiteout that names no entry of its directory", EINVAL);
  }
  return whiteout;
}

ArchiveDigests extractArchive(int fd, const fs::path& root, const ExtractOptions& options) {
  HashingReader reader(fd);
  ArchiveWriter writer = openWriter(options);
  WorkingDirectory inRoot(root);
  LayerState state{options, {}};
  for (bool first = true;; first = false) {
    archive_entry* entry;
    const int status = archive_read_next_header(reader.tar(), &entry);
    if (status == ARCHIVE_EOF) break;
    if (status < ARCHIVE_WARN) {
      throw Error((first ? kNotAnArchive : "reading it: ") + archiveErrorText(reader.tar()),
                  EINVAL);
    }
    const char* name = archive_entry_pathname(entry);
    withContext(fmt::format("entry {}", name ? name : "(unnamed)"),
                [&] { applyEntry(reader.tar(), writer.get(), entry, state); });
  }
  // Directories' permissions and times are set last, once nothing more is written into them.
  if (archive_write_close(writer.get()) < ARCHIVE_WARN) {
    throw Error("finishing it: " + archiveErrorText(writer.get()));
  }
  return withContext("reading it to its end", [&] { return reader.finish(); });
}

}  // namespace netlab::image
