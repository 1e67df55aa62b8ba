// netlab exec: a command inside one node (interactive, its exit status netlab's), or inside
// several at once with each line of output prefixed by its node.
#include <fcntl.h>
#include <fnmatch.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <map>

#include "base/error.hpp"
#include "nsmgr/lab.hpp"
#include "nsmgr/process.hpp"
#include "nsmgr/run_in_node.hpp"
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

std::string currentDirectory() {
  std::error_code error;
  auto path = std::filesystem::current_path(error);
  return error ? "/" : path.string();
}

void throwIfNotRun(const nsmgr::RunResult& result, const std::string& node,
                   const std::string& program) {
  if (!result.failedStep) return;
  std::string object = std::string(result.failedStep) == "execve" ? program : "node " + node;
  throw SystemError(result.failedStep, object, result.failedErrno);
}

int execInOne(const std::string& lab, const ExecOptions& options) {
  nsmgr::NodeHandle node = nsmgr::openNode(lab, options.node);
  nsmgr::PreparedCommand command(
      {options.command, execEnvironment(node.env), currentDirectory(), 0, 1, 2});
  nsmgr::RunResult result = nsmgr::runInNode(node.pidfd.get(), command);
  throwIfNotRun(result, node.name, options.command.front());
  return nsmgr::exitCodeOf(result.waitStatus);
}

struct RunningCommand {
  topo::ExecOutcome outcome;
  pid_t helper = -1;
  Fd out, err;
  std::string pendingOut, pendingErr;
};

// A helper process per node joins the node and runs the command there; its output comes back
// through pipes.
RunningCommand startInNode(const topo::LabState& state, const std::string& name,
                           const std::vector<std::string>& argv) {
  nsmgr::NodeHandle node = nsmgr::openNode(state, name);
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) < 0 || ::pipe2(err, O_CLOEXEC) < 0) throw SystemError("pipe2", name);
  RunningCommand running{{name, 0, "", ""}, -1, Fd(out[0]), Fd(err[0]), "", ""};
  Fd outWrite(out[1]), errWrite(err[1]);
  Fd devNull = openFile("/dev/null", O_RDONLY);
  nsmgr::PreparedCommand command(
      {argv, execEnvironment(node.env), "/", devNull.get(), outWrite.get(), errWrite.get()});
  running.helper = nsmgr::spawnInNode(node.pidfd.get(), command, name);
  return running;
}

// Moves complete lines from pending to the stream, prefixed by the node's name.
void flushLines(std::string& pending, const std::string& node, std::ostream& stream, bool all) {
  size_t start = 0;
  for (size_t end; (end = pending.find('\n', start)) != std::string::npos; start = end + 1) {
    stream << node << " | " << pending.substr(start, end + 1 - start);
  }
  pending.erase(0, start);
  if (all && !pending.empty()) {
    stream << node << " | " << pending << '\n';
    pending.clear();
  }
}

void collectOutput(std::vector<RunningCommand>& commands, bool json) {
  for (;;) {
    std::vector<pollfd> fds;
    std::vector<std::pair<size_t, bool>> owners;  // command, is stdout
    for (size_t i = 0; i < commands.size(); ++i) {
      if (commands[i].out)
        fds.push_back({commands[i].out.get(), POLLIN, 0}), owners.push_back({i, true});
      if (commands[i].err)
        fds.push_back({commands[i].err.get(), POLLIN, 0}), owners.push_back({i, false});
    }
    if (fds.empty()) return;
    if (::poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR)
      throw SystemError("poll", "output");
    for (size_t f = 0; f < fds.size(); ++f) {
      if (!fds[f].revents) continue;
      auto& command = commands[owners[f].first];
      bool isOut = owners[f].second;
      char buffer[4096];
      ssize_t got = ::read(fds[f].fd, buffer, sizeof buffer);
      std::string& text = isOut ? command.outcome.stdoutText : command.outcome.stderrText;
      std::string& pending = isOut ? command.pendingOut : command.pendingErr;
      if (got > 0) {
        text.append(buffer, static_cast<size_t>(got));
        pending.append(buffer, static_cast<size_t>(got));
      }
      if (!json) flushLines(pending, command.outcome.node, isOut ? std::cout : std::cerr, got <= 0);
      if (got <= 0) (isOut ? command.out : command.err).reset();
    }
  }
}

int execInMany(const topo::LabState& state, const ExecOptions& options) {
  std::vector<RunningCommand> commands;
  for (const auto& node : state.plan.nodes) {
    if (options.all || ::fnmatch(options.node.c_str(), node.name.c_str(), 0) == 0) {
      commands.push_back(startInNode(state, node.name, options.command));
    }
  }
  if (commands.empty())
    throw Error("no node of lab `" + state.plan.name + "` matches `" + options.node + "`");
  collectOutput(commands, options.format == "json");
  int worst = 0;
  std::vector<topo::ExecOutcome> outcomes;
  for (auto& command : commands) {
    command.outcome.exitCode = nsmgr::exitCodeOf(nsmgr::waitForChild(command.helper));
    worst = std::max(worst, command.outcome.exitCode);
    outcomes.push_back(std::move(command.outcome));
  }
  if (options.format == "json") std::cout << topo::execOutcomesToJson(outcomes);
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
                     "Command and its arguments; put `--` before a command that has options");
  command.footer(
      "Examples:\n  netlab exec r1 -- ip -br addr\n  netlab exec r1 bash\n"
      "  netlab exec 'h*' -- ping -c1 10.0.0.1\n  netlab exec --all --format json -- hostname");
  return [options] {
    if (::geteuid() != 0) throw Error("`netlab exec` needs root (run it with sudo)", EPERM);
    // With --all, the first word is the command's, not a node's.
    if (options->all && !options->node.empty())
      options->command.insert(options->command.begin(), options->node);
    if (options->command.empty())
      throw Error("no command given: netlab exec NODE -- COMMAND [ARG...]");
    std::string lab = chooseLab(options->lab);
    bool many = options->all || isPattern(options->node) || options->format == "json";
    return many ? execInMany(nsmgr::readLabState(lab), *options) : execInOne(lab, *options);
  };
}

}  // namespace netlab::tools
