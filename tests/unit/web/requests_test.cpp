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

TEST(CaptureQuery, TenSecondsUnlessToldAndAlwaysBounded) {
  const capture::CaptureOptions plain = parseCaptureQuery({});
  EXPECT_EQ(plain.duration, std::chrono::seconds(10));
  EXPECT_FALSE(plain.count);
  EXPECT_EQ(plain.filter, "");
  const capture::CaptureOptions told =
      parseCaptureQuery({{"seconds", "60"}, {"count", "5"}, {"filter", "ospf or arp"}});
  EXPECT_EQ(told.duration, std::chrono::seconds(60));
  EXPECT_EQ(told.count, 5u);
  EXPECT_EQ(told.filter, "ospf or arp");
}

TEST(CaptureQuery, RefusesWhatItCannotUseByName) {
  for (const auto& [name, value] :
       std::vector<std::pair<std::string, std::string>>{{"seconds", "0"},
                                                        {"seconds", "3601"},
                                                        {"seconds", "1.5"},
                                                        {"seconds", ""},
                                                        {"count", "-1"},
                                                        {"count", "ten"},
                                                        {"snaplen", "64"}}) {
    try {
      parseCaptureQuery({{name, value}});
      ADD_FAILURE() << name << "=" << value << " was taken";
    } catch (const Error& error) {
      EXPECT_EQ(error.errnoValue(), EINVAL);
      EXPECT_NE(std::string(error.what()).find(name), std::string::npos) << error.what();
    }
  }
  EXPECT_THROW(parseCaptureQuery({{"count", "1"}, {"count", "2"}}), Error);
}

}  // namespace
}  // namespace netlab::web
