// IP addresses and prefixes as plain values, shared by the topology model, the netlink layer and
// the code that runs labs.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace netlab {

enum class Family : uint8_t { V4 = 4, V6 = 6 };

struct IpAddress {
  Family family = Family::V4;
  // Network byte order; only the first 4 bytes are used for IPv4.
  std::array<uint8_t, 16> bytes{};

  size_t size() const { return family == Family::V4 ? 4 : 16; }
  int bits() const { return family == Family::V4 ? 32 : 128; }
  auto operator<=>(const IpAddress&) const = default;
};

// An address with a prefix length: an interface address ("10.0.0.1/30") or a network
// ("10.0.0.0/30"), depending on where it is used.
struct IpPrefix {
  IpAddress address;
  uint8_t length = 0;
  auto operator<=>(const IpPrefix&) const = default;
};

std::optional<IpAddress> parseAddress(std::string_view text);
// Accepts "addr/len"; without "/len" the full length (host prefix) is assumed.
std::optional<IpPrefix> parsePrefix(std::string_view text);
std::string toString(const IpAddress& address);
std::string toString(const IpPrefix& prefix);

// The prefix with its host bits cleared.
IpPrefix networkOf(const IpPrefix& prefix);
bool hasHostBits(const IpPrefix& prefix);
bool contains(const IpPrefix& network, const IpAddress& address);
bool overlaps(const IpPrefix& a, const IpPrefix& b);
// fe80::/10: usable only together with an interface.
bool isLinkLocal(const IpAddress& address);

}  // namespace netlab
