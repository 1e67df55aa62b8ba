#include "topo/units.hpp"

#include <gtest/gtest.h>

namespace netlab::topo {
namespace {

TEST(Units, ParsesDurations) {
  EXPECT_EQ(parseDuration("40ms").value, 40'000u);
  EXPECT_EQ(parseDuration("500us").value, 500u);
  EXPECT_EQ(parseDuration("1s").value, 1'000'000u);
  EXPECT_EQ(parseDuration("1.5ms").value, 1'500u);
  EXPECT_EQ(parseDuration("0ms").value, 0u);
}

TEST(Units, RejectsBadDurationsWithReasons) {
  EXPECT_NE(parseDuration("40").error.find("has no unit"), std::string::npos);
  EXPECT_NE(parseDuration("40ps").error.find("unknown unit `ps`"), std::string::npos);
  EXPECT_EQ(parseDuration("40ps").hint, "use us, ms or s");
  EXPECT_NE(parseDuration("0.5us").error.find("whole number of us"), std::string::npos);
  EXPECT_NE(parseDuration("61s").error.find("longer than 60s"), std::string::npos);
  for (std::string_view text :
       {"", "ms", "-1ms", ".5ms", "1.ms", "1e3ms", "99999999999999999999s"}) {
    EXPECT_FALSE(parseDuration(text).value) << text;
  }
}

TEST(Units, ParsesRatesCaseInsensitively) {
  EXPECT_EQ(parseRate("10mbit").value, 10'000'000u);
  EXPECT_EQ(parseRate("500Kbit").value, 500'000u);
  EXPECT_EQ(parseRate("1GBIT").value, 1'000'000'000u);
  EXPECT_EQ(parseRate("1.5mbit").value, 1'500'000u);
  EXPECT_EQ(parseRate("1000bit").value, 1'000u);
}

TEST(Units, RejectsRatesOutOfBoundsAndBytes) {
  EXPECT_NE(parseRate("100bit").error.find("outside 1kbit .. 100gbit"), std::string::npos);
  EXPECT_FALSE(parseRate("1tbit").value);
  EXPECT_NE(parseRate("10mbps").hint.find("bits per second"), std::string::npos);
}

TEST(Units, ParsesMemoryInBinaryUnitsWhateverTheirSpelling) {
  EXPECT_EQ(parseMemory("256M").value, 256u << 20);
  EXPECT_EQ(parseMemory("256m").value, 256u << 20);
  EXPECT_EQ(parseMemory("256MiB").value, 256u << 20);
  EXPECT_EQ(parseMemory("1.5G").value, 3u << 29);
  EXPECT_EQ(parseMemory("2048k").value, 2u << 20);
  EXPECT_EQ(parseMemory("1T").value, uint64_t{1} << 40);
  EXPECT_NE(parseMemory("512k").error.find("less than 1M"), std::string::npos);
  EXPECT_NE(parseMemory("256MB").error.find("unknown unit `MB`"), std::string::npos);
  EXPECT_NE(parseMemory("256").error.find("has no unit"), std::string::npos);
  EXPECT_FALSE(parseMemory("0.3G").value);  // not a whole number of bytes
  EXPECT_EQ(formatMemory(256u << 20), "256M");
  EXPECT_EQ(formatMemory(3u << 29), "1536M");
  EXPECT_EQ(formatMemory((1u << 20) + 1), "1048577B");
  EXPECT_EQ(describeResources({0.5, 256u << 20, 512}), "cpus 0.5, memory 256M, pids 512");
  EXPECT_EQ(describeResources({}), "");
}

TEST(Units, ParsesPercentages) {
  EXPECT_EQ(parsePercent("1%").value, 1.0);
  EXPECT_EQ(parsePercent("0.5%").value, 0.5);
  EXPECT_EQ(parsePercent("100%").value, 100.0);
  EXPECT_FALSE(parsePercent("101%").value);
  EXPECT_FALSE(parsePercent("5").value);
  EXPECT_FALSE(parsePercent("-1%").value);
}

TEST(Units, FormatsInTheLargestExactUnit) {
  EXPECT_EQ(formatDuration(40'000), "40ms");
  EXPECT_EQ(formatDuration(1'500), "1.5ms");
  EXPECT_EQ(formatDuration(500), "500us");
  EXPECT_EQ(formatDuration(2'000'000), "2s");
  EXPECT_EQ(formatDuration(0), "0us");
  EXPECT_EQ(formatRate(10'000'000), "10mbit");
  EXPECT_EQ(formatRate(1'500'000), "1.5mbit");
  EXPECT_EQ(formatPercent(0.5), "0.5%");
  EXPECT_EQ(formatPercent(1), "1%");
}

TEST(Units, DescribesAnImpairment) {
  Impairment impairment;
  EXPECT_EQ(describeImpairment(impairment), "");
  impairment.delayUs = 40'000;
  impairment.lossPercent = 1;
  impairment.rateBitsPerSecond = 10'000'000;
  EXPECT_EQ(describeImpairment(impairment), "delay 40ms loss 1% rate 10mbit");
}

}  // namespace
}  // namespace netlab::topo
