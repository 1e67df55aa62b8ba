// Address arithmetic for automatic addressing, and the set of address ranges already taken.
#pragma once

#include <cstdint>
#include <map>
#include <optional>

#include "base/ip.hpp"

namespace netlab::topo {

// The highest address of the prefix (the IPv4 broadcast address).
IpAddress lastAddress(const IpPrefix& prefix);
// address + offset; nullopt when it wraps past the end of the address space.
std::optional<IpAddress> addToAddress(const IpAddress& address, uint64_t offset);
// How many addresses of a subnet of this length an interface may use: IPv4 skips the network
// and broadcast addresses below /31 (RFC 3021); IPv6 skips only the all-zero address.
// Saturates at UINT64_MAX.
uint64_t usableHosts(Family family, uint8_t length);

// Taken address ranges, merged when they touch, so that a search over a pool filled in
// order skips it in one step.
class AddressSpace {
 public:
  void add(const IpPrefix& prefix);
  bool overlaps(const IpPrefix& prefix) const;
  // The first subnet of the given length inside pool that overlaps nothing taken.
  std::optional<IpPrefix> firstFree(const IpPrefix& pool, uint8_t length) const;

 private:
  // first address -> last address, disjoint
  std::map<IpAddress, IpAddress> ranges_;
};

}  // namespace netlab::topo
