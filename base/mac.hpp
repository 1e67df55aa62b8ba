// Ethernet MAC addresses as plain values, with their text form.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace netlab {

using Mac = std::array<uint8_t, 6>;

// "02:00:00:00:00:01", lower-case hex.
std::string toString(const Mac& mac);

// "02:00:00:00:00:01" (hex digits in either case); nullopt for anything else.
std::optional<Mac> parseMac(std::string_view text);

}  // namespace netlab
