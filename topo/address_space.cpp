#include "topo/address_space.hpp"

#include <limits>

namespace netlab::topo {
namespace {

// Adds 2^exponent; nullopt on overflow.
std::optional<IpAddress> addPowerOfTwo(const IpAddress& address, int exponent) {
  IpAddress result = address;
  int byte = static_cast<int>(address.size()) - 1 - exponent / 8;
  unsigned carry = 1u << (exponent % 8);
  for (; byte >= 0 && carry != 0; --byte) {
    const unsigned sum = result.bytes[byte] + carry;
    result.bytes[byte] = static_cast<uint8_t>(sum & 0xff);
    carry = sum >> 8;
  }
  if (carry != 0) return std::nullopt;
  return result;
}

}  // namespace

IpAddress lastAddress(const IpPrefix& prefix) {
  IpAddress last = prefix.address;
  for (size_t i = 0; i < last.size(); ++i) {
    const int bitsBefore = static_cast<int>(i) * 8;
    if (bitsBefore >= prefix.length) {
      last.bytes[i] = 0xff;
    } else if (bitsBefore + 8 > prefix.length) {
      last.bytes[i] |= static_cast<uint8_t>(0xff >> (prefix.length - bitsBefore));
    }
  }
  return last;
}

std::optional<IpAddress> addToAddress(const IpAddress& address, uint64_t offset) {
  IpAddress result = address;
  uint64_t carry = offset;
  for (int byte = static_cast<int>(address.size()) - 1; byte >= 0 && carry != 0; --byte) {
    const uint64_t sum = result.bytes[byte] + (carry & 0xff);
    result.bytes[byte] = static_cast<uint8_t>(sum & 0xff);
    carry = (carry >> 8) + (sum >> 8);
  }
  if (carry != 0) return std::nullopt;
  return result;
}

uint64_t usableHosts(Family family, uint8_t length) {
  const int hostBits = (family == Family::V4 ? 32 : 128) - length;
  if (hostBits >= 64) return std::numeric_limits<uint64_t>::max();
  const uint64_t size = uint64_t{1} << hostBits;
  if (family == Family::V6) return size - 1;
  return hostBits <= 1 ? size : size - 2;
}

void AddressSpace::add(const IpPrefix& prefix) {
  IpAddress first = networkOf(prefix).address;
  IpAddress last = lastAddress(prefix);
  // Absorb every range that overlaps or touches [first, last].
  auto it = ranges_.upper_bound(last);
  if (auto after = addToAddress(last, 1)) it = ranges_.upper_bound(*after);
  while (it != ranges_.begin()) {
    auto previous = std::prev(it);
    auto afterPrevious = addToAddress(previous->second, 1);
    if (afterPrevious && *afterPrevious < first) break;
    if (previous->first < first) first = previous->first;
    if (last < previous->second) last = previous->second;
    it = ranges_.erase(previous);
  }
  ranges_.emplace(first, last);
}

bool AddressSpace::overlaps(const IpPrefix& prefix) const {
  // Only the last range starting at or before the prefix's end can reach into it.
  auto it = ranges_.upper_bound(lastAddress(prefix));
  if (it == ranges_.begin()) return false;
  return !(std::prev(it)->second < networkOf(prefix).address);
}

std::optional<IpPrefix> AddressSpace::firstFree(const IpPrefix& pool, uint8_t length) const {
  if (length < pool.length || length > pool.address.bits()) return std::nullopt;
  const IpAddress poolLast = lastAddress(pool);
  IpPrefix candidate{networkOf(pool).address, length};
  for (;;) {
    auto it = ranges_.upper_bound(lastAddress(candidate));
    if (it == ranges_.begin() || std::prev(it)->second < candidate.address) return candidate;
    // Jump past the range in the way, to the next subnet boundary.
    auto next = addToAddress(std::prev(it)->second, 1);
    if (!next) return std::nullopt;
    IpPrefix aligned = networkOf({*next, length});
    if (aligned.address < *next) {
      auto bumped = addPowerOfTwo(aligned.address, aligned.address.bits() - length);
      if (!bumped) return std::nullopt;
      aligned.address = *bumped;
    }
    if (poolLast < lastAddress(aligned)) return std::nullopt;
    candidate = aligned;
  }
}

}  // namespace netlab::topo
