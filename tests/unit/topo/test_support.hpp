// Helpers shared by the topology unit tests: load a document given as text and look for
// the diagnostics a test expects, printing all of them when one is missing.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "topo/load.hpp"

namespace netlab::topo::testing {

// The repository, for examples/ and the golden files.
inline std::filesystem::path sourceDir() {
  return NETLAB_SOURCE_DIR;
}

// A directory the tests may write to; mounts in test topologies are resolved against it.
std::filesystem::path scratchDir();

// Loads json as if it were <scratchDir>/test.json.
LoadResult load(std::string_view json, const LoadOptions& options = {});

// Every diagnostic, formatted, one per line: what a failing assertion prints.
std::string dump(const LoadResult& result);

// The first diagnostic of that severity whose message contains text, or null.
const Diagnostic* find(const LoadResult& result, std::string_view text,
                       Severity severity = Severity::Error);

size_t errorCount(const LoadResult& result);

// Asserts an error (or a warning) containing text at location (exact) on line.
::testing::AssertionResult hasDiagnostic(const LoadResult& result, std::string_view text,
                                         std::string_view location, int line,
                                         Severity severity = Severity::Error);

const Node& nodeOf(const Plan& plan, std::string_view name);

// The plan of examples/<name>; an empty plan (and a failure) when it does not load.
Plan examplePlan(std::string_view name);
const Interface& interfaceOf(const Plan& plan, std::string_view node, std::string_view interface);
// "10.0.0.1/30 fd00::1/64"
std::string addressesOf(const Interface& interface);

}  // namespace netlab::topo::testing
