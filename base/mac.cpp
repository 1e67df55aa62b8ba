#include "base/mac.hpp"

#include <fmt/format.h>

#include <charconv>

namespace netlab {

std::string toString(const Mac& mac) {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", mac[0], mac[1], mac[2], mac[3],
                     mac[4], mac[5]);
}

std::optional<Mac> parseMac(std::string_view text) {
  constexpr size_t kTextLength = 17;  // six pairs and five colons
  if (text.size() != kTextLength) return std::nullopt;
  Mac mac{};
  for (size_t i = 0; i < mac.size(); ++i) {
    if (i > 0 && text[i * 3 - 1] != ':') return std::nullopt;
    const char* first = text.data() + i * 3;
    auto [end, error] = std::from_chars(first, first + 2, mac[i], 16);
    if (error != std::errc() || end != first + 2) return std::nullopt;
  }
  return mac;
}

}  // namespace netlab
