// The kernel features netlab relies on, probed at start: a kernel that lacks one fails with its
// name and the version that brought it, not with an errno halfway through a lab.
#pragma once

#include <string>
#include <vector>

namespace netlab::nsmgr {

// Linux 5.9: the oldest kernel with every feature below (docs/reliability.md#kernel).
inline constexpr int kMinimumKernelMajor = 5;
inline constexpr int kMinimumKernelMinor = 9;

// A feature netlab relies on, and whether this kernel has it.
struct KernelFeature {
  std::string name;     // "openat2"
  std::string since;    // "Linux 5.6"
  std::string purpose;  // what netlab uses it for
  bool present = false;
};

// Every feature, probed (netlab doctor shows them all).
std::vector<KernelFeature> kernelFeatures();

// The running kernel's release ("6.1.0-13-amd64"), empty when uname fails.
std::string kernelRelease();

// One sentence per missing feature: what it is, what netlab uses it for, the version that has
// it. Empty on a kernel that has them all.
std::vector<std::string> missingKernelFeatures();

// Throws Error listing every missing feature.
void requireKernelFeatures();

}  // namespace netlab::nsmgr
