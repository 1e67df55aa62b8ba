// netlab exec: a command inside one node (interactive, its exit status netlab's), or inside
// several at once with each line of output prefixed by its node.
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "base/error.hpp"
#include "nsmgr/cgroups.hpp"
#include "nsmgr/lab.hpp"
#include "nsmgr/node_commands.hpp"
#include "nsmgr/process.hpp"
#include "nsmgr/report.hpp"
#include "nsmgr/run_in_node.hpp"
#include "report/report_json.hpp"
#include "tools/cli.hpp"
#include "tools/output.hpp"

extern char** environ;

namespace netlab::tools {
namespace {

struct ExecOptions {
  std::string lab;
  std::string node;
  std::vector<std::string> command;
  bool all = false;
  std::string format;
};

// The caller's environment, then the node's: the node's PATH and HOME only where the caller
// has none, the topology's variables and NETLAB_LAB/NETLAB_NODE always.
std::vector<std::string> execEnvironment(const std::vector<std::string>& nodeEnv) {
  std::map<std::string, std::string> merged;
  auto nameOf = [](const std::string& entry) { return entry.substr(0, entry.find('=')); };
  for (size_t i = 0; i < nodeEnv.size(); ++i) merged[nameOf(nodeEnv[i])] = nodeEnv[i];
  for (char** entry = environ; *entry; ++entry) {
    std::string variable = *entry;
    std::string name = nameOf(variable);
    if (name == "PATH" || name == "HOME" || !merged.count(name)) merged[name] = variable;
  }
  for (const auto& variable : nodeEnv) {
    std::string name = nameOf(variable);
    if (name != "PATH" && name != "HOME") merged[name] = variable;
  }
  std::vector<std::string> env;
  for (auto& [name, variable] : merged) env.push_back(std::move(variable));
  return env;
}

// The caller's directory where the node has it too (a node sees the host's files, but not its
// /tmp or /run), else the node's root: a command lands where it can, as a login does.
std::string directoryIn(pid_t nodePid) {
  std::error_code error;
  const auto here = std::filesystem::current_path(error);
  if (error) return "/";
  const auto inNode = "/proc/" + std::to_string(nodePid) + "/root" + here.string();
  return std::filesystem::is_directory(inNode, error) ? here.string() : "/";
}

// A program that could not start is reported as a shell reports it, with its exit code (127
// when it is not there); any other failure to run is an Error.
int reportNotRun(const nsmgr::RunResult& result, const std::string& node,
                 const std::string& program) {
  if (std::string_view(result.failedStep) == "execve") {
    std::cerr << "netlab: " << node << ": " << program << ": "
              << (result.failedErrno == ENOENT ? "command not found"
                                               : errnoText(result.failedErrno))
              << '\n';
    return nsmgr::exitCodeOfFailure(result);
  }
  std::string object = result.failedObject ? std::string(result.failedObject) : "node " + node;
  throw SystemError(result.failedStep, object, result.failedErrno);
}

// The login shell of the node's root (its /etc/passwd, seen from inside), as a terminal
// session opens it; /bin/sh when there is none.
std::vector<std::string> loginShellOf(pid_t nodePid) {
  std::ifstream passwd("/proc/" + std::to_string(nodePid) + "/root/etc/passwd");
  std::string line;
  while (std::getline(passwd, line)) {
    std::vector<std::string> fields;
    std::stringstream split(line);
    for (std::string field; std::getline(split, field, ':');) fields.push_back(field);
    if (fields.size() == 7 && fields[2] == "0" && !fields[6].empty()) return {fields[6], "-l"};
  }
  return {"/bin/sh", "-l"};
}

// A command ended by a signal is named, as a shell names it, except SIGINT and SIGPIPE, which
// end commands on purpose; a stopping node (`down`, `node stop`) ends its commands with
// SIGTERM, and the message says when the node has gone.
void reportSignalled(int waitStatus, const nsmgr::NodeHandle& node, const std::string& program) {
  if (!WIFSIGNALED(waitStatus)) return;
  const int signal = WTERMSIG(waitStatus);
  if (signal == SIGINT || signal == SIGPIPE) return;
  std::cerr << "netlab: " << node.name << ": " << program << ": killed by "
            << nsmgr::signalName(signal)
            << (nsmgr::waitForExit(node.pidfd, std::chrono::milliseconds(0))
                    ? " (the node has stopped)"
                    : "")
            << '\n';
}

int execInOne(const std::string& lab, const ExecOptions& options) {
  nsmgr::NodeHandle node = nsmgr::openNode(lab, options.node);
  const std::vector<std::string> argv =
      options.command.empty() ? loginShellOf(node.pid) : options.command;
  nsmgr::PreparedCommand command(
      nsmgr::CommandSpec{argv, execEnvironment(node.env), directoryIn(node.pid), 0, 1, 2});
  nsmgr::CommandCgroups cgroups = nsmgr::commandCgroupsOf(node.pid);
  if (!cgroups.outOfReach.empty()) {
    std::cerr << "netlab: note: " << node.name << "'s command runs outside its cgroup "
              << cgroups.outOfReach
              << " (its limits do not hold for it): without root, netlab moves a command there "
                 "only from inside the cgroup delegated to you, for example with `systemd-run "
                 "--user --scope netlab exec ...` (docs/rootless.md)\n";
  }
  command.joinCgroups(std::move(cgroups.procsFiles));
  nsmgr::RunResult result = nsmgr::runInNode(node.pidfd.get(), command);
  if (result.failedStep) return reportNotRun(result, node.name, argv.front());
  reportSignalled(result.waitStatus, node, argv.front());
  return nsmgr::exitCodeOf(result.waitStatus);
}

int execInMany(const nsmgr::LabState& state, const ExecOptions& options) {
  std::vector<nsmgr::NodeCommand> commands;
  for (const auto& node : state.plan.nodes) {
    if (options.all || ::fnmatch(options.node.c_str(), node.name.c_str(), 0) == 0) {
      commands.push_back({node.name, options.command, {}});
    }
  }
  if (commands.empty())
    throw Error("no node of lab `" + state.plan.name + "` matches `" + options.node + "`");
  const bool json = options.format == "json";
  // Each line as it comes, prefixed by its node.
  auto printLine = [&](size_t command, bool isStdout, std::string_view line) {
    if (!json)
      (isStdout ? std::cout : std::cerr) << commands[command].node << " | " << line << '\n';
  };
  std::vector<nsmgr::ExecOutcome> outcomes = nsmgr::runCaptured(state, commands, printLine);
  int worst = 0;
  for (const auto& outcome : outcomes) worst = std::max(worst, outcome.exitCode);
  if (json) std::cout << report::execOutcomesToJson(outcomes);
  return worst;
}

bool isPattern(const std::string& node) {
  return node.find_first_of("*?[") != std::string::npos;
}

}  // namespace

Action defineExec(CLI::App& command) {
  auto options = std::make_shared<ExecOptions>();
  command.add_option("--lab", options->lab, "Lab name (default: the only running lab)");
  command.add_flag("--all", options->all, "Run in every node of the lab");
  addFormatOption(command, options->format, {"text", "json"},
                  "Output format (json: run as for several nodes, output collected)");
  command.add_option("node", options->node, "Node name, or a glob such as 'r*'");
  command.add_option("command", options->command,
                     "Command and its arguments (put `--` before a command that has options); "
                     "none opens the node's login shell");
  command.footer(
      "Examples:\n  netlab exec r1 -- ip -br addr\n  netlab exec r1             (a login shell)\n"
      "  netlab exec 'h*' -- ping -c1 10.0.0.1\n  netlab exec --all --format json -- hostname");
  return [options] {
    requireLabAccess("exec");
    // With --all, the first word is the command's, not a node's.
    if (options->all && !options->node.empty())
      options->command.insert(options->command.begin(), options->node);
    std::string lab = chooseAndEnterLab(options->lab);
    bool many = options->all || isPattern(options->node) || options->format == "json";
    if (options->command.empty() && (many || options->node.empty())) {
      throw Error(
          "no command given: netlab exec NODE -- COMMAND [ARG...] (a login shell, "
          "`netlab exec NODE`, takes one node)",
          EINVAL);
    }
    return many ? execInMany(nsmgr::readLabState(lab), *options) : execInOne(lab, *options);
  };
}

}  // namespace netlab::tools
