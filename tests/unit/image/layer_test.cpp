// The pieces of an import that need no archive: entry paths, whiteouts, digests and hashing,
// names.
#include <gtest/gtest.h>

#include "base/error.hpp"
#include "base/image_name.hpp"
#include "image/digest.hpp"
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

const std::string kHex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

TEST(BlobPath, FromDigest) {
  EXPECT_EQ(blobPath("sha256:" + kHex), "blobs/sha256/" + kHex);
  EXPECT_THROW(blobPath("sha256:../../etc/passwd"), Error);
  EXPECT_THROW(blobPath("..:abc"), Error);
  EXPECT_THROW(blobPath("sha256/abc"), Error);
  EXPECT_THROW(blobPath("sha256:"), Error);
}

TEST(Digest, IsSha256AndSixtyFourLowerCaseHexDigits) {
  EXPECT_NO_THROW(checkDigest("sha256:" + kHex));
  EXPECT_THROW(checkDigest("sha256:" + kHex.substr(1)), Error);
  EXPECT_THROW(checkDigest("sha256:" + kHex + "0"), Error);
  EXPECT_THROW(checkDigest("sha256:0123456789ABCDEF" + kHex.substr(16)), Error);
  EXPECT_THROW(checkDigest("sha256:" + kHex.substr(1) + "g"), Error);
  EXPECT_THROW(checkDigest(kHex), Error);
  try {
    checkDigest("sha512:" + kHex + kHex);
    FAIL() << "a sha512 digest is taken";
  } catch (const Error& error) {
    EXPECT_STREQ(
        error.what(),
        ("`sha512:" + kHex + kHex + "`: netlab verifies sha256 digests only, not sha512").c_str());
  }
}

TEST(Digest, Sha256OfKnownData) {
  EXPECT_EQ(sha256Digest(""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256Digest("abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 pieces;
  pieces.update("a", 1);
  pieces.update("bc", 2);
  EXPECT_EQ(pieces.finish(), sha256Digest("abc"));
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
