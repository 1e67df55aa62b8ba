// Filters: the routing protocols' names pcap lacks are written out; everything else is left to
// libpcap, which refuses a bad expression by name.
#include <gtest/gtest.h>

#include "base/error.hpp"
#include "capture/capture.hpp"

namespace netlab::capture {
namespace {

TEST(CaptureFilter, RoutingProtocolsAreWrittenOut) {
  EXPECT_EQ(expandFilterAliases("ospf or arp"), "(ip proto 89 or ip6 proto 89) or arp");
  EXPECT_EQ(expandFilterAliases("bgp and host 10.0.0.1"), "(tcp port 179) and host 10.0.0.1");
  EXPECT_EQ(expandFilterAliases("not(rip)"), "not((udp port 520 or udp port 521))");
  EXPECT_EQ(expandFilterAliases("ip proto ospf"), "ip proto ospf") << "pcap's own name there";
  EXPECT_EQ(expandFilterAliases("tcp port bgp"), "tcp port bgp");
  EXPECT_EQ(expandFilterAliases("ospfv3 or bgpd"), "ospfv3 or bgpd") << "whole words only";
  EXPECT_NO_THROW(checkFilter("ospf or arp or bgp or bfd or rip", 65535));
}

TEST(CaptureFilter, ABadExpressionIsNamed) {
  try {
    checkFilter("tcp port (((", 65535);
    FAIL() << "accepted";
  } catch (const Error& error) {
    EXPECT_EQ(error.errnoValue(), EINVAL);
    EXPECT_NE(std::string(error.what()).find("capture filter `tcp port (((`: "), std::string::npos)
        << error.what();
  }
}

}  // namespace
}  // namespace netlab::capture
