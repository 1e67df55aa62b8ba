// Commands run in nodes on a user's or netlab's behalf, several at once, their output captured
// (and handed on line by line, for live display).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "nsmgr/state_file.hpp"
#include "topo/plan.hpp"
#include "nsmgr/report.hpp"

namespace netlab::nsmgr {

struct NodeCommand {
  std::string node;
  std::vector<std::string> argv;
  std::vector<std::string> env;  // "NAME=value"; empty: the node's own environment
};

// Called for each line a command writes, without its newline; `command` indexes the commands.
using LineFn = std::function<void(size_t command, bool isStdout, std::string_view line)>;

// How many commands run at once; each holds two pipes and a helper process.
inline constexpr size_t kMaxConcurrentCommands = 64;

// Runs every command in its node, with /dev/null as stdin, at most kMaxConcurrentCommands at
// a time, and returns their outcomes in the commands' order. A command that could not run
// (no such program) has exit code 126 and the reason on its stderr.
std::vector<nsmgr::ExecOutcome> runCaptured(const nsmgr::LabState& state,
                                           const std::vector<NodeCommand>& commands,
                                           const LineFn& onLine = {});

}  // namespace netlab::nsmgr
