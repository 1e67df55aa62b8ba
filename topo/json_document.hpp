// A JSON document netlab writes and reads back (a plan, a lab's state file): nlohmann's ordered
// JSON, written readably, and a reader that names the location of every problem it meets.
// Only the code that owns such a file includes this header: the rest sees plain structs.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <initializer_list>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "base/error.hpp"
#include "base/ip.hpp"
#include "topo/diagnostics.hpp"

namespace netlab::topo {

using Json = nlohmann::ordered_json;

// Strings that are not UTF-8 (a file name can be anything) are written with U+FFFD instead of
// making the whole document unwritable.
inline std::string dump(const Json& json) {
  return json.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

// A value of the document being read, and its location for messages.
class Reader {
 public:
  Reader(const Json& json, std::string path) : json_(json), path_(std::move(path)) {}

  [[noreturn]] void fail(std::string_view problem) const {
    throw Error(fmt::format("{}: {}", path_.empty() ? "the document" : path_, problem));
  }
  bool has(std::string_view key) const { return json_.is_object() && json_.contains(key); }
  Reader member(std::string_view key) const {
    if (!json_.is_object()) fail("expected an object");
    if (!json_.contains(key)) fail(fmt::format("`{}` is missing", key));
    return {json_.at(std::string(key)), memberPath(path_, key)};
  }
  // Writers and readers share one set of keys: anything else is a corrupt or foreign file.
  void onlyKeys(std::initializer_list<std::string_view> known) const {
    if (!json_.is_object()) fail("expected an object");
    for (const auto& [key, value] : json_.items()) {
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        fail(fmt::format("unknown key `{}`", excerpt(key)));
      }
    }
  }
  std::vector<Reader> items() const {
    if (!json_.is_array()) fail("expected an array");
    std::vector<Reader> items;
    for (size_t i = 0; i < json_.size(); ++i) items.emplace_back(json_[i], indexPath(path_, i));
    return items;
  }
  std::vector<std::pair<std::string, std::string>> stringPairs() const {
    if (!json_.is_object()) fail("expected an object");
    std::vector<std::pair<std::string, std::string>> pairs;
    for (const auto& [key, value] : json_.items()) {
      pairs.emplace_back(key, Reader(value, memberPath(path_, key)).get<std::string>());
    }
    return pairs;
  }
  template <typename T>
  T get() const {
    if constexpr (std::is_same_v<T, std::string>) {
      if (!json_.is_string()) fail("expected a string");
      return json_.get<std::string>();
    } else if constexpr (std::is_same_v<T, bool>) {
      if (!json_.is_boolean()) fail("expected a boolean");
      return json_.get<bool>();
    } else if constexpr (std::is_floating_point_v<T>) {
      if (!json_.is_number()) fail("expected a number");
      return json_.get<T>();
    } else {
      return integer<T>();
    }
  }
  // A document's version: readers refuse a version whose keys they may misread.
  void requireVersion(int version) const {
    if (get<int>() != version) {
      fail(fmt::format("unsupported version; this netlab reads version {}", version));
    }
  }
  IpPrefix prefix() const {
    auto prefix = parsePrefix(get<std::string>());
    if (!prefix) fail("expected an address with a prefix length");
    return *prefix;
  }
  IpAddress address() const {
    auto address = parseAddress(get<std::string>());
    if (!address) fail("expected an IP address");
    return *address;
  }

 private:
  template <typename T>
  T integer() const {
    if (json_.is_number_unsigned()) {
      const auto value = json_.get<uint64_t>();
      if (value <= static_cast<uint64_t>(std::numeric_limits<T>::max()))
        return static_cast<T>(value);
    } else if (json_.is_number_integer()) {
      const auto value = json_.get<int64_t>();
      if (value >= static_cast<int64_t>(std::numeric_limits<T>::min()))
        return static_cast<T>(value);
    } else {
      fail("expected an integer");
    }
    fail("the integer is out of range");
  }

  const Json& json_;
  std::string path_;
};

// The document in `text`; throws Error with nlohmann's description of a syntax error.
Json parseDocument(std::string_view text);

}  // namespace netlab::topo
