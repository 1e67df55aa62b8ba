#include "topo/json_reader.hpp"

#include <fmt/format.h>

#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>
#include <unordered_map>

namespace netlab::topo {
namespace {

// Counts the bytes nlohmann's lexer consumes. The parser keeps its own copy of the iterator,
// so the count lives outside it, where the SAX handler can read it.
class CountingIterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;

  CountingIterator(const char* at, size_t* consumed) : at_(at), consumed_(consumed) {}
  reference operator*() const { return *at_; }
  CountingIterator& operator++() {
    ++at_;
    ++*consumed_;
    return *this;
  }
  CountingIterator operator++(int) {
    CountingIterator before = *this;
    ++*this;
    return before;
  }
  bool operator==(const CountingIterator& other) const { return at_ == other.at_; }

 private:
  const char* at_;
  size_t* consumed_;
};

bool isSeparator(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == ':';
}

// "[json.exception.parse_error.101] parse error at line 1, column 9: syntax error ..." ->
// "syntax error ...": the position is reported as the diagnostic's own line and column.
std::string parseErrorText(std::string_view what) {
  if (auto bracket = what.find("] ");
      what.starts_with("[json.exception.") && bracket != std::string_view::npos) {
    what.remove_prefix(bracket + 2);
  }
  if (what.starts_with("parse error")) {
    if (auto colon = what.find(": "); colon != std::string_view::npos) {
      what.remove_prefix(colon + 2);
    }
  }
  return excerpt(what, 200);
}

// Builds the JsonValue tree from nlohmann's SAX events. Events carry no positions, so the
// start of each token is found from the byte count: everything between the end of the
// previous token and this one is whitespace or a separator. (The lexer may have read one
// byte past a number; that byte is always whitespace, a separator or a closing bracket.)
class DomBuilder {
 public:
  DomBuilder(std::string_view text, const size_t& consumed, DiagnosticSink& sink)
      : text_(text), consumed_(consumed), sink_(sink) {
    // The lexer skips a UTF-8 byte order mark.
    if (text.starts_with("\xEF\xBB\xBF")) scanFrom_ = 3;
  }

  // The SAX interface, spelled as nlohmann requires.
  bool null() { return addScalar(std::monostate{}); }
  bool boolean(bool value) { return addScalar(value); }
  bool number_integer(int64_t value) {
    return addScalar(JsonNumber{static_cast<double>(value), value});
  }
  bool number_unsigned(uint64_t value) {
    JsonNumber number{static_cast<double>(value), std::nullopt};
    if (value <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      number.integer = static_cast<int64_t>(value);
    }
    return addScalar(number);
  }
  bool number_float(double value, const std::string& /*spelling*/) {
    return addScalar(JsonNumber{value, std::nullopt});
  }
  bool string(std::string& value) { return addScalar(std::move(value)); }
  // Only the binary formats (CBOR, ...) produce binary values; JSON text never does.
  bool binary(nlohmann::json::binary_t& /*value*/) { return false; }
  bool start_object(size_t /*elements*/) { return open(JsonValue::Object{}); }
  bool start_array(size_t /*elements*/) { return open(JsonValue::Array{}); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }
  bool key(std::string& key);
  bool parse_error(size_t position, const std::string& /*lastToken*/,
                   const nlohmann::detail::exception& error);

  std::optional<JsonValue> takeRoot() { return std::move(root_); }

 private:
  struct Frame {
    JsonValue container;
    std::string path;
    // Keys seen so far in an object, with their offsets, to report duplicates.
    std::unordered_map<std::string, uint32_t> keys;
    std::string key;
    uint32_t keyOffset = 0;
    bool discardValue = false;  // the pending key is a duplicate
  };

  uint32_t tokenStart();
  std::string childPath() const;
  template <typename T>
  bool addScalar(T data) {
    const uint32_t at = tokenStart();
    add(JsonValue{std::move(data), at});
    return true;
  }
  bool open(JsonValue::Data data);
  bool close();
  void add(JsonValue value);

