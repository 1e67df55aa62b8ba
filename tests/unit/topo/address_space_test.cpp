#include "topo/address_space.hpp"

#include <gtest/gtest.h>

namespace netlab::topo {
namespace {

IpPrefix prefix(std::string_view text) {
  auto parsed = parsePrefix(text);
  EXPECT_TRUE(parsed) << text;
  return parsed.value_or(IpPrefix{});
}

TEST(AddressArithmetic, LastAddressAndOffsets) {
  EXPECT_EQ(toString(lastAddress(prefix("10.0.0.0/30"))), "10.0.0.3");
  EXPECT_EQ(toString(lastAddress(prefix("fd00::/120"))), "fd00::ff");
  EXPECT_EQ(toString(*addToAddress(*parseAddress("10.0.0.255"), 2)), "10.0.1.1");
  EXPECT_FALSE(addToAddress(*parseAddress("255.255.255.255"), 1));
  EXPECT_EQ(usableHosts(Family::V4, 24), 254u);
  EXPECT_EQ(usableHosts(Family::V4, 31), 2u);
  EXPECT_EQ(usableHosts(Family::V4, 32), 1u);
  EXPECT_EQ(usableHosts(Family::V6, 120), 255u);
}

TEST(AddressSpace, FindsTheFirstFreeAlignedSubnet) {
  AddressSpace space;
  const IpPrefix pool = prefix("10.0.0.0/16");
  EXPECT_EQ(toString(*space.firstFree(pool, 30)), "10.0.0.0/30");
  space.add(prefix("10.0.0.0/30"));
  space.add(prefix("10.0.0.5/32"));
  EXPECT_EQ(toString(*space.firstFree(pool, 30)), "10.0.0.8/30");
  EXPECT_EQ(toString(*space.firstFree(pool, 24)), "10.0.1.0/24");
  EXPECT_TRUE(space.overlaps(prefix("10.0.0.4/30")));
  EXPECT_FALSE(space.overlaps(prefix("10.0.0.8/29")));
}

TEST(AddressSpace, MergesTouchingRangesAndReportsExhaustion) {
  AddressSpace space;
  const IpPrefix pool = prefix("10.0.0.0/29");
  space.add(prefix("10.0.0.4/30"));
  space.add(prefix("10.0.0.0/30"));
  EXPECT_FALSE(space.firstFree(pool, 30));
  EXPECT_FALSE(space.firstFree(pool, 28));
  EXPECT_EQ(toString(*space.firstFree(prefix("10.0.0.0/28"), 30)), "10.0.0.8/30");
}

TEST(AddressSpace, KeepsFamiliesApart) {
  AddressSpace space;
  space.add(prefix("0.0.0.0/0"));
  EXPECT_EQ(toString(*space.firstFree(prefix("fd00::/48"), 64)), "fd00::/64");
}

}  // namespace
}  // namespace netlab::topo
