// Reading a topology file: parse -> validate -> resolve (defaults, addressing, LAN switches)
// -> Plan. Every problem is collected as a Diagnostic; nothing is thrown for bad input.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "topo/node_files.hpp"
#include "topo/plan.hpp"

namespace netlab::topo {

enum class Severity : uint8_t { Error, Warning };

struct Diagnostic {
  Severity severity = Severity::Error;
  std::string location;  // JSON location, e.g. "links[3].endpoints[1]"; empty for the document
  int line = 0;          // 1-based; 0 when unknown
  int column = 0;        // 1-based; 0 when unknown
  std::string message;
  std::string hint;  // e.g. "did you mean `router`?"; may be empty
};

struct LoadOptions {
  std::string labNameOverride;  // --lab NAME; empty: the topology's name or the file's stem
  // Also what `up` needs of this machine's files: mount and file targets that exist, startup
  // programs and routing suites that are installed (host_checks.cpp, routing.cpp), in the host's
  // root or a node's image. Off, the plan holds for any machine.
  bool checkThisMachine = false;
  // Where imported images are, for those checks (tools passes image::imageRoot). Unset, the
  // programs of a node with an imported image are not judged.
  ImageRoots imageRoot = {};
};

struct LoadResult {
  std::vector<Diagnostic> diagnostics;  // errors and warnings, in document order
  std::optional<Plan> plan;             // present only when there is no error

  bool ok() const { return plan.has_value(); }
};

LoadResult loadTopologyFile(const std::filesystem::path& path, const LoadOptions& options = {});
// sourcePath names the document in messages and anchors relative mount sources.
LoadResult loadTopologyText(std::string_view text, const std::filesystem::path& sourcePath,
                            const LoadOptions& options = {});

// "topo.json:12:5: error: links[3].endpoints[1]: unknown node `r9` (hint: did you mean `r1`?)"
std::string formatDiagnostic(const Diagnostic& diagnostic, const std::string& sourceName);

}  // namespace netlab::topo
