#include "base/ip.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

namespace netlab {
namespace {

// Longest textual IPv6 address inet_pton can accept, with room to spare; longer input is
// rejected before it is copied.
constexpr size_t kMaxAddressText = 64;

// Keeps the first `length` bits of bytes and clears the rest.
void clearHostBits(std::array<uint8_t, 16>& bytes, int length, size_t size) {
  for (size_t i = 0; i < size; ++i) {
    const int bitsBefore = static_cast<int>(i) * 8;
    if (bitsBefore >= length) {
      bytes[i] = 0;
    } else if (bitsBefore + 8 > length) {
      bytes[i] &= static_cast<uint8_t>(0xff << (8 - (length - bitsBefore)));
    }
  }
}

std::optional<uint8_t> parseLength(std::string_view text, int maxBits) {
  // Strict decimal: digits only, no leading zeros.
  const bool digits =
      std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits || text.empty() || text.size() > 3 || (text.size() > 1 && text[0] == '0')) {
    return std::nullopt;
  }
  int value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value > maxBits) {
    return std::nullopt;
  }
  return static_cast<uint8_t>(value);
}

}  // namespace

std::optional<IpAddress> parseAddress(std::string_view text) {
  if (text.empty() || text.size() > kMaxAddressText) return std::nullopt;
  // inet_pton needs a NUL-terminated string and must not see an embedded NUL.
  if (text.find('\0') != std::string_view::npos) return std::nullopt;
  const std::string terminated(text);
  IpAddress address;
  address.family = text.find(':') == std::string_view::npos ? Family::V4 : Family::V6;
  const int af = address.family == Family::V4 ? AF_INET : AF_INET6;
  if (inet_pton(af, terminated.c_str(), address.bytes.data()) != 1) return std::nullopt;
  return address;
}

std::optional<IpPrefix> parsePrefix(std::string_view text) {
  const size_t slash = text.find('/');
  auto address = parseAddress(text.substr(0, slash));
  if (!address) return std::nullopt;
  IpPrefix prefix{*address, static_cast<uint8_t>(address->bits())};
  if (slash != std::string_view::npos) {
    auto length = parseLength(text.substr(slash + 1), address->bits());
    if (!length) return std::nullopt;
    prefix.length = *length;
  }
  return prefix;
}

std::string toString(const IpAddress& address) {
  char buffer[INET6_ADDRSTRLEN] = {};
  const int af = address.family == Family::V4 ? AF_INET : AF_INET6;
  inet_ntop(af, address.bytes.data(), buffer, sizeof buffer);
  return buffer;
}

std::string toString(const IpPrefix& prefix) {
  return toString(prefix.address) + "/" + std::to_string(prefix.length);
}

IpPrefix networkOf(const IpPrefix& prefix) {
  IpPrefix network = prefix;
  clearHostBits(network.address.bytes, prefix.length, prefix.address.size());
  return network;
}

bool hasHostBits(const IpPrefix& prefix) {
  return networkOf(prefix) != prefix;
}

bool contains(const IpPrefix& network, const IpAddress& address) {
  if (network.address.family != address.family) return false;
  return networkOf(IpPrefix{address, network.length}).address == networkOf(network).address;
}

bool overlaps(const IpPrefix& a, const IpPrefix& b) {
  // Two prefixes overlap exactly when the shorter one contains the other's network.
  return a.length <= b.length ? contains(a, b.address) : contains(b, a.address);
}

bool isLinkLocal(const IpAddress& address) {
  return address.family == Family::V6 && address.bytes[0] == 0xfe &&
         (address.bytes[1] & 0xc0) == 0x80;
}

}  // namespace netlab
