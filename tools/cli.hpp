// The netlab command: each verb registers its options and its action on a CLI11 subcommand.
#pragma once

#include <CLI/CLI.hpp>

#include <map>
#include <memory>
#include <string>

namespace netlab::tools {

// Exit codes, documented in `netlab --help`.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // the operation failed; the message says why
inline constexpr int kExitInvalid = 2;  // bad command line or invalid topology

// A verb's action; returns the exit code.
using Action = std::function<int()>;

// Runs an action with its failure printed once ("netlab: ..."), as every netlab program does.
int runReportingFailure(const Action& action);
// The main of a helper program netlab runs for a verb (netlab-web, netlab-capture): its command
// line parsed (a usage error exits with kExitInvalid), then its work run as above.
int runHelperProgram(CLI::App& app, int argc, char** argv, const Action& work);

struct Verb {
  const char* name;
  const char* summary;
  // Adds the verb's options to its subcommand and returns the action that runs it.
  Action (*define)(CLI::App& command);
  // Printed under a usage error of the verb: the way out of its most frequent mistake.
  const char* usageHint = nullptr;
  // It starts nodes' inits, whose ends a keeper records (nsmgr/node_keeper.hpp).
  bool startsInits = false;
};

// The subcommands of a verb (`netlab link show|set|…`): each defines its own options and action,
// and the verb, which needs exactly one of them, runs the one given.
class Subcommands {
 public:
  explicit Subcommands(CLI::App& command);
  void add(const char* name, const char* summary,
           const std::function<void(CLI::App&, Action&)>& define);
  // The verb's action.
  Action action() const;

 private:
  CLI::App& command_;
  std::shared_ptr<std::map<CLI::App*, Action>> actions_;
};

// Adds --format with its choices; the first choice is the default.
void addFormatOption(CLI::App& command, std::string& format,
                     const std::vector<std::string>& choices,
                     const std::string& help = "Output format");

Action defineValidate(CLI::App& command);
Action definePlan(CLI::App& command);
Action defineGraph(CLI::App& command);
Action defineUp(CLI::App& command);
Action defineDown(CLI::App& command);
Action defineStatus(CLI::App& command);
Action defineList(CLI::App& command);
Action defineTop(CLI::App& command);
Action defineExec(CLI::App& command);
Action defineLink(CLI::App& command);
Action defineNode(CLI::App& command);
// Hidden: the keeper of the exit statuses of inits a command started (nsmgr/node_keeper.hpp).
Action defineKeep(CLI::App& command);
Action defineApply(CLI::App& command);
Action definePingall(CLI::App& command);
Action defineTest(CLI::App& command);
Action defineCapture(CLI::App& command);
Action defineWeb(CLI::App& command);
Action defineImage(CLI::App& command);
Action defineDoctor(CLI::App& command);
Action defineComplete(CLI::App& command);
Action defineManual(CLI::App& command);
// The end of `netlab --help` and the NOTES of netlab(1), naming the documentation in `docs`.
std::string helpFooter(const std::string& docs);

}  // namespace netlab::tools
