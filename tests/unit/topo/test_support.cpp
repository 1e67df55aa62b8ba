#include "test_support.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace netlab::topo::testing {

std::filesystem::path scratchDir() {
  static const std::filesystem::path dir = [] {
    auto path = std::filesystem::path(::testing::TempDir()) / "netlab-topo-tests";
    std::filesystem::create_directories(path / "data");
    return path;
  }();
  return dir;
}

LoadResult load(std::string_view json, const LoadOptions& options) {
  return loadTopologyText(json, scratchDir() / "test.json", options);
}

std::string dump(const LoadResult& result) {
  std::string text;
  for (const Diagnostic& diagnostic : result.diagnostics) {
    text += formatDiagnostic(diagnostic, "test.json") + "\n";
  }
  return text.empty() ? "(no diagnostics)\n" : text;
}

const Diagnostic* find(const LoadResult& result, std::string_view text, Severity severity) {
  for (const Diagnostic& diagnostic : result.diagnostics) {
    if (diagnostic.severity == severity && diagnostic.message.find(text) != std::string::npos) {
      return &diagnostic;
    }
  }
  return nullptr;
}

size_t errorCount(const LoadResult& result) {
  return std::count_if(result.diagnostics.begin(), result.diagnostics.end(),
                       [](const Diagnostic& d) { return d.severity == Severity::Error; });
}

::testing::AssertionResult hasDiagnostic(const LoadResult& result, std::string_view text,
                                         std::string_view location, int line, Severity severity) {
  const Diagnostic* diagnostic = find(result, text, severity);
  if (!diagnostic) {
    return ::testing::AssertionFailure() << "no diagnostic containing \"" << text << "\"; got:\n"
                                         << dump(result);
  }
  if (diagnostic->location != location || diagnostic->line != line) {
    return ::testing::AssertionFailure()
           << "\"" << text << "\" is at " << diagnostic->location << " line " << diagnostic->line
           << ", expected " << location << " line " << line << "; got:\n"
           << dump(result);
  }
  if (severity == Severity::Error && result.ok()) {
    return ::testing::AssertionFailure() << "an error was reported but a plan was produced";
  }
  return ::testing::AssertionSuccess();
}

const Node& nodeOf(const Plan& plan, std::string_view name) {
  const Node* node = plan.findNode(name);
  if (!node) throw std::runtime_error(fmt::format("no node {}", name));
  return *node;
}

const Interface& interfaceOf(const Plan& plan, std::string_view node, std::string_view interface) {
  for (const Interface& candidate : nodeOf(plan, node).interfaces) {
    if (candidate.name == interface) return candidate;
  }
  throw std::runtime_error(fmt::format("no interface {}:{}", node, interface));
}

std::string addressesOf(const Interface& interface) {
  std::string text;
  for (const IpPrefix& address : interface.addresses) {
    text += (text.empty() ? "" : " ") + toString(address);
  }
  return text;
}

Plan examplePlan(std::string_view name) {
  auto result = loadTopologyFile(sourceDir() / "examples" / name);
  EXPECT_TRUE(result.ok()) << dump(result);
  return result.plan.value_or(Plan{});
}

}  // namespace netlab::topo::testing