  std::string_view text_;
  const size_t& consumed_;
  DiagnosticSink& sink_;
  size_t scanFrom_ = 0;
  std::vector<Frame> stack_;
  std::optional<JsonValue> root_;
};

uint32_t DomBuilder::tokenStart() {
  size_t at = scanFrom_;
  while (at < text_.size() && isSeparator(text_[at])) ++at;
  scanFrom_ = consumed_;
  return static_cast<uint32_t>(at);
}

std::string DomBuilder::childPath() const {
  if (stack_.empty()) return {};
  const Frame& top = stack_.back();
  if (top.container.type() == JsonType::Array) {
    return indexPath(top.path, top.container.array().size());
  }
  return memberPath(top.path, top.key);
}

bool DomBuilder::key(std::string& key) {
  const uint32_t at = tokenStart();
  Frame& frame = stack_.back();
  auto [first, inserted] = frame.keys.emplace(key, at);
  frame.discardValue = !inserted;
  if (!inserted) {
    sink_.error({memberPath(frame.path, key), at}, fmt::format("duplicate key `{}`", excerpt(key)),
                fmt::format("it is first defined at line {}; the first one is used",
                            sink_.lineOf(first->second)));
  }
  frame.key = std::move(key);
  frame.keyOffset = at;
  return true;
}

bool DomBuilder::open(JsonValue::Data data) {
  const uint32_t at = tokenStart();
  if (stack_.size() >= kMaxJsonDepth) {
    sink_.error({childPath(), at},
                fmt::format("the document nests deeper than {} levels", kMaxJsonDepth),
                "a topology needs only a few levels of nesting");
    return false;
  }
  std::string path = childPath();
  stack_.push_back(Frame{JsonValue{std::move(data), at}, std::move(path), {}, {}, 0, false});
  return true;
}

bool DomBuilder::close() {
  scanFrom_ = consumed_;
  JsonValue container = std::move(stack_.back().container);
  stack_.pop_back();
  add(std::move(container));
  return true;
}

void DomBuilder::add(JsonValue value) {
  if (stack_.empty()) {
    root_ = std::move(value);
    return;
  }
  Frame& top = stack_.back();
  if (auto* array = std::get_if<JsonValue::Array>(&top.container.data)) {
    array->push_back(std::move(value));
  } else if (!top.discardValue) {
    std::get<JsonValue::Object>(top.container.data)
        .push_back(JsonMember{std::move(top.key), top.keyOffset, std::move(value)});
  }
}

bool DomBuilder::parse_error(size_t position, const std::string& /*lastToken*/,
                             const nlohmann::detail::exception& error) {
  // position counts the bytes read, the offending one included.
  const size_t at = std::min(position == 0 ? 0 : position - 1, text_.size());
  const std::string path = stack_.empty() ? std::string() : stack_.back().path;
  sink_.error({path, static_cast<uint32_t>(at)}, "invalid JSON: " + parseErrorText(error.what()));
  return false;
}

}  // namespace

std::string_view describe(JsonType type) {
  switch (type) {
    case JsonType::Null:
      return "null";
    case JsonType::Boolean:
      return "a boolean";
    case JsonType::Number:
      return "a number";
    case JsonType::String:
      return "a string";
    case JsonType::Array:
      return "an array";
    case JsonType::Object:
      return "an object";
  }
  return "a value";
}

std::optional<JsonValue> readJson(std::string_view text, DiagnosticSink& sink) {
  if (text.size() > kMaxTopologyBytes) {
    sink.error({"", kNoOffset},
               fmt::format("the topology is larger than {} MiB, the most netlab reads",
                           kMaxTopologyBytes / kMiB));
    return std::nullopt;
  }
  size_t consumed = 0;
  DomBuilder builder(text, consumed, sink);
  const CountingIterator first(text.data(), &consumed);
  const CountingIterator last(text.data() + text.size(), &consumed);
  if (!nlohmann::json::sax_parse(first, last, &builder)) return std::nullopt;
  return builder.takeRoot();
}

}  // namespace netlab::topo
