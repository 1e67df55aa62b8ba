#include "tools/output.hpp"

#include "tools/cli.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include <iterator>

#include "base/error.hpp"
#include "nsmgr/kernel_features.hpp"
#include "nsmgr/lab.hpp"
#include "topo/load.hpp"

namespace netlab::tools {

std::optional<topo::Plan> loadPlan(const std::string& path, const std::string& labOverride) {
  topo::LoadResult result = topo::loadTopologyFile(path, {labOverride, true});
  for (const auto& diagnostic : result.diagnostics) {
    std::cerr << topo::formatDiagnostic(diagnostic, path) << '\n';
  }
  return std::move(result.plan);
}

std::string chooseLab(const std::string& labOrTopology) {
  if (!labOrTopology.empty()) {
    if (!std::filesystem::is_regular_file(labOrTopology)) return labOrTopology;
    auto plan = loadPlan(labOrTopology);
    if (!plan) throw Error(labOrTopology + " is not a valid topology (see above)");
    return plan->name;
  }
  std::vector<std::string> labs = nsmgr::listLabs();
  if (labs.size() == 1) return labs.front();
  if (labs.empty()) throw Error("no lab is running", ENOENT);
  throw Error("several labs are running (" + join(labs, ", ") +
                  "): say which, as the command's "
                  "lab argument or with --lab (`netlab status " +
                  labs.front() + "`, `netlab exec --lab " + labs.front() +
                  " NODE ...`; `netlab VERB --help` shows which)",
              EINVAL);
}

void addFormatOption(CLI::App& command, std::string& format,
                     const std::vector<std::string>& choices, const std::string& help) {
  format = choices.front();
  command.add_option("--format", format, help)
      ->check(CLI::IsMember(choices))
      ->capture_default_str();
}

void addLabArgument(CLI::App& command, std::string& lab, const std::string& name) {
  command.add_option(name, lab, "Lab name or its topology file (default: the only lab)");
}

void requireLabAccess(const char* verb) {
  if (::geteuid() != 0) {
    throw Error(std::string("`netlab ") + verb +
                    "` needs root: it works on namespaces and network devices (run it with sudo)",
                EPERM);
  }
  nsmgr::requireKernelFeatures();
}

bool isTerminal(int fd) {
  return ::isatty(fd) == 1;
}

std::string Table::render() const {
  std::vector<size_t> widths;
  for (const auto& row : rows_) {
    widths.resize(std::max(widths.size(), row.size()));
    for (size_t column = 0; column < row.size(); ++column) {
      widths[column] = std::max(widths[column], row[column].size());
    }
  }
  std::string text;
  for (const auto& row : rows_) {
    std::string line;
    for (size_t column = 0; column < row.size(); ++column) {
      line += row[column];
      if (column + 1 < row.size())
        line += std::string(widths[column] - row[column].size() + 2, ' ');
    }
    text += line + "\n";
  }
  return text;
}

std::string join(const std::vector<std::string>& parts, const std::string& separator) {
  std::string joined;
  for (size_t i = 0; i < parts.size(); ++i) joined += (i == 0 ? "" : separator) + parts[i];
  return joined;
}

std::string formatCpuTime(const std::optional<uint64_t>& nanoseconds) {
  return nanoseconds ? fmt::format("{:.2f}s", double(*nanoseconds) / 1e9) : "-";
}

std::string formatMemory(const std::optional<uint64_t>& bytes) {
  if (!bytes) return "-";
  constexpr const char* kUnits[] = {"", "K", "M", "G", "T"};
  double value = double(*bytes);
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(kUnits)) {
    value /= 1024;
    ++unit;
  }
  return unit == 0 ? fmt::format("{}", *bytes) : fmt::format("{:.1f}{}", value, kUnits[unit]);
}

}  // namespace netlab::tools
