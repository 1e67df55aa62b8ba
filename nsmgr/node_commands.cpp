#include "nsmgr/node_commands.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "base/error.hpp"
#include "base/fd.hpp"
#include "nsmgr/lab.hpp"
#include "nsmgr/process.hpp"
#include "nsmgr/run_in_node.hpp"

namespace netlab::nsmgr {
namespace {

// One output stream of a running command: its pipe, and the start of a line not yet complete.
struct Stream {
  Fd pipe;
  std::string* text = nullptr;
  std::string pending;
};

struct Running {
  size_t index = 0;
  pid_t helper = -1;
  Stream out, err;
};

// A helper process joins the node and runs the command there; its output comes back through
// pipes.
Running start(const nsmgr::LabState& state, const NodeCommand& command, size_t index,
              nsmgr::ExecOutcome& outcome) {
  NodeHandle node = openNode(state, command.node);
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) < 0) throw SystemError("pipe2", "output of node " + command.node);
  Fd outRead(out[0]), outWrite(out[1]);
  if (::pipe2(err, O_CLOEXEC) < 0) throw SystemError("pipe2", "output of node " + command.node);
  Fd errRead(err[0]), errWrite(err[1]);
  Fd devNull = openFile("/dev/null", O_RDONLY);
  Running running;
  running.index = index;
  running.out = {std::move(outRead), &outcome.stdoutText, ""};
  running.err = {std::move(errRead), &outcome.stderrText, ""};
  try {
    PreparedCommand prepared({command.argv, command.env.empty() ? node.env : command.env, "/",
                              devNull.get(), outWrite.get(), errWrite.get()});
    running.helper = spawnInNode(node.pidfd.get(), prepared, command.node);
  } catch (const Error& error) {
    // No such program: reported as the command's own failure, as a shell would.
    outcome.stderrText = std::string(error.what()) + "\n";
    outcome.exitCode = kCouldNotRun;
    running.out.pipe.reset();
    running.err.pipe.reset();
  }
  return running;
}

// Hands complete lines (and, at the end of the stream, the rest) to onLine.
void passLines(Stream& stream, size_t index, bool isStdout, bool ended, const LineFn& onLine) {
  size_t start = 0;
  for (size_t end; (end = stream.pending.find('\n', start)) != std::string::npos;
       start = end + 1) {
    if (onLine) onLine(index, isStdout, std::string_view(stream.pending).substr(start, end - start));
  }
  stream.pending.erase(0, start);
  if (ended && !stream.pending.empty()) {
    if (onLine) onLine(index, isStdout, stream.pending);
    stream.pending.clear();
  }
}

void readSome(Stream& stream, size_t index, bool isStdout, const LineFn& onLine) {
  char buffer[4096];
  ssize_t got = ::read(stream.pipe.get(), buffer, sizeof buffer);
  if (got < 0 && errno == EINTR) return;
  if (got > 0) {
    stream.text->append(buffer, static_cast<size_t>(got));
    stream.pending.append(buffer, static_cast<size_t>(got));
  }
  passLines(stream, index, isStdout, got <= 0, onLine);
  if (got <= 0) stream.pipe.reset();
}

// Reads every open stream until each running command has closed both of its pipes.
void pump(std::vector<Running>& running, const LineFn& onLine) {
  std::vector<pollfd> fds;
  std::vector<std::pair<Running*, bool>> owners;  // the command, and whether it is stdout
  for (auto& command : running) {
    for (bool isStdout : {true, false}) {
      Stream& stream = isStdout ? command.out : command.err;
      if (!stream.pipe) continue;
      fds.push_back({stream.pipe.get(), POLLIN, 0});
      owners.push_back({&command, isStdout});
    }
  }
  if (fds.empty()) return;
  if (::poll(fds.data(), fds.size(), -1) < 0) {
    if (errno == EINTR) return;
    throw SystemError("poll", "output of commands in nodes");
  }
  for (size_t i = 0; i < fds.size(); ++i) {
    if (fds[i].revents == 0) continue;
    auto [command, isStdout] = owners[i];
    readSome(isStdout ? command->out : command->err, command->index, isStdout, onLine);
  }
}

}  // namespace

std::vector<nsmgr::ExecOutcome> runCaptured(const nsmgr::LabState& state,
                                           const std::vector<NodeCommand>& commands,
                                           const LineFn& onLine) {
  std::vector<nsmgr::ExecOutcome> outcomes(commands.size());
  std::vector<Running> running;
  size_t next = 0;
  while (next < commands.size() || !running.empty()) {
    while (next < commands.size() && running.size() < kMaxConcurrentCommands) {
      outcomes[next].node = commands[next].node;
      running.push_back(start(state, commands[next], next, outcomes[next]));
      ++next;
    }
    pump(running, onLine);
    // A command is done when both its pipes are closed; its helper has then exited or is
    // about to.
    for (auto done = running.begin(); done != running.end();) {
      if (done->out.pipe || done->err.pipe) {
        ++done;
        continue;
      }
      if (done->helper > 0) outcomes[done->index].exitCode = exitCodeOf(waitForChild(done->helper));
      done = running.erase(done);
    }
  }
  return outcomes;
}

}  // namespace netlab::nsmgr
