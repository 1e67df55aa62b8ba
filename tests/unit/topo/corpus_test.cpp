// Nasty inputs: every file in tests/fuzz/corpus (the fuzzer's seeds) and some too large to
// check in. Each must load quickly, without crashing, and (being invalid) with an error.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "test_support.hpp"

namespace netlab::topo {
namespace {

using Clock = std::chrono::steady_clock;
// A guard against a hang or a quadratic blow-up, not a measure of speed (bench/ has those): the
// largest input here loads in about 1.3 s on a free core, and a shared CI machine may give it
// a third of one.
constexpr auto kTimeBound = std::chrono::seconds(10);

LoadResult timedLoad(std::string_view text) {
  const auto start = Clock::now();
  auto result = testing::load(text);
  EXPECT_LT(Clock::now() - start, kTimeBound);
  return result;
}

TEST(Corpus, EveryCheckedInInputIsRejectedQuickly) {
  const auto dir = testing::sourceDir() / "tests/fuzz/corpus";
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    SCOPED_TRACE(entry.path().filename().string());
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    auto result = timedLoad(text.str());
    EXPECT_FALSE(result.ok());
    EXPECT_GE(testing::errorCount(result), 1u);
    ++files;
  }
  EXPECT_GE(files, 20u);
}

TEST(Corpus, FiveThousandNodesInAChain) {
  std::string nodes;
  std::string links;
  for (int i = 0; i < 5000; ++i) {
    nodes += fmt::format("{}\"n{}\": {{\"kind\": \"router\"}}", i ? ", " : "", i);
    if (i > 0) links += fmt::format("{}[\"n{}\", \"n{}\"]", i > 1 ? ", " : "", i - 1, i);
  }
  auto result = timedLoad(fmt::format(R"({{"nodes": {{{}}}, "links": [{}]}})", nodes, links));
  ASSERT_TRUE(result.ok()) << testing::dump(result);
  EXPECT_EQ(result.plan->nodes.size(), 5000u);
  EXPECT_EQ(testing::addressesOf(testing::interfaceOf(*result.plan, "n4999", "eth0")),
            "10.0.78.26/30");
}

TEST(Corpus, ThousandsOfLinksOnOneInterface) {
  std::string links;
  for (int i = 0; i < 3000; ++i) links += fmt::format("{}[\"a:eth0\", \"b\"]", i ? ", " : "");
  auto result =
      timedLoad(fmt::format(R"({{"nodes": {{"a": {{}}, "b": {{}}}}, "links": [{}]}})", links));
  EXPECT_FALSE(result.ok());
  EXPECT_TRUE(testing::find(result, "interface a:eth0 is used twice"));
  // Reports are capped; the last one says so.
  EXPECT_LE(result.diagnostics.size(), 1001u);
  EXPECT_NE(result.diagnostics.back().message.find("too many problems"), std::string::npos);
}

TEST(Corpus, AHugeLan) {
  std::string nodes;
  std::string endpoints;
  for (int i = 0; i < 2000; ++i) {
    nodes += fmt::format("{}\"h{}\": {{}}", i ? ", " : "", i);
    endpoints += fmt::format("{}\"h{}\"", i ? ", " : "", i);
  }
  auto result = timedLoad(fmt::format(R"({{"nodes": {{{}}}, "links": [[{}]]}})", nodes, endpoints));
  EXPECT_TRUE(testing::find(result, "switch lan0 has 2000 ports")) << testing::dump(result);
}

TEST(Corpus, InputLargerThanTheCap) {
  std::string text = R"({"nodes": {"a": {}}, "pad": ")";
  text += std::string(16 * 1024 * 1024, 'x') + "\"}";
  auto result = timedLoad(text);
  EXPECT_TRUE(testing::find(result, "larger than 16 MiB"));
}

TEST(Corpus, ManyTinyValuesStayWithinTheCap) {
  std::string text = R"({"nodes": {"a": {}}, "links": [)";
  for (int i = 0; i < 200'000; ++i) text += i ? ",1" : "1";
  text += "]}";
  auto result = timedLoad(text);
  EXPECT_TRUE(testing::find(result, "expected an array of endpoints or a link object"));
}

}  // namespace
}  // namespace netlab::topo
