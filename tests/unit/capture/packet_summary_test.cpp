// One line per frame: what a terminal shows of a live capture, from frames built by hand (and
// frames cut short, which must not be read past).
#include <gtest/gtest.h>

#include <string>

#include "capture/packet_summary.hpp"

namespace netlab::capture {
namespace {

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int value : values) out.push_back(static_cast<char>(value));
  return out;
}

const std::string kEthernetIpv4 = bytes({0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00});

std::string ipv4(int protocol, const std::string& payload) {
  return bytes({0x45, 0, 0, 0, 0, 0, 0, 0, 64, protocol, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2}) + payload;
}

TEST(PacketSummary, IcmpEcho) {
  std::string frame = kEthernetIpv4 + ipv4(1, bytes({8, 0, 0, 0, 0, 7, 0, 3}));
  EXPECT_EQ(summarizeFrame(frame), "10.0.0.1 > 10.0.0.2 ICMP echo request, id 7, seq 3");
}

TEST(PacketSummary, OspfHelloAndTcp) {
  EXPECT_EQ(summarizeFrame(kEthernetIpv4 + ipv4(89, bytes({2, 1, 0, 44}))),
            "10.0.0.1 > 10.0.0.2 OSPFv2 Hello");
  std::string tcp = bytes({0, 179, 0xc3, 0x50, 0, 0, 0, 0, 0, 0, 0, 0, 0x50, 0x12});
  EXPECT_EQ(summarizeFrame(kEthernetIpv4 + ipv4(6, tcp)),
            "10.0.0.1 > 10.0.0.2 TCP 179 > 50000 [S.]");
}

TEST(PacketSummary, ArpRequest) {
  std::string frame =
      bytes({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06}) +
      bytes({0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 1, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2});
  EXPECT_EQ(summarizeFrame(frame), "ARP who has 10.0.0.2 tell 10.0.0.1");
}

TEST(PacketSummary, TruncatedFramesAreNotReadPast) {
  std::string frame = kEthernetIpv4 + ipv4(1, bytes({8, 0, 0, 0, 0, 7, 0, 3}));
  for (size_t length = 0; length < frame.size(); ++length) {
    EXPECT_FALSE(summarizeFrame(frame.substr(0, length)).empty()) << length;
  }
  EXPECT_EQ(summarizeFrame(frame.substr(0, 10)), "frame of 10 bytes (truncated)");
}

}  // namespace
}  // namespace netlab::capture
