// Imports of OCI layouts and archives and of docker save archives, written by the tests with
// libarchive into a temporary directory, into a store there (NETLAB_IMAGE_DIR).
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "base/error.hpp"
#include "base/fd.hpp"
#include "image/digest.hpp"
#include "image/image_import.hpp"
#include "image/layer.hpp"
#include "image/store_files.hpp"

namespace netlab::image {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Entry {
  enum Kind { File, Directory, Symlink, Hardlink } kind;
  std::string path;
  std::string content;  // a file's data, a link's target
};

Entry file(std::string path, std::string content = "data") {
  return {Entry::File, std::move(path), std::move(content)};
}
Entry directory(std::string path) {
  return {Entry::Directory, std::move(path), ""};
}
Entry symlink(std::string path, std::string target) {
  return {Entry::Symlink, std::move(path), std::move(target)};
}
Entry hardlink(std::string path, std::string target) {
  return {Entry::Hardlink, std::move(path), std::move(target)};
}

struct WriteArchiveFree {
  void operator()(archive* writer) const { archive_write_free(writer); }
};
struct EntryFree {
  void operator()(archive_entry* entry) const { archive_entry_free(entry); }
};

void addEntry(archive* writer, const Entry& each) {
  std::unique_ptr<archive_entry, EntryFree> entry(archive_entry_new());
  archive_entry_set_pathname(entry.get(), each.path.c_str());
  archive_entry_set_mtime(entry.get(), 1700000000, 0);
  switch (each.kind) {
    case Entry::File:
      archive_entry_set_filetype(entry.get(), AE_IFREG);
      archive_entry_set_perm(entry.get(), 0644);
      archive_entry_set_size(entry.get(), static_cast<la_int64_t>(each.content.size()));
      break;
    case Entry::Directory:
      archive_entry_set_filetype(entry.get(), AE_IFDIR);
      archive_entry_set_perm(entry.get(), 0755);
      break;
    case Entry::Symlink:
      archive_entry_set_filetype(entry.get(), AE_IFLNK);
      archive_entry_set_perm(entry.get(), 0777);
      archive_entry_set_symlink(entry.get(), each.content.c_str());
      break;
    case Entry::Hardlink:
      archive_entry_set_filetype(entry.get(), AE_IFREG);
      archive_entry_set_perm(entry.get(), 0644);
      archive_entry_set_hardlink(entry.get(), each.content.c_str());
      break;
  }
  ASSERT_EQ(archive_write_header(writer, entry.get()), ARCHIVE_OK) << archive_error_string(writer);
  if (each.kind == Entry::File && !each.content.empty()) {
    archive_write_data(writer, each.content.data(), each.content.size());
  }
}

enum class Filter { None, Gzip, Zstd };

void writeTar(const fs::path& path, const std::vector<Entry>& entries,
              Filter filter = Filter::None) {
  std::unique_ptr<archive, WriteArchiveFree> writer(archive_write_new());
  archive_write_set_format_pax_restricted(writer.get());
  if (filter == Filter::Gzip) {
    ASSERT_EQ(archive_write_add_filter_gzip(writer.get()), ARCHIVE_OK);
  } else if (filter == Filter::Zstd) {
    ASSERT_EQ(archive_write_add_filter_zstd(writer.get()), ARCHIVE_OK);
  }
  ASSERT_EQ(archive_write_open_filename(writer.get(), path.c_str()), ARCHIVE_OK);
  for (const auto& entry : entries) addEntry(writer.get(), entry);
  ASSERT_EQ(archive_write_close(writer.get()), ARCHIVE_OK);
}

void writeText(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

std::string readText(const fs::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

fs::path blob(const fs::path& layout, const std::string& digest) {
  return layout / "blobs/sha256" / digest.substr(7);
}

// A blob of the layout, named by its digest.
std::string addBlob(const fs::path& layout, const std::string& content) {
  const std::string digest = sha256Digest(content);
  writeText(blob(layout, digest), content);
  return digest;
}

// Flips the bits of one byte of a file.
void alterByte(const fs::path& path, size_t offset) {
  std::string content = readText(path);
  ASSERT_LT(offset, content.size());
  content[offset] = static_cast<char>(~content[offset]);
  std::ofstream(path, std::ios::trunc) << content;
}

// A layer's blob digest (as compressed) and diff_id (of its tar), as a manifest and config name it.
struct LayerBlob {
  std::string digest;
  std::string diffId;
};

class ImageStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "netlab-image-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    store_ = dir_ / "store";
    ::setenv("NETLAB_IMAGE_DIR", store_.c_str(), 1);
  }
  void TearDown() override {
    ::unsetenv("NETLAB_IMAGE_DIR");
    removeTree(dir_);
  }

  // An OCI layout directory of one image with these layers (gzip'd by default), reference in
  // index.json; layers_ and manifest_ say what it holds.
  fs::path ociLayout(const std::vector<std::vector<Entry>>& layers,
                     const std::string& reference = "example.org/lab/router:1",
                     Filter filter = Filter::Gzip) {
    const fs::path layout = dir_ / "layout";
    layers_.clear();
    for (const auto& entries : layers) layers_.push_back(addLayer(layout, entries, filter));
    writeManifest(layout, reference);
    writeText(layout / "oci-layout", R"({"imageLayoutVersion": "1.0.0"})");
    return layout;
  }

  LayerBlob addLayer(const fs::path& layout, const std::vector<Entry>& entries, Filter filter) {
    const fs::path scratch = dir_ / "scratch.tar";
    writeTar(scratch, entries);
    const std::string diffId = sha256Digest(readText(scratch));
    writeTar(scratch, entries, filter);
    return {addBlob(layout, readText(scratch)), diffId};
  }

  // The config (rootfs.diff_ids), manifest and index.json of the layers in layers_.
  void writeManifest(const fs::path& layout, const std::string& reference) {
    json config = {{"architecture", "amd64"},
                   {"os", "linux"},
                   {"rootfs", {{"type", "layers"}, {"diff_ids", json::array()}}}};
    json manifest = {{"schemaVersion", 2},
                     {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                     {"layers", json::array()}};
    for (const LayerBlob& layer : layers_) {
      config["rootfs"]["diff_ids"].push_back(layer.diffId);
      manifest["layers"].push_back(
          {{"mediaType", "application/vnd.oci.image.layer.v1.tar+gzip"}, {"digest", layer.digest}});
    }
    manifest["config"] = {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                          {"digest", addBlob(layout, config.dump())}};
    manifest_ = addBlob(layout, manifest.dump());
    json index = {{"schemaVersion", 2},
                  {"manifests",
                   {{{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                     {"digest", manifest_},
                     {"annotations", {{"org.opencontainers.image.ref.name", reference}}}}}}};
    writeText(layout / "index.json", index.dump());
  }

  // Files of a directory as tar entries, for an archive of a layout.
  std::vector<Entry> entriesOf(const fs::path& root) {
    std::vector<Entry> entries;
    for (const auto& each : fs::recursive_directory_iterator(root)) {
      const std::string path = fs::relative(each.path(), root).string();
      if (each.is_directory()) {
        entries.push_back(directory(path));
      } else {
        std::ifstream in(each.path());
        entries.push_back(file(path, std::string(std::istreambuf_iterator<char>(in), {})));
      }
    }
    return entries;
  }

  // What the store holds besides its lock: no half-built image may stay.
  std::vector<std::string> storeEntries() {
    std::vector<std::string> names;
    if (!fs::exists(store_)) return names;
    for (const auto& each : fs::directory_iterator(store_)) {
      if (each.path().filename() != ".lock") names.push_back(each.path().filename());
    }
    return names;
  }

  std::string refusal(const fs::path& source) {
    try {
      importImage(source, std::nullopt);
    } catch (const Error& error) {
      return error.what();
    }
    ADD_FAILURE() << "imported " << source;
    return "";
  }

  // A docker save archive of two layers; diffIds, when given, in place of their true ones.
  void writeDockerArchive(const fs::path& archive, std::vector<std::string> diffIds = {}) {
    const fs::path layers = dir_ / "layers";
    fs::create_directories(layers);
    writeTar(layers / "one.tar", {directory("etc"), file("etc/os-release", "ID=test")});
    writeTar(layers / "two.tar", {file("etc/.wh.os-release", ""), file("etc/issue", "hi")});
    const std::string one = readText(layers / "one.tar");
    const std::string two = readText(layers / "two.tar");
    if (diffIds.empty()) diffIds = {sha256Digest(one), sha256Digest(two)};
    const json config = {{"rootfs", {{"type", "layers"}, {"diff_ids", diffIds}}}};
    const json manifest = {{{"Config", "config.json"},
                            {"RepoTags", {"docker.io/library/testimage:1.0"}},
                            {"Layers", {"aaa/layer.tar", "bbb/layer.tar"}}}};
    writeTar(archive, {file("manifest.json", manifest.dump()), file("config.json", config.dump()),
                       directory("aaa"), file("aaa/layer.tar", one), directory("bbb"),
                       file("bbb/layer.tar", two)});
  }

  fs::path dir_;
  fs::path store_;
  std::vector<LayerBlob> layers_;
  std::string manifest_;
};

TEST_F(ImageStoreTest, AppliesLayersWithWhiteouts) {
  const fs::path layout = ociLayout({
      {directory("etc"), file("etc/hostname", "base"), file("etc/motd"), directory("opt"),
       file("opt/old"), directory("opt/sub"), file("opt/sub/older"), directory("srv"),
       file("srv/x"), symlink("etc/localtime", "/usr/share/zoneinfo/UTC")},
      // The opaque directory spares what this layer put there before it.
      {file("etc/.wh.motd", ""), file("opt/new", "mine"), file("opt/.wh..wh..opq", ""),
       file(".wh.srv", ""), file("etc/hostname", "top")},
  });
  const ImageInfo info = importImage(layout, std::nullopt);
  EXPECT_EQ(info.name, "example.org-lab-router-1");
  EXPECT_EQ(info.format, "oci");
  EXPECT_EQ(info.layers, (std::vector<std::string>{layers_[0].digest, layers_[1].digest}));
  const fs::path root = imageRoot(info.name);
  EXPECT_EQ(root, store_ / info.name / "rootfs");
  EXPECT_TRUE(fs::exists(root / "etc/hostname"));
  EXPECT_FALSE(fs::exists(root / "etc/motd"));
  EXPECT_FALSE(fs::exists(root / "etc/.wh.motd"));
  EXPECT_TRUE(fs::exists(root / "opt/new"));
  EXPECT_FALSE(fs::exists(root / "opt/old"));
  EXPECT_FALSE(fs::exists(root / "opt/sub"));
  EXPECT_FALSE(fs::exists(root / "opt/.wh..wh..opq"));
  EXPECT_FALSE(fs::exists(fs::symlink_status(root / "srv")));
  std::ifstream hostname(root / "etc/hostname");
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(hostname), {}), "top");
  // An absolute target is the node's own business: it resolves in the node's root.
  EXPECT_EQ(fs::read_symlink(root / "etc/localtime"), "/usr/share/zoneinfo/UTC");
  EXPECT_EQ(info.sizeBytes, std::string("top").size() + std::string("mine").size());
  EXPECT_EQ(storeEntries(), std::vector<std::string>{info.name});
  EXPECT_EQ(fs::status(store_).permissions(), fs::perms::owner_all);
}

TEST_F(ImageStoreTest, AnOpaqueDirectoryHidesEarlierLayersToTheBottom) {
  const fs::path layout = ociLayout({
      {directory("opt"), directory("opt/app"), file("opt/app/old"), directory("opt/app/lib"),
       file("opt/app/lib/older")},
      // This layer writes below opt/app without an entry for opt/app itself.
      {file("opt/app/lib/mine", "mine"), file("opt/.wh..wh..opq", "")},
  });
  const ImageInfo info = importImage(layout, "opaque");
  EXPECT_TRUE(fs::exists(info.root / "opt/app/lib/mine"));
  EXPECT_FALSE(fs::exists(info.root / "opt/app/lib/older"));
  EXPECT_FALSE(fs::exists(info.root / "opt/app/old"));
}

TEST_F(ImageStoreTest, AFileReplacesAnEarlierDirectory) {
  const ImageInfo info = importImage(
      ociLayout({{directory("x"), file("x/y")}, {file("x", "now a file")}}), "replaced");
  EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(info.root / "x")));
}

