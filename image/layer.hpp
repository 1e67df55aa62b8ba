// An image's layers (tar streams, plain or gzip/zstd compressed) applied onto a root directory
// with libarchive: OCI whiteouts honoured, every entry refused that would land outside the
// root, through `..`, an absolute path or a symbolic link already on disk, and the stream hashed
// on its way, compressed and not.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace netlab::image {

struct ExtractOptions {
  // `.wh.NAME` and `.wh..wh..opq` entries remove what earlier layers put there (image layers);
  // off for the image archive itself, whose files are only read.
  bool whiteouts = true;
  // Owners as the archive says (numeric ids) and device nodes: only root can make them.
  bool owners = false;
};

// What an archive's bytes hash to, "sha256:HEX", read to the end of the file.
struct ArchiveDigests {
  std::string stored;        // the bytes as read (an OCI layer's digest)
  std::string decompressed;  // the tar they hold (its diff_id); stored's for a plain tar
};

// Extracts the archive read from fd into root, an existing directory, entry by entry, hashing
// it as it is read. Errors name the entry and the reason; the caller names the archive, and
// checks the digests (a mismatch found after extracting: root is the caller's to discard).
ArchiveDigests extractArchive(int fd, const std::filesystem::path& root,
                              const ExtractOptions& options);

// An entry's path relative to the root, "./" and trailing slashes dropped ("" for the root
// itself). Throws Error when it is absolute or has a `..` component: in tar, both would reach
// outside whatever directory it is extracted in.
std::string entryPathWithinRoot(const std::string& path);

// What a whiteout entry (clean path, as entryPathWithinRoot returns) hides from earlier layers:
// one name in a directory, or (name absent: `.wh..wh..opq`) all the directory held. nullopt for
// an ordinary entry. Throws Error for `.wh.`, `.wh..` and `.wh...`, which name no entry.
struct Whiteout {
  std::string directory;  // "" for the root
  std::optional<std::string> name;
};
std::optional<Whiteout> parseWhiteout(const std::string& path);

}  // namespace netlab::image
