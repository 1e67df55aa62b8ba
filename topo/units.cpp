#include "topo/units.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <limits>
#include <span>
#include <vector>

namespace netlab::topo {
namespace {

struct Unit {
  std::string_view name;
  uint64_t factor;
};

// Largest unit first, so formatting can pick the first one that fits.
constexpr std::array kDurationUnits{Unit{"s", 1'000'000}, Unit{"ms", 1'000}, Unit{"us", 1}};
constexpr std::array kTimeoutUnits{Unit{"s", 1'000}, Unit{"ms", 1}};
// Binary multiples whichever way they are spelled: docker's "256m", systemd's "256M", "256MiB".
constexpr std::array kMemoryUnits{
    Unit{"T", uint64_t{1} << 40},   Unit{"TiB", uint64_t{1} << 40}, Unit{"G", uint64_t{1} << 30},
    Unit{"GiB", uint64_t{1} << 30}, Unit{"M", uint64_t{1} << 20},   Unit{"MiB", uint64_t{1} << 20},
    Unit{"K", uint64_t{1} << 10},   Unit{"KiB", uint64_t{1} << 10}, Unit{"B", 1}};
constexpr std::array kRateUnits{Unit{"tbit", 1'000'000'000'000}, Unit{"gbit", 1'000'000'000},
                                Unit{"mbit", 1'000'000}, Unit{"kbit", 1'000}, Unit{"bit", 1}};

// At most 18 significant digits keeps every intermediate value inside uint64_t.
constexpr int kMaxDigits = 18;

// A non-negative decimal number as written: digits * 10^-fractionDigits.
struct Decimal {
  uint64_t digits = 0;
  int fractionDigits = 0;
};

uint64_t powerOfTen(int exponent) {
  uint64_t result = 1;
  for (int i = 0; i < exponent; ++i) result *= 10;
  return result;
}

// Reads "12" or "1.5" from the front of text and removes it; nullopt when there is none.
std::optional<Decimal> takeDecimal(std::string_view& text) {
  Decimal decimal;
  size_t i = 0;
  int digitCount = 0;
  bool seenDot = false;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '.' && !seenDot && digitCount > 0) {
      seenDot = true;
      continue;
    }
    if (c < '0' || c > '9') break;
    if (++digitCount > kMaxDigits) return std::nullopt;
    decimal.digits = decimal.digits * 10 + static_cast<uint64_t>(c - '0');
    if (seenDot) ++decimal.fractionDigits;
  }
  // "1." has a dot with nothing after it.
  if (digitCount == 0 || text[i - 1] == '.') return std::nullopt;
  text.remove_prefix(i);
  return decimal;
}

// decimal * factor, when that is a whole number that fits.
std::optional<uint64_t> scaleExact(const Decimal& decimal, uint64_t factor) {
  if (decimal.digits != 0 && factor > std::numeric_limits<uint64_t>::max() / decimal.digits) {
    return std::nullopt;
  }
  const uint64_t product = decimal.digits * factor;
  const uint64_t divisor = powerOfTen(decimal.fractionDigits);
  if (product % divisor != 0) return std::nullopt;
  return product / divisor;
}

bool equalsIgnoringCase(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

std::string unitList(std::span<const Unit> units) {
  std::string list;
  for (auto it = units.rbegin(); it != units.rend(); ++it) {
    if (!list.empty()) list += it + 1 == units.rend() ? " or " : ", ";
    list += it->name;
  }
  return list;
}

// "<number><unit>" in the smallest unit of the table; `what` names the quantity in messages.
Parsed<uint64_t> parseWithUnit(std::string_view text, std::span<const Unit> units, bool ignoreCase,
                               std::string_view what, std::string_view example) {
  std::string_view rest = text;
  auto decimal = takeDecimal(rest);
  if (!decimal) {
    return {std::nullopt, fmt::format("`{}` is not a {}", text, what),
            fmt::format("write a number and a unit, e.g. \"{}\"", example)};
  }
  auto unit = std::find_if(units.begin(), units.end(), [&](const Unit& candidate) {
    return ignoreCase ? equalsIgnoringCase(rest, candidate.name) : rest == candidate.name;
  });
  if (unit == units.end()) {
    const std::string error = rest.empty() ? fmt::format("`{}` has no unit", text)
                                           : fmt::format("unknown unit `{}` in `{}`", rest, text);
    return {std::nullopt, error, fmt::format("use {}", unitList(units))};
  }
  auto value = scaleExact(*decimal, unit->factor);
  if (!value) {
    return {
        std::nullopt, fmt::format("`{}` is not a whole number of {}", text, units.back().name), {}};
  }
  return {value, {}, {}};
}

std::string formatScaled(uint64_t value, std::span<const Unit> units) {
  auto unit = std::find_if(units.begin(), units.end(),
                           [&](const Unit& candidate) { return value >= candidate.factor; });
  if (unit == units.end()) unit = units.end() - 1;
  const uint64_t whole = value / unit->factor;
  const uint64_t fraction = value % unit->factor;
  if (fraction == 0) return fmt::format("{}{}", whole, unit->name);
  const auto width = fmt::formatted_size("{}", unit->factor) - 1;
  std::string fractionText = fmt::format("{:0{}}", fraction, width);
  fractionText.erase(fractionText.find_last_not_of('0') + 1);
  return fmt::format("{}.{}{}", whole, fractionText, unit->name);
}

}  // namespace

Parsed<uint32_t> parseDuration(std::string_view text) {
  auto parsed = parseWithUnit(text, kDurationUnits, false, "duration", "40ms");
  if (!parsed.value) return {std::nullopt, parsed.error, parsed.hint};
  if (*parsed.value > kMaxDurationUs) {
    return {std::nullopt,
            fmt::format("`{}` is longer than {}", text, formatDuration(kMaxDurationUs)),
            {}};
  }
  return {static_cast<uint32_t>(*parsed.value), {}, {}};
}

Parsed<uint32_t> parseTimeout(std::string_view text) {
  auto parsed = parseWithUnit(text, kTimeoutUnits, false, "duration", "30s");
  if (!parsed.value) return {std::nullopt, parsed.error, parsed.hint};
  if (*parsed.value > kMaxTimeoutMs) {
    return {std::nullopt,
            fmt::format("`{}` is longer than {}", text, formatTimeout(kMaxTimeoutMs)),
            {}};
  }
  return {static_cast<uint32_t>(*parsed.value), {}, {}};
}

Parsed<uint64_t> parseRate(std::string_view text) {
  auto parsed = parseWithUnit(text, kRateUnits, true, "rate", "10mbit");
  if (!parsed.value) {
    // tc spells bytes per second "bps", a classic source of 8x mistakes.
    if (text.size() >= 3 && equalsIgnoringCase(text.substr(text.size() - 3), "bps")) {
      parsed.hint =
          "netlab rates are in bits per second (tc's `bps` means bytes); write e.g. "
          "\"10mbit\"";
    }
    return parsed;
  }
  if (*parsed.value < kMinRateBitsPerSecond || *parsed.value > kMaxRateBitsPerSecond) {
    return {std::nullopt,
            fmt::format("rate `{}` is outside {} .. {}", text, formatRate(kMinRateBitsPerSecond),
                        formatRate(kMaxRateBitsPerSecond)),
            {}};
  }
  return parsed;
}

Parsed<double> parsePercent(std::string_view text) {
  std::string_view rest = text;
  auto decimal = takeDecimal(rest);
  if (!decimal || rest != "%") {
    return {std::nullopt, fmt::format("`{}` is not a percentage", text),
            R"(write e.g. "1%" or "0.5%", or a plain number of percent)"};
  }
  const double percent = static_cast<double>(decimal->digits) /
                         static_cast<double>(powerOfTen(decimal->fractionDigits));
  if (percent > 100) return {std::nullopt, fmt::format("`{}` is more than 100%", text), {}};
  return {percent, {}, {}};
}

Parsed<uint64_t> parseMemory(std::string_view text) {
  auto parsed = parseWithUnit(text, kMemoryUnits, true, "memory size", "256M");
  if (!parsed.value) {
    if (parsed.error.starts_with("unknown unit") || parsed.error.ends_with("has no unit")) {
      parsed.hint = "use K, M, G or T (binary multiples, also written KiB, MiB...), or B for bytes";
    }
    return parsed;
  }
  if (*parsed.value < kMinMemoryBytes) {
    return {std::nullopt, fmt::format("`{}` is less than {}", text, formatMemory(kMinMemoryBytes)),
            "a node needs memory for its init and a shell; write e.g. \"256M\""};
  }
  return parsed;
}

std::string formatDuration(uint64_t microseconds) {
  return formatScaled(microseconds, kDurationUnits);
}

std::string formatTimeout(uint32_t milliseconds) {
  return formatScaled(milliseconds, kTimeoutUnits);
}

std::string formatRate(uint64_t bitsPerSecond) {
  return formatScaled(bitsPerSecond, kRateUnits);
}

std::string formatPercent(double percent) {
  return fmt::format("{}%", percent);
}

// In the largest unit that divides it (B divides every size): 1.5G is "1536M".
std::string formatMemory(uint64_t bytes) {
  const auto unit = std::find_if(kMemoryUnits.begin(), kMemoryUnits.end(), [&](const Unit& unit) {
    return unit.name.size() == 1 && bytes % unit.factor == 0;
  });
  return fmt::format("{}{}", bytes / unit->factor, unit->name);
}

std::string describeImpairment(const Impairment& impairment) {
  std::string text;
  auto add = [&](std::string_view label, const std::string& value) {
    if (!text.empty()) text += ' ';
    text += fmt::format("{} {}", label, value);
  };
  if (impairment.delayUs) add("delay", formatDuration(*impairment.delayUs));
  if (impairment.jitterUs) add("jitter", formatDuration(*impairment.jitterUs));
  if (impairment.jitterCorrelationPercent) {
    add("jitter-correlation", formatPercent(*impairment.jitterCorrelationPercent));
  }
  if (impairment.lossPercent) add("loss", formatPercent(*impairment.lossPercent));
  if (impairment.corruptPercent) add("corrupt", formatPercent(*impairment.corruptPercent));
  if (impairment.duplicatePercent) add("duplicate", formatPercent(*impairment.duplicatePercent));
  if (impairment.reorderPercent) add("reorder", formatPercent(*impairment.reorderPercent));
  if (impairment.rateBitsPerSecond) add("rate", formatRate(*impairment.rateBitsPerSecond));
  if (impairment.limitPackets) add("limit", fmt::format("{}", *impairment.limitPackets));
  return text;
}

std::string describeResources(const Resources& resources) {
  std::vector<std::string> parts;
  if (resources.cpus) parts.push_back(fmt::format("cpus {}", *resources.cpus));
  if (resources.memoryBytes) parts.push_back("memory " + formatMemory(*resources.memoryBytes));
  if (resources.pids) parts.push_back(fmt::format("pids {}", *resources.pids));
  return fmt::format("{}", fmt::join(parts, ", "));
}

}  // namespace netlab::topo
