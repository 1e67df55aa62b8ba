// The pieces of an import that need no archive: entry paths, whiteouts, digests, names.
#include <gtest/gtest.h>

#include "base/error.hpp"
#include "base/image_name.hpp"
#include "image/image_source.hpp"
#include "image/image_store.hpp"
#include "image/layer.hpp"

namespace netlab::image {
namespace {

TEST(EntryPath, DropsDotsAndTrailingSlashes) {
  EXPECT_EQ(entryPathWithinRoot("./etc/passwd"), "etc/passwd");
  EXPECT_EQ(entryPathWithinRoot("etc/"), "etc");
  EXPECT_EQ(entryPathWithinRoot("./"), "");
  EXPECT_EQ(entryPathWithinRoot("a/./b"), "a/b");
}

TEST(EntryPath, RefusesWhatLeavesTheRoot) {
  EXPECT_THROW(entryPathWithinRoot("../x"), Error);
  EXPECT_THROW(entryPathWithinRoot("a/../../x"), Error);
  // Even one that would come back: tar extractors differ on it, so none is taken.
  EXPECT_THROW(entryPathWithinRoot("a/../b"), Error);
  EXPECT_THROW(entryPathWithinRoot("/etc/passwd"), Error);
}

TEST(Whiteout, NamesWhatItHides) {
  auto one = parseWhiteout("etc/.wh.motd");
  ASSERT_TRUE(one);
  EXPECT_EQ(one->directory, "etc");
  EXPECT_EQ(one->name, "motd");
  auto opaque = parseWhiteout("opt/app/.wh..wh..opq");
  ASSERT_TRUE(opaque);
  EXPECT_EQ(opaque->directory, "opt/app");
  EXPECT_FALSE(opaque->name);
  auto atRoot = parseWhiteout(".wh.srv");
  ASSERT_TRUE(atRoot);
  EXPECT_EQ(atRoot->directory, "");
  EXPECT_EQ(atRoot->name, "srv");
  EXPECT_FALSE(parseWhiteout("etc/motd.wh.x"));
  EXPECT_FALSE(parseWhiteout("etc/motd"));
}

TEST(Whiteout, RefusesOneOfItsDirectoryOrParent) {
  EXPECT_THROW(parseWhiteout("etc/.wh."), Error);
  EXPECT_THROW(parseWhiteout("etc/.wh.."), Error);
  EXPECT_THROW(parseWhiteout(".wh..."), Error);
}

TEST(BlobPath, FromDigest) {
  EXPECT_EQ(blobPath("sha256:0123abcd"), "blobs/sha256/0123abcd");
  EXPECT_THROW(blobPath("sha256:../../etc/passwd"), Error);
  EXPECT_THROW(blobPath("..:abc"), Error);
  EXPECT_THROW(blobPath("sha256/abc"), Error);
  EXPECT_THROW(blobPath("sha256:"), Error);
}

TEST(ImageName, FromReference) {
  EXPECT_EQ(imageNameFor("docker.io/library/Alpine:3.19", "/x/a.tar"), "alpine-3.19");
  EXPECT_EQ(imageNameFor("localhost/lab/router:v1", "/x/a.tar"), "lab-router-v1");
  EXPECT_EQ(imageNameFor("ghcr.io/org/app@sha256:abcd", "/x/a.tar"), "ghcr.io-org-app");
  EXPECT_EQ(imageNameFor("debian:12", "/x/a.tar"), "debian-12");
}

TEST(ImageName, FromFileWithoutReference) {
  EXPECT_EQ(imageNameFor("", "/x/debian-12.4.tar.gz"), "debian-12.4");
  EXPECT_EQ(imageNameFor("", "/x/My Image.tar"), "my-image");
  EXPECT_EQ(imageNameFor("", "/x/alpine.oci"), "alpine");
  EXPECT_EQ(imageNameFor("", "/x/---.tar"), "image");
  EXPECT_EQ(imageNameFor("", "/x/alpine-layout/"), "alpine-layout");
}

TEST(ImageName, ChecksAGivenOne) {
  EXPECT_NO_THROW(checkImageName("debian-12"));
  EXPECT_NO_THROW(checkImageName("frr_9.1"));
  EXPECT_THROW(checkImageName(""), Error);
  EXPECT_THROW(checkImageName("../x"), Error);
  EXPECT_THROW(checkImageName(".hidden"), Error);
  EXPECT_THROW(checkImageName("Debian"), Error);
  EXPECT_THROW(checkImageName(std::string(kMaxImageNameLength + 1, 'a')), Error);
}

}  // namespace
}  // namespace netlab::image
