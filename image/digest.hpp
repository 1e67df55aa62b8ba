// Blob digests, OCI's "sha256:HEX": their form checked, and content hashed with OpenSSL's
// libcrypto, which only the netlab-image helper links (image_import.hpp says why).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX, kept out of this header

namespace netlab::image {

// Throws Error unless digest is "sha256:" and 64 lower-case hex digits. OCI registers sha512
// too, but no image tool writes it: such a digest is refused as unsupported, not skipped.
void checkDigest(const std::string& digest);

// SHA-256 over data given in pieces, as a layer streams through.
class Sha256 {
 public:
  Sha256();
  void update(const void* data, size_t size);
  // "sha256:HEX" of everything given; nothing more can be given after.
  std::string finish();

 private:
  struct ContextFree {
    void operator()(evp_md_ctx_st* context) const;
  };
  std::unique_ptr<evp_md_ctx_st, ContextFree> context_;
};

std::string sha256Digest(std::string_view data);

// Throws Error "its content hashes to ACTUAL, not to its digest" unless actual is digest; the
// caller names the blob by its digest.
void checkContent(const std::string& actual, const std::string& digest);

}  // namespace netlab::image
