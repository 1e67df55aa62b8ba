// What netlab web accepts from outside: listen addresses, Host and Origin, control bodies.
#include <gtest/gtest.h>

#include "base/error.hpp"
#include "web/requests.hpp"

namespace netlab::web {
namespace {

TEST(ListenAddress, TakesAddressAndPort) {
  EXPECT_EQ(parseListenAddress("127.0.0.1:8080").host, "127.0.0.1");
  EXPECT_EQ(parseListenAddress("127.0.0.1:8080").port, 8080);
  EXPECT_EQ(parseListenAddress("[::1]:0").host, "::1");
  EXPECT_EQ(parseListenAddress("localhost:80").port, 80);
  for (const char* bad : {"8080", "127.0.0.1", "127.0.0.1:http", "127.0.0.1:70000", "::1:80",
                          "example.com:80", "[::1:80", ""}) {
    EXPECT_THROW(parseListenAddress(bad), Error) << bad;
  }
}

TEST(Host, OnLoopbackOnlyLoopbackNamesAndThePort) {
  const ListenAddress loopback{"127.0.0.1", 0};
  EXPECT_TRUE(hostAccepted(loopback, 8080, "127.0.0.1:8080"));
  EXPECT_TRUE(hostAccepted(loopback, 8080, "localhost:8080"));
  EXPECT_TRUE(hostAccepted(loopback, 8080, "[::1]:8080"));
  EXPECT_FALSE(hostAccepted(loopback, 8080, "127.0.0.1:8081"));
  EXPECT_FALSE(hostAccepted(loopback, 8080, "rebound.example:8080"));  // DNS rebinding
  EXPECT_FALSE(hostAccepted(loopback, 8080, ""));
  EXPECT_TRUE(hostAccepted(loopback, 80, "localhost"));  // the scheme's default port
}

TEST(Host, OnAWildcardAnyIpLiteralButNoName) {
  const ListenAddress any{"0.0.0.0", 8080};
  EXPECT_TRUE(hostAccepted(any, 8080, "192.0.2.7:8080"));
  EXPECT_FALSE(hostAccepted(any, 8080, "lab.example:8080"));
  const ListenAddress one{"192.0.2.7", 8080};
  EXPECT_TRUE(hostAccepted(one, 8080, "192.0.2.7:8080"));
  EXPECT_FALSE(hostAccepted(one, 8080, "localhost:8080"));
}

TEST(Origin, OnlyThisServersOwnPage) {
  EXPECT_TRUE(sameOrigin("http://127.0.0.1:8080", "127.0.0.1:8080"));
  EXPECT_FALSE(sameOrigin("http://attacker.example", "127.0.0.1:8080"));
  EXPECT_FALSE(sameOrigin("http://127.0.0.1:8081", "127.0.0.1:8080"));
  EXPECT_FALSE(sameOrigin("https://127.0.0.1:8080", "127.0.0.1:8080"));
  EXPECT_FALSE(sameOrigin("null", "127.0.0.1:8080"));
}

TEST(ImpairmentRequest, TheLinkSetOptionsAsJson) {
  auto request = parseImpairmentRequest(
      R"({"delay": "20ms", "loss": "1%", "rate": "10mbit", "limit": 100, "direction": "out"})");
  EXPECT_EQ(request.edit.fields.delayUs, 20000u);
  EXPECT_EQ(request.edit.fields.lossPercent, 1.0);
  EXPECT_EQ(request.edit.fields.rateBitsPerSecond, 10'000'000u);
  EXPECT_EQ(request.edit.fields.limitPackets, 100u);
  EXPECT_EQ(request.direction, nsmgr::Direction::Out);
  EXPECT_FALSE(request.edit.clearFirst);
  EXPECT_TRUE(parseImpairmentRequest(R"({"reset": true})").edit.clearFirst);
}

TEST(ImpairmentRequest, RefusesWhatLinkSetWould) {
  for (const char* bad : {"", "[]", "{}", R"({"delay": "soon"})", R"({"delay": 20})",
                          R"({"colour": "red"})", R"({"loss": "120%"})", R"({"limit": 0})",
                          R"({"rate": "1mbit", "direction": "up"})", R"({"reset": "yes"})"}) {
    EXPECT_THROW(parseImpairmentRequest(bad), Error) << bad;
  }
}

}  // namespace
}  // namespace netlab::web