// A multi-platform image: index.json names an index, whose first manifest is taken; its layer
// zstd-compressed, as newer OCI images have them.
TEST_F(ImageStoreTest, FollowsANestedIndexToAZstdLayer) {
  const fs::path layout =
      ociLayout({{file("zstd", "yes")}}, "example.org/lab/router:1", Filter::Zstd);
  const std::string nested = addBlob(layout, readText(layout / "index.json"));
  const json outer = {
      {"schemaVersion", 2},
      {"manifests",
       {{{"mediaType", "application/vnd.oci.image.index.v1+json"}, {"digest", nested}}}}};
  writeText(layout / "index.json", outer.dump());
  const ImageInfo info = importImage(layout, std::nullopt);
  EXPECT_EQ(info.reference, "example.org/lab/router:1");
  EXPECT_TRUE(fs::exists(info.root / "zstd"));
}

TEST_F(ImageStoreTest, ImportsAnOciArchiveAndListsAndRemovesIt) {
  const fs::path layout = ociLayout({{directory("bin"), file("bin/sh", "#!")}});
  const fs::path archive = dir_ / "router.tar";
  writeTar(archive, entriesOf(layout));
  const ImageInfo info = importImage(archive, "router");
  EXPECT_EQ(info.source, archive.string());
  EXPECT_EQ(info.reference, "example.org/lab/router:1");
  const auto images = listImages();
  ASSERT_EQ(images.size(), 1u);
  EXPECT_EQ(images[0].name, "router");
  EXPECT_EQ(images[0].layers.size(), 1u);
  EXPECT_EQ(images[0].root, store_ / "router/rootfs");
  try {
    importImage(archive, "router");
    FAIL() << "imported twice";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("netlab image rm router"), std::string::npos);
  }
  removeImage("router");
  EXPECT_TRUE(listImages().empty());
  EXPECT_TRUE(storeEntries().empty());
  try {
    imageRoot("router");
    FAIL() << "a removed image has a root";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(),
                 "image router is not imported (netlab image ls lists those that are)");
  }
  EXPECT_THROW(removeImage("router"), Error);
}

