// Human units for the impairment keys, parsed and formatted in one place: durations ("1.5ms"),
// rates ("10mbit", decimal multipliers as tc uses them) and percentages ("0.5%").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "topo/plan.hpp"

namespace netlab::topo {

// A parsed value, or why the text was rejected (and how to fix it, when that helps).
template <typename T>
struct Parsed {
  std::optional<T> value;
  std::string error;
  std::string hint;
};

// Bounds netlab accepts; tighter than the kernel's so that a typo is caught, not applied.
inline constexpr uint64_t kMaxDurationUs = 60'000'000;              // 60 s of delay or jitter
inline constexpr uint32_t kMaxTimeoutMs = 3'600'000;                // 1 h for a check to pass
inline constexpr uint64_t kMinRateBitsPerSecond = 1'000;            // 1 kbit/s
inline constexpr uint64_t kMaxRateBitsPerSecond = 100'000'000'000;  // 100 gbit/s
inline constexpr uint64_t kMinMemoryBytes = 1 << 20;                // a node's init and a shell

// "40ms", "500us", "1s", "1.5ms" -> microseconds, at most kMaxDurationUs.
Parsed<uint32_t> parseDuration(std::string_view text);
// A check's timeout: "30s", "500ms" -> milliseconds, at most kMaxTimeoutMs.
Parsed<uint32_t> parseTimeout(std::string_view text);
// "10mbit", "500kbit", "1gbit" -> bits per second, within the rate bounds above.
Parsed<uint64_t> parseRate(std::string_view text);
// "1%", "0.5%" -> percent, 0..100.
Parsed<double> parsePercent(std::string_view text);
// "256M", "1.5G", "512m" -> bytes (binary multiples, as docker and systemd read them), at least
// kMinMemoryBytes.
Parsed<uint64_t> parseMemory(std::string_view text);

std::string formatDuration(uint64_t microseconds);  // 1500 -> "1.5ms"
std::string formatTimeout(uint32_t milliseconds);   // 1500 -> "1.5s"
std::string formatRate(uint64_t bitsPerSecond);     // 10000000 -> "10mbit"
std::string formatPercent(double percent);          // 0.5 -> "0.5%"
std::string formatMemory(uint64_t bytes);           // 268435456 -> "256M"

// "cpus 0.5, memory 256M, pids 512"; empty for no limit.
std::string describeResources(const Resources& resources);

// "delay 40ms jitter 5ms loss 1% rate 10mbit"; empty for no impairment.
std::string describeImpairment(const Impairment& impairment);

}  // namespace netlab::topo
