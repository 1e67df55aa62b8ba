#include "base/ip.hpp"

#include <gtest/gtest.h>

namespace netlab {
namespace {

IpPrefix prefix(std::string_view text) {
  auto parsed = parsePrefix(text);
  EXPECT_TRUE(parsed) << text;
  return parsed.value_or(IpPrefix{});
}

TEST(Ip, ParsesAndFormatsBothFamilies) {
  auto v4 = parseAddress("10.0.0.1");
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->family, Family::V4);
  EXPECT_EQ(toString(*v4), "10.0.0.1");
  auto v6 = parseAddress("FD00:0:0::1");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->family, Family::V6);
  EXPECT_EQ(toString(*v6), "fd00::1");
}

TEST(Ip, RejectsMalformedAddresses) {
  using namespace std::string_view_literals;
  for (std::string_view text : {""sv, "10.0.0"sv, "10.0.0.256"sv, "010.0.0.1"sv, "1.2.3.4 "sv,
                                "fe80::1%eth0"sv, "::g"sv, "1.2.3.4\0"sv, "10.0.0.1/24"sv}) {
    EXPECT_FALSE(parseAddress(text)) << text;
  }
}

TEST(Ip, PrefixLengthDefaultsToAHostRoute) {
  EXPECT_EQ(prefix("10.0.0.1").length, 32);
  EXPECT_EQ(prefix("fd00::1").length, 128);
  EXPECT_EQ(toString(prefix("10.1.0.0/16")), "10.1.0.0/16");
}

TEST(Ip, RejectsBadPrefixLengths) {
  for (std::string_view text : {"10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/08",
                                "10.0.0.0/+8", "fd00::/129", "10.0.0.0/8/8", "10.0.0.0/1x"}) {
    EXPECT_FALSE(parsePrefix(text)) << text;
  }
}

TEST(Ip, NetworksAndHostBits) {
  EXPECT_EQ(toString(networkOf(prefix("10.1.2.3/22"))), "10.1.0.0/22");
  EXPECT_EQ(toString(networkOf(prefix("fd00:1:2:3::7/52"))), "fd00:1:2::/52");
  EXPECT_TRUE(hasHostBits(prefix("10.0.0.1/30")));
  EXPECT_FALSE(hasHostBits(prefix("10.0.0.4/30")));
  EXPECT_FALSE(hasHostBits(prefix("0.0.0.0/0")));
}

TEST(Ip, ContainsAndOverlaps) {
  EXPECT_TRUE(contains(prefix("10.0.0.0/30"), *parseAddress("10.0.0.3")));
  EXPECT_FALSE(contains(prefix("10.0.0.0/30"), *parseAddress("10.0.0.4")));
  EXPECT_FALSE(contains(prefix("10.0.0.0/8"), *parseAddress("fd00::1")));
  EXPECT_TRUE(overlaps(prefix("10.0.0.0/16"), prefix("10.0.5.0/24")));
  EXPECT_TRUE(overlaps(prefix("10.0.5.0/24"), prefix("10.0.0.0/16")));
  EXPECT_FALSE(overlaps(prefix("10.0.0.0/30"), prefix("10.0.0.4/30")));
  EXPECT_FALSE(overlaps(prefix("10.0.0.0/8"), prefix("::/0")));
}

}  // namespace
}  // namespace netlab
