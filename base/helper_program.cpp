#include "base/helper_program.hpp"

#include <unistd.h>

#include <filesystem>

namespace netlab {

namespace {

std::filesystem::path runningProgramDirectory() {
  std::error_code error;
  auto self = std::filesystem::read_symlink("/proc/self/exe", error);
  return error ? std::filesystem::path() : self.parent_path();
}

}  // namespace

std::vector<std::string> helperCandidates(std::string_view name, std::string_view builtAt) {
  std::vector<std::string> candidates;
  const auto self = runningProgramDirectory();
  if (!self.empty()) {
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

std::string documentationDirectory() {
  const auto self = runningProgramDirectory();
  std::error_code error;
  for (const auto& candidate :
       {self.empty() ? std::filesystem::path() : (self / NETLAB_DOCS_FROM_BIN).lexically_normal(),
        std::filesystem::path(NETLAB_SOURCE_DOCS)}) {
    if (!candidate.empty() && std::filesystem::exists(candidate / "topology.md", error)) {
      return candidate.string();
    }
  }
  return NETLAB_DOCS_INSTALLED;
}

std::string documentationDirectoryUnderPrefix() {
  return NETLAB_DOCS_UNDER_PREFIX;
}

}  // namespace netlab
