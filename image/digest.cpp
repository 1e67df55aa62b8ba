#include "image/digest.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>

#include "base/error.hpp"

namespace netlab::image {
namespace {

constexpr std::string_view kSha256 = "sha256";
constexpr size_t kSha256HexDigits = 64;

bool isLowerHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool isLowerAlphanumeric(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z');
}

// libcrypto's SHA-256 (the default provider's) fails only without memory.
[[noreturn]] void throwCrypto(const char* operation) {
  throw Error(fmt::format("{} (SHA-256) failed", operation), ENOMEM);
}

}  // namespace

void checkDigest(const std::string& digest) {
  const size_t colon = digest.find(':');
  const std::string_view algorithm = std::string_view(digest).substr(0, colon);
  const std::string_view hex =
      colon == std::string::npos ? "" : std::string_view(digest).substr(colon + 1);
  if (algorithm == kSha256 && hex.size() == kSha256HexDigits &&
      std::all_of(hex.begin(), hex.end(), isLowerHex)) {
    return;
  }
  if (colon != std::string::npos && algorithm != kSha256 && !algorithm.empty() &&
      std::all_of(algorithm.begin(), algorithm.end(), isLowerAlphanumeric)) {
    throw Error(fmt::format("`{}`: netlab verifies sha256 digests only, not {}", digest, algorithm),
                ENOTSUP);
  }
  throw Error(fmt::format("`{}` is not a digest (sha256: and 64 lower-case hex digits)", digest),
              EINVAL);
}

void Sha256::ContextFree::operator()(evp_md_ctx_st* context) const {
  EVP_MD_CTX_free(context);
}

Sha256::Sha256() : context_(EVP_MD_CTX_new()) {
  if (!context_) throwCrypto("EVP_MD_CTX_new");
  if (EVP_DigestInit_ex(context_.get(), EVP_sha256(), nullptr) != 1) {
    throwCrypto("EVP_DigestInit_ex");
  }
}

void Sha256::update(const void* data, size_t size) {
  if (EVP_DigestUpdate(context_.get(), data, size) != 1) throwCrypto("EVP_DigestUpdate");
}

std::string Sha256::finish() {
  unsigned char hash[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_DigestFinal_ex(context_.get(), hash, &size) != 1) throwCrypto("EVP_DigestFinal_ex");
  std::string digest = fmt::format("{}:", kSha256);
  for (unsigned int i = 0; i < size; ++i) digest += fmt::format("{:02x}", hash[i]);
  return digest;
}

std::string sha256Digest(std::string_view data) {
  Sha256 hash;
  hash.update(data.data(), data.size());
  return hash.finish();
}

void checkContent(const std::string& actual, const std::string& digest) {
  if (actual != digest) {
    throw Error(fmt::format("its content hashes to {}, not to its digest", actual), EBADMSG);
  }
}

}  // namespace netlab::image
