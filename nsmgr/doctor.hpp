// netlab doctor: what this machine lets netlab do, found out before a lab fails. Each check is
// OK, missing (with what that disables) or wrong (with the fix). Devices and qdiscs are probed
// in a scratch network namespace of netlab's own, never in the host's.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "nsmgr/limits.hpp"

namespace netlab::nsmgr {

enum class CheckStatus : uint8_t {
  Ok,
  Missing,    // not here: the detail says what that disables
  Wrong,      // here but unusable as it is: the detail says how to fix it
  Unchecked,  // could not be probed (not root): the detail says why
};
std::string_view toString(CheckStatus status);

struct DoctorCheck {
  std::string area;  // "kernel", "namespaces", "devices", "cgroups", "users", "programs"
  std::string name;
  CheckStatus status = CheckStatus::Ok;
  std::string detail;
  // The default example (examples/lan.json) cannot run without it.
  bool neededByDefault = false;
};

struct DoctorReport {
  std::vector<DoctorCheck> checks;
  // Whether everything the default example needs is OK.
  bool defaultExampleRuns() const;
};

// The default example's nodes (examples/lan.json: six, and the switch of its LAN): the lab the
// namespace limits are measured against.
inline constexpr size_t kDefaultExampleNodes = 7;

// Runs every check. Devices and qdiscs are probed only as root (in a scratch network namespace
// on a thread of its own); otherwise they are Unchecked.
DoctorReport examineMachine();

// The checks built from what was read, apart so that tests can give them fakes.
std::vector<DoctorCheck> namespaceChecks(const KernelLimits& limits);
// /etc/subuid's text against the host ids of isolated nodes (topo::kIsolatedFirstHostId...).
DoctorCheck subuidCheck(const std::string& subuidText);
// A program looked up in `path` (as $PATH lists directories).
DoctorCheck programCheck(const std::string& name, const std::string& program,
                         const std::string& disables, const std::string& path);

}  // namespace netlab::nsmgr
