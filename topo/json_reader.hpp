// The topology document as a tree of JSON values that remember where they start, so that
// every diagnostic can name a line and a column. nlohmann's parser does the lexing behind
// readJson(); nothing of it shows here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "topo/diagnostics.hpp"

namespace netlab::topo {

// Beyond these the reader reports an error instead of spending memory or stack on the input.
inline constexpr size_t kMiB = size_t{1024} * 1024;
inline constexpr size_t kMaxTopologyBytes = 16 * kMiB;
inline constexpr size_t kMaxJsonDepth = 64;

enum class JsonType : uint8_t { Null, Boolean, Number, String, Array, Object };

struct JsonMember;

struct JsonNumber {
  double value = 0;
  std::optional<int64_t> integer;  // set when the literal is an integer that fits int64_t
};

struct JsonValue {
  using Array = std::vector<JsonValue>;
  using Object = std::vector<JsonMember>;  // document order, keys unique
  // The alternatives follow JsonType's order.
  using Data = std::variant<std::monostate, bool, JsonNumber, std::string, Array, Object>;

  Data data;
  uint32_t offset = 0;  // byte offset of the value's first character

  JsonType type() const { return static_cast<JsonType>(data.index()); }
  bool boolean() const { return std::get<bool>(data); }
  const JsonNumber& number() const { return std::get<JsonNumber>(data); }
  const std::string& string() const { return std::get<std::string>(data); }
  const Array& array() const { return std::get<Array>(data); }
  const Object& object() const { return std::get<Object>(data); }
};

struct JsonMember {
  std::string key;
  uint32_t keyOffset = 0;
  JsonValue value;
};

// "a string", "an object", ...: for "expected X, found Y" messages.
std::string_view describe(JsonType type);

// Parses text, reporting syntax errors, invalid UTF-8, duplicate keys (the first value is
// kept), nesting deeper than kMaxJsonDepth and input larger than kMaxTopologyBytes.
// nullopt when no document could be read.
std::optional<JsonValue> readJson(std::string_view text, DiagnosticSink& sink);

}  // namespace netlab::topo