// A docker save archive from before Docker 25: ID/layer.tar files, plain tars, which only the
// config's diff_ids name by digest.
TEST_F(ImageStoreTest, ImportsADockerSaveArchive) {
  const fs::path archive = dir_ / "saved.tar";
  writeDockerArchive(archive);
  const ImageInfo info = importImage(archive, std::nullopt);
  EXPECT_EQ(info.name, "testimage-1.0");
  EXPECT_EQ(info.format, "docker");
  EXPECT_EQ(info.layers, (std::vector<std::string>{"aaa/layer.tar", "bbb/layer.tar"}));
  EXPECT_TRUE(fs::exists(info.root / "etc/issue"));
  EXPECT_FALSE(fs::exists(info.root / "etc/os-release"));
}

TEST_F(ImageStoreTest, RefusesAPathLeavingTheRoot) {
  const std::string message = refusal(ociLayout({{file("../escaped")}}));
  EXPECT_NE(message.find("importing " + (dir_ / "layout").string()), std::string::npos) << message;
  EXPECT_NE(message.find("layer 1 of 1"), std::string::npos) << message;
  EXPECT_NE(message.find("entry ../escaped: its path climbs out"), std::string::npos) << message;
  EXPECT_FALSE(fs::exists(dir_ / "escaped"));
  EXPECT_TRUE(storeEntries().empty());
}

