#include "topo/json_reader.hpp"

#include <gtest/gtest.h>

#include <string>

namespace netlab::topo {
namespace {

struct Read {
  std::optional<JsonValue> root;
  std::vector<Diagnostic> diagnostics;
};

Read read(std::string_view text) {
  DiagnosticSink sink(text);
  auto root = readJson(text, sink);
  return {std::move(root), sink.take()};
}

TEST(JsonReader, RecordsTheOffsetOfEveryValueAndKey) {
  const std::string text = "{\"a\": [1, \"x\", {\"b\": true}],\n \"c\": null}";
  auto result = read(text);
  ASSERT_TRUE(result.root) << result.diagnostics.front().message;
  const auto& members = result.root->object();
  ASSERT_EQ(members.size(), 2u);
  EXPECT_EQ(members[0].keyOffset, text.find("\"a\""));
  const auto& items = members[0].value.array();
  EXPECT_EQ(members[0].value.offset, text.find('['));
  EXPECT_EQ(items[0].offset, text.find('1'));
  EXPECT_EQ(items[1].offset, text.find("\"x\""));
  EXPECT_EQ(items[2].offset, text.find("{\"b\""));
  EXPECT_EQ(items[2].object()[0].value.offset, text.find("true"));
  EXPECT_EQ(members[1].keyOffset, text.find("\"c\""));
  EXPECT_EQ(members[1].value.offset, text.find("null"));
}

TEST(JsonReader, NumbersKnowWhetherTheyAreIntegers) {
  auto result = read("[1, -2, 1.5, 18446744073709551615]");
  ASSERT_TRUE(result.root);
  const auto& items = result.root->array();
  EXPECT_EQ(items[0].number().integer, 1);
  EXPECT_EQ(items[1].number().integer, -2);
  EXPECT_FALSE(items[2].number().integer);
  EXPECT_FALSE(items[3].number().integer);
}

TEST(JsonReader, ReportsDuplicateKeysAndKeepsTheFirst) {
  auto result = read("{\"nodes\": {\n  \"r1\": {},\n  \"r1\": {\"kind\": 1}\n}}");
  ASSERT_TRUE(result.root);
  ASSERT_EQ(result.diagnostics.size(), 1u);
  const Diagnostic& diagnostic = result.diagnostics[0];
  EXPECT_EQ(diagnostic.message, "duplicate key `r1`");
  EXPECT_EQ(diagnostic.location, "nodes.r1");
  EXPECT_EQ(diagnostic.line, 3);
  EXPECT_EQ(diagnostic.column, 3);
  EXPECT_NE(diagnostic.hint.find("line 2"), std::string::npos);
  EXPECT_TRUE(result.root->object()[0].value.object()[0].value.object().empty());
}

TEST(JsonReader, SyntaxErrorsHaveALineAndColumn) {
  auto result = read("{\n  \"a\": tru\n}");
  EXPECT_FALSE(result.root);
  ASSERT_EQ(result.diagnostics.size(), 1u);
  EXPECT_NE(result.diagnostics[0].message.find("invalid JSON: syntax error"), std::string::npos);
  EXPECT_EQ(result.diagnostics[0].line, 2);
  EXPECT_EQ(result.diagnostics[0].column, 11);
}

TEST(JsonReader, TruncatedDocument) {
  auto result = read("{\"nodes\": {\"r1\": {");
  EXPECT_FALSE(result.root);
  ASSERT_EQ(result.diagnostics.size(), 1u);
  EXPECT_NE(result.diagnostics[0].message.find("unexpected end of input"), std::string::npos);
  EXPECT_EQ(result.diagnostics[0].location, "nodes.r1");
}

TEST(JsonReader, InvalidUtf8IsASyntaxError) {
  auto result = read("{\"name\": \"ab\xff\xfe\"}");
  EXPECT_FALSE(result.root);
  ASSERT_EQ(result.diagnostics.size(), 1u);
  EXPECT_NE(result.diagnostics[0].message.find("UTF-8"), std::string::npos);
  // The offending bytes are escaped, never copied into the message.
  EXPECT_EQ(result.diagnostics[0].message.find('\xff'), std::string::npos);
}

TEST(JsonReader, NumberOverflowIsReported) {
  auto result = read("{\"mtu\": 1e999}");
  EXPECT_FALSE(result.root);
  ASSERT_EQ(result.diagnostics.size(), 1u);
  EXPECT_NE(result.diagnostics[0].message.find("number overflow"), std::string::npos);
}

TEST(JsonReader, CapsNestingDepth) {
  auto result = read(std::string(10'000, '['));
  EXPECT_FALSE(result.root);
  ASSERT_EQ(result.diagnostics.size(), 1u);
  EXPECT_NE(result.diagnostics[0].message.find("deeper than 64 levels"), std::string::npos);
  EXPECT_EQ(result.diagnostics[0].column, 65);
  EXPECT_TRUE(read(std::string(64, '[') + std::string(64, ']')).root);
}

TEST(JsonReader, CapsInputSize) {
  auto result = read(std::string(kMaxTopologyBytes + 1, ' '));
  EXPECT_FALSE(result.root);
  ASSERT_EQ(result.diagnostics.size(), 1u);
  EXPECT_NE(result.diagnostics[0].message.find("larger than 16 MiB"), std::string::npos);
}

TEST(JsonReader, SkipsAByteOrderMark) {
  auto result = read("\xEF\xBB\xBF{\"a\": 1}");
  ASSERT_TRUE(result.root);
  EXPECT_EQ(result.root->offset, 3u);
  EXPECT_EQ(result.root->object()[0].value.offset, 9u);
}

TEST(JsonReader, ColumnsCountCharactersNotBytes) {
  auto result = read("{\"h\u00e9\": 1, \"h\u00e9\": 2}");
  ASSERT_EQ(result.diagnostics.size(), 1u);
  EXPECT_EQ(result.diagnostics[0].column, 11);
}

TEST(JsonReader, PathsQuoteKeysThatAreNotNames) {
  EXPECT_EQ(memberPath("", "nodes"), "nodes");
  EXPECT_EQ(memberPath("nodes", "r-1_a"), "nodes.r-1_a");
  EXPECT_EQ(memberPath("nodes", "weird key"), "nodes[\"weird key\"]");
  EXPECT_EQ(memberPath("sysctls", "net.ipv4.ip_forward"), "sysctls[\"net.ipv4.ip_forward\"]");
  EXPECT_EQ(memberPath("x", "a\"b"), "x[\"a\\\"b\"]");
  EXPECT_EQ(indexPath("links", 3), "links[3]");
}

}  // namespace
}  // namespace netlab::topo
