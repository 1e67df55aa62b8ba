// The entry points: read, parse, build, address, resolve; collect every diagnostic.
#include "topo/load.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <system_error>

#include "base/error.hpp"
#include "base/fd.hpp"
#include "topo/json_reader.hpp"
#include "topo/lab.hpp"
#include "topo/names.hpp"
#include "topo/parse.hpp"

namespace netlab::topo {
namespace {

// Reads at most limit + 1 bytes: enough to tell that a file is too large without reading
// all of it (or forever, from a device or a pipe).
std::string readAtMost(const std::filesystem::path& path, size_t limit) {
  const Fd fd = openFile(path.string(), O_RDONLY);
  std::string content;
  char buffer[65536];
  while (content.size() <= limit) {
    const ssize_t got = ::read(fd.get(), buffer, sizeof buffer);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw SystemError("read", path.string());
    }
    if (got == 0) break;
    content.append(buffer, static_cast<size_t>(got));
  }
  return content;
}

std::filesystem::path absolutePath(const std::filesystem::path& path) {
  std::error_code error;
  auto absolute = std::filesystem::absolute(path, error);
  return (error ? path : absolute).lexically_normal();
}

std::optional<std::string> labName(const TopologySpec& topology, const LoadOptions& options,
                                   const std::filesystem::path& source, DiagnosticSink& sink) {
  constexpr std::string_view kRule = "a letter or digit, then up to 31 letters, digits, `_` or `-`";
  if (!options.labNameOverride.empty()) {
    if (isValidLabName(options.labNameOverride)) return options.labNameOverride;
    sink.error({},
               fmt::format("invalid lab name `{}` (from the command line)",
                           excerpt(options.labNameOverride)),
               std::string(kRule));
    return std::nullopt;
  }
  if (topology.name) return topology.name;
  const std::string stem = source.stem().string();
  if (isValidLabName(stem)) return stem;
  sink.error({},
             fmt::format("the lab is named after the file, but `{}` is not a valid lab name",
                         excerpt(stem)),
             fmt::format("set \"name\" ({}) or pass a name on the command line", kRule));
  return std::nullopt;
}

// The stages and what waits for what: lab.hpp. Every stage that can run is run, so one
// `netlab validate` reports every problem that does not follow from another.
std::optional<Plan> resolveDocument(const JsonValue& root, const std::filesystem::path& source,
                                    const LoadOptions& options, DiagnosticSink& sink) {
  ParseContext context{sink, source.parent_path()};
  const TopologySpec topology = parseTopology(root, context);
  std::optional<std::string> name;
  {
    // The name only seeds the MACs: a wrong one holds nothing else back.
    const IndependentErrors guard(sink);
    name = labName(topology, options, source, sink);
  }
  Lab lab = buildLab(topology, name.value_or(""), sink);
  const bool structureSound = !sink.hasBlockingErrors();
  std::vector<const CheckSpec*> named;
  {
    // Tests and node folders concern only themselves: nothing waits for them.
    const IndependentErrors guard(sink);
    named = checkTestNames(topology.checks, lab, structureSound, sink);
    mountNodeFolders(lab, topology, sink);
    if (options.checkThisMachine) checkAgainstThisMachine(lab, options.imageRoot, sink);
  }
  if (!structureSound) return std::nullopt;
  assignAddresses(lab, topology, sink);
  if (sink.hasBlockingErrors()) return std::nullopt;
  Plan plan = resolvePlan(lab, sink);
  {
    // Reach tests need only the final addresses, which a wrong route does not change.
    const IndependentErrors guard(sink);
    plan.checks = resolveChecks(named, plan, sink);
  }
  if (sink.hasBlockingErrors()) return std::nullopt;
  addStaticRoutes(lab, topology.links.size(), plan, sink);
  addRoutingDaemons(lab, topology, options.checkThisMachine, options.imageRoot, plan, sink);
  if (sink.hasErrors()) return std::nullopt;
  plan.sourceFile = source.string();
  return plan;
}

LoadResult failure(std::string message) {
  LoadResult result;
  result.diagnostics.push_back({Severity::Error, "", 0, 0, std::move(message), ""});
  return result;
}

}  // namespace

LoadResult loadTopologyText(std::string_view text, const std::filesystem::path& sourcePath,
                            const LoadOptions& options) {
  try {
    DiagnosticSink sink(text);
    std::optional<Plan> plan;
    if (auto root = readJson(text, sink)) {
      plan = resolveDocument(*root, absolutePath(sourcePath), options, sink);
    }
    return LoadResult{sink.take(), std::move(plan)};
  } catch (const std::exception& error) {
    // Bad input is reported above; what lands here is a bug or memory exhaustion.
    return failure(fmt::format("internal error while reading the topology: {}", error.what()));
  }
}

LoadResult loadTopologyFile(const std::filesystem::path& path, const LoadOptions& options) {
  std::string text;
  try {
    text = readAtMost(path, kMaxTopologyBytes);
  } catch (const std::exception& error) {
    return failure(error.what());
  }
  return loadTopologyText(text, path, options);
}

}  // namespace netlab::topo