TEST_F(ImageStoreTest, RefusesAnAbsolutePath) {
  const std::string message = refusal(ociLayout({{file("/tmp/netlab-image-test-absolute")}}));
  EXPECT_NE(message.find("is absolute"), std::string::npos) << message;
  EXPECT_TRUE(storeEntries().empty());
}

TEST_F(ImageStoreTest, RefusesWritingThroughASymlink) {
  const std::string message =
      refusal(ociLayout({{symlink("etc", "/")}, {file("etc/netlab-image-test")}}));
  EXPECT_NE(message.find("layer 2 of 2"), std::string::npos) << message;
  EXPECT_NE(message.find("entry etc/netlab-image-test: it would be written through the symbolic "
                         "link etc -> /"),
            std::string::npos)
      << message;
  EXPECT_FALSE(fs::exists("/netlab-image-test"));
  EXPECT_TRUE(storeEntries().empty());
}

TEST_F(ImageStoreTest, RefusesAHardlinkToOutside) {
  const std::string message = refusal(ociLayout({{hardlink("passwd", "../../etc/passwd")}}));
  EXPECT_NE(message.find("its hard link target ../../etc/passwd"), std::string::npos) << message;
  EXPECT_TRUE(storeEntries().empty());
}

TEST_F(ImageStoreTest, RefusesAMissingBlob) {
  const fs::path layout = ociLayout({{file("a")}});
  fs::remove(blob(layout, layers_[0].digest));
  const std::string message = refusal(layout);
  EXPECT_NE(message.find(layers_[0].digest.substr(7) + ", which is missing"), std::string::npos)
      << message;
  EXPECT_TRUE(storeEntries().empty());
}

