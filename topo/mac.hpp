// MAC addresses as text: the inverse of toString(const Mac&).
#pragma once

#include <optional>
#include <string_view>

#include "topo/plan.hpp"

namespace netlab::topo {

// "02:00:00:00:00:01" (hex digits in either case); nullopt for anything else.
std::optional<Mac> parseMac(std::string_view text);

}  // namespace netlab::topo
