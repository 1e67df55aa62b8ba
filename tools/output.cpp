#include "tools/output.hpp"

#include "tools/cli.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <string_view>

#include <fmt/format.h>

#include <iterator>

#include "base/error.hpp"
#include "image/image_store.hpp"
#include "nsmgr/kernel_features.hpp"
#include "nsmgr/lab.hpp"
#include "nsmgr/rootless.hpp"
#include "topo/load.hpp"

namespace netlab::tools {

namespace {

// For validation to look for a node's programs in its image; nullopt for an image that is not
// imported, which bring-up refuses, naming it.
std::optional<std::string> importedImageRoot(const std::string& name) {
  try {
    return image::imageRoot(name).string();
  } catch (const Error&) {
    return std::nullopt;
  }
}

}  // namespace

std::optional<topo::Plan> loadPlan(const std::string& path, const std::string& labOverride) {
  topo::LoadResult result = topo::loadTopologyFile(path, {labOverride, true, importedImageRoot});
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

Subcommands::Subcommands(CLI::App& command)
    : command_(command), actions_(std::make_shared<std::map<CLI::App*, Action>>()) {
  command.require_subcommand(1);
}

void Subcommands::add(const char* name, const char* summary,
                      const std::function<void(CLI::App&, Action&)>& define) {
  CLI::App* sub = command_.add_subcommand(name, summary);
  define(*sub, (*actions_)[sub]);
}

Action Subcommands::action() const {
  return [&command = command_, actions = actions_] {
    return actions->at(command.get_subcommands().front())();
  };
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

namespace {

// What an ordinary user's netlab does: a lab in a user namespace of its own (nsmgr/rootless.hpp).
// The others are refused, with their reason, until they work there.
struct RootlessRefusal {
  std::string_view verb;
  const char* reason;
};
constexpr std::string_view kRootlessVerbs[] = {
    "ls",   "up",      "down",      "status",   "top",        "exec",      "pingall",
    "test", "capture", "link show", "link set", "link reset", "link down", "link up"};
constexpr const char* kOneNamespace =
    "each rootless lab lives in a user namespace of its own, and a process can enter only one";
constexpr RootlessRefusal kRootlessRefusals[] = {
    {"web", kOneNamespace},
    {"apply", "apply restarts and adds nodes, which has not been tried in a rootless lab yet"},
    {"node",
     "stopping a node pins its network namespace with a bind mount in the lab's "
     "directory, which an ordinary user cannot make on the host"},
};

void requireRootlessVerb(std::string_view verb) {
  for (std::string_view supported : kRootlessVerbs) {
    if (verb == supported) return;
  }
  const char* reason = "it has not been made to work in a rootless lab yet";
  for (const RootlessRefusal& refusal : kRootlessRefusals) {
    if (verb.substr(0, verb.find(' ')) == refusal.verb) reason = refusal.reason;
  }
  std::vector<std::string> supported(std::begin(kRootlessVerbs), std::end(kRootlessVerbs));
  throw Error("`netlab " + std::string(verb) + "` does not work without root yet: " + reason +
                  " (run it as root; without root netlab does " + join(supported, ", ") + ")",
              EPERM);
}

}  // namespace

void requireLabAccess(const char* verb) {
  if (nsmgr::rootless()) {
    requireRootlessVerb(verb);
    // Before anything else: without a state root of the user's, no lab can be made or found.
    nsmgr::stateRootPath();
  }
  nsmgr::requireKernelFeatures();
}

std::string chooseAndEnterLab(const std::string& labOrTopology) {
  std::string lab = chooseLab(labOrTopology);
  nsmgr::enterLabUserNamespace(lab);
  return lab;
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

int runReportingFailure(const Action& action) {
  try {
    return action();
  } catch (const Error& error) {
    std::cerr << "netlab: " << error.what() << '\n';
  } catch (const std::exception& error) {
    std::cerr << "netlab: internal error: " << error.what() << '\n';
  }
  return kExitFailure;
}

int runHelperProgram(CLI::App& app, int argc, char** argv, const Action& work) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error) == 0 ? kExitOk : kExitInvalid;
  }
  return runReportingFailure(work);
}

}  // namespace netlab::tools
