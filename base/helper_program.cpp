#include "base/helper_program.hpp"

#include <unistd.h>

#include <filesystem>

namespace netlab {

std::vector<std::string> helperCandidates(std::string_view name, std::string_view builtAt) {
  std::vector<std::string> candidates;
  std::error_code error;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", error).parent_path();
  if (!error) {
    candidates.push_back((self / name).string());
    candidates.push_back((self / NETLAB_HELPER_FROM_BIN / name).lexically_normal().string());
  }
  candidates.push_back((std::filesystem::path(NETLAB_HELPER_INSTALLED) / name).string());
  candidates.emplace_back(builtAt);
  return candidates;
}

std::string helperProgram(std::string_view name, std::string_view builtAt) {
  for (const auto& candidate : helperCandidates(name, builtAt)) {
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::string(builtAt);
}

}  // namespace netlab
