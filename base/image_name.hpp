// The name of an image in netlab's store (`netlab image import`), as topologies name it too.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string_view>

namespace netlab {

inline constexpr size_t kMaxImageNameLength = 128;

// Lower-case letters, digits, '.', '_' and '-', starting with a letter or digit, at most
// kMaxImageNameLength characters: safe as a path component of the store.
inline bool isImageName(std::string_view name) {
  auto lowerOrDigit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  return !name.empty() && name.size() <= kMaxImageNameLength && lowerOrDigit(name[0]) &&
         std::all_of(name.begin(), name.end(), [&](char c) {
           return lowerOrDigit(c) || c == '.' || c == '_' || c == '-';
         });
}

}  // namespace netlab