TEST_F(ImageStoreTest, RefusesWhatIsNoImage) {
  const fs::path notImage = dir_ / "files.tar";
  writeTar(notImage, {file("hello.txt")});
  EXPECT_NE(refusal(notImage).find("neither an OCI image"), std::string::npos);
  const fs::path text = dir_ / "notes.txt";
  writeText(text, "not an archive at all\n");
  EXPECT_NE(refusal(text).find("not a tar archive"), std::string::npos) << refusal(text);
  EXPECT_NE(refusal(dir_ / "missing.tar").find("No such file"), std::string::npos);
  EXPECT_TRUE(storeEntries().empty());
}

TEST_F(ImageStoreTest, ClearsWhatAKilledImportLeft) {
  fs::create_directories(store_ / ".importing-abcdef/image/rootfs");
  importImage(ociLayout({{file("a")}}), "fresh");
  EXPECT_EQ(storeEntries(), std::vector<std::string>{"fresh"});
}

TEST_F(ImageStoreTest, ExtractingHashesTheWholeStream) {
  const fs::path plain = dir_ / "plain.tar";
  const fs::path gzipped = dir_ / "gzipped.tar.gz";
  writeTar(plain, {file("a", "one")});
  writeTar(gzipped, {file("a", "one")}, Filter::Gzip);
  fs::create_directories(dir_ / "root");
  const ArchiveDigests read = extractArchive(openFile(gzipped, O_RDONLY).get(), dir_ / "root",
                                             {.whiteouts = true, .owners = false});
  EXPECT_EQ(read.stored, sha256Digest(readText(gzipped)));
  // The tar's padding, after its end-of-archive blocks, included: what a diff_id hashes.
  EXPECT_EQ(read.decompressed, sha256Digest(readText(plain)));
}

