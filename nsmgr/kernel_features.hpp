// The kernel features netlab relies on, probed at start: a kernel that lacks one fails with its
// name and the version that brought it, not with an errno halfway through a lab.
#pragma once

#include <string>
#include <vector>

namespace netlab::nsmgr {

// Linux 5.9: the oldest kernel with every feature below (docs/reliability.md#kernel).
inline constexpr int kMinimumKernelMajor = 5;
inline constexpr int kMinimumKernelMinor = 9;

// One sentence per missing feature: what it is, what netlab uses it for, the version that has
// it. Empty on a kernel that has them all.
std::vector<std::string> missingKernelFeatures();

// Throws Error listing every missing feature.
void requireKernelFeatures();

}  // namespace netlab::nsmgr