// One byte of the gzip header's time altered: the layer still decompresses, to the same tar, but
// its blob is another. Found once the layer is extracted into the import's work directory, which
// goes: the store keeps the image it had and nothing else.
TEST_F(ImageStoreTest, RefusesALayerThatDoesNotHashToItsDigest) {
  importImage(ociLayout({{file("a")}}), "kept");
  const fs::path layout = ociLayout({{file("b")}, {file("c")}});
  const fs::path layer = blob(layout, layers_[1].digest);
  alterByte(layer, 4);
  const std::string message = refusal(layout);
  EXPECT_NE(message.find(fmt::format("layer 2 of 2 ({}): its content hashes to {}, not to its "
                                     "digest",
                                     layers_[1].digest, sha256Digest(readText(layer)))),
            std::string::npos)
      << message;
  EXPECT_EQ(storeEntries(), std::vector<std::string>{"kept"});
}

TEST_F(ImageStoreTest, RefusesALayerWhoseTarDoesNotHashToItsDiffId) {
  const fs::path layout = ociLayout({{file("a")}});
  const std::string diffId = layers_[0].diffId;
  layers_[0].diffId = sha256Digest("another tar");
  writeManifest(layout, "example.org/lab/router:1");
  const std::string message = refusal(layout);
  EXPECT_NE(message.find(fmt::format("layer 1 of 1 ({}): its tar hashes to {}, not to its diff_id "
                                     "{} (the image's config)",
                                     layers_[0].digest, diffId, layers_[0].diffId)),
            std::string::npos)
      << message;
  EXPECT_TRUE(storeEntries().empty());
}

TEST_F(ImageStoreTest, RefusesAManifestThatDoesNotHashToItsDigest) {
  const fs::path layout = ociLayout({{file("a")}});
  alterByte(blob(layout, manifest_), 0);
  const std::string message = refusal(layout);
  EXPECT_NE(message.find(fmt::format("blob {}: its content hashes to {}, not to its digest",
                                     manifest_, sha256Digest(readText(blob(layout, manifest_))))),
            std::string::npos)
      << message;
  EXPECT_TRUE(storeEntries().empty());
}

TEST_F(ImageStoreTest, RefusesAMalformedDigestNamingTheFile) {
  const fs::path layout = ociLayout({{file("a")}});
  json index = json::parse(readText(layout / "index.json"));
  std::string upper = manifest_;
  std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
  index["manifests"][0]["digest"] = "sha256:" + upper.substr(7);
  writeText(layout / "index.json", index.dump());
  std::string message = refusal(layout);
  EXPECT_NE(message.find("index.json's manifest: `sha256:" + upper.substr(7) + "` is not a digest"),
            std::string::npos)
      << message;
  index["manifests"][0]["digest"] = "sha512:" + std::string(128, 'a');
  writeText(layout / "index.json", index.dump());
  message = refusal(layout);
  EXPECT_NE(message.find("netlab verifies sha256 digests only, not sha512"), std::string::npos)
      << message;
  EXPECT_TRUE(storeEntries().empty());
}

// Before Docker 25 a layer has no digest of its own: its tar is checked against the config's
// diff_id.
TEST_F(ImageStoreTest, RefusesADockerLayerThatDoesNotHashToItsDiffId) {
  const fs::path archive = dir_ / "saved.tar";
  const std::string wrong = sha256Digest("another tar");
  writeDockerArchive(archive, {wrong, wrong});
  const std::string message = refusal(archive);
  EXPECT_NE(message.find("layer 1 of 2 (aaa/layer.tar): its tar hashes to sha256:"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find(", not to its diff_id " + wrong), std::string::npos) << message;
  EXPECT_TRUE(storeEntries().empty());
}

}  // namespace
}  // namespace netlab::image
