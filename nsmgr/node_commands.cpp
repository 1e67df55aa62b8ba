#include "nsmgr/node_commands.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "base/error.hpp"
#include "base/fd.hpp"
#include "nsmgr/cgroups.hpp"
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
  ChildProcess helper;  // killed and reaped should anything fail before it ends
  Stream out, err;
};

// netlab's end of an output pipe reads without blocking (the command's end blocks as usual).
Fd readEnd(int fd) {
  Fd end(fd);
  if (::fcntl(end.get(), F_SETFL, O_NONBLOCK) < 0) throw SystemError("fcntl", "output pipe");
  return end;
}

// A helper process joins the node and runs the command there; its output comes back through
// pipes. A node that is gone, or a program that does not exist, is that command's failure
// (exit code kCouldNotRun, or kCommandNotFound, and the reason on its stderr, said by the helper
// or here), as a shell would report it.
Running start(const nsmgr::LabState& state, const NodeCommand& command, size_t index,
              nsmgr::ExecOutcome& outcome) {
  Running running;
  running.index = index;
  try {
    NodeHandle node = openNode(state, command.node);
    int out[2], err[2];
    if (::pipe2(out, O_CLOEXEC) < 0) throw SystemError("pipe2", "output of node " + command.node);
    Fd outWrite(out[1]);
    running.out = {readEnd(out[0]), &outcome.stdoutText, ""};
    if (::pipe2(err, O_CLOEXEC) < 0) throw SystemError("pipe2", "output of node " + command.node);
    Fd errWrite(err[1]);
    running.err = {readEnd(err[0]), &outcome.stderrText, ""};
    Fd devNull = openFile("/dev/null", O_RDONLY);
    PreparedCommand prepared({command.argv, command.env.empty() ? node.env : command.env, "/",
                              devNull.get(), outWrite.get(), errWrite.get()});
    prepared.joinCgroups(commandCgroupsOf(node.pid).procsFiles);
    ChildProcess helper(spawnInNode(node.pidfd.get(), prepared, command.node), Fd());
    // An unreaped child always has a pidfd; should opening it fail, the guard ends the helper.
    auto pidfd = openPidfd(helper.pid());
    if (!pidfd) throw Error("helper for node " + command.node + " vanished before it was reaped");
    const pid_t pid = helper.pid();
    helper.release();
    running.helper = ChildProcess(pid, std::move(*pidfd));
  } catch (const Error& error) {
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
  for (size_t end; (end = stream.pending.find('\n', start)) != std::string::npos; start = end + 1) {
    if (onLine)
      onLine(index, isStdout, std::string_view(stream.pending).substr(start, end - start));
  }
  stream.pending.erase(0, start);
  if (ended && !stream.pending.empty()) {
    if (onLine) onLine(index, isStdout, stream.pending);
    stream.pending.clear();
  }
}

// Reads what the pipe holds, a bounded amount at a time so that one busy command cannot hold
// the others up. At its end, or with `last` once it is empty, the stream is closed.
void readSome(Stream& stream, size_t index, bool isStdout, const LineFn& onLine, bool last) {
  constexpr int kReadsAtOnce = 16;
  char buffer[4096];
  ssize_t got = -1;
  for (int reads = 0; last || reads < kReadsAtOnce; ++reads) {
    got = ::read(stream.pipe.get(), buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    stream.text->append(buffer, static_cast<size_t>(got));
    stream.pending.append(buffer, static_cast<size_t>(got));
  }
  const bool ended = got == 0 || (got < 0 && (last || errno != EAGAIN));
  passLines(stream, index, isStdout, ended, onLine);
  if (ended) stream.pipe.reset();
}

// The helper has ended: the command's exit code, and the output it left. A daemon the command
// started may keep the pipes open; netlab reads what is there and stops, as ssh does.
void finish(Running& command, nsmgr::ExecOutcome& outcome, const LineFn& onLine) {
  outcome.exitCode = exitCodeOf(waitForChild(command.helper.pid()));
  command.helper.release();
  for (bool isStdout : {true, false}) {
    Stream& stream = isStdout ? command.out : command.err;
    if (stream.pipe) readSome(stream, command.index, isStdout, onLine, true);
  }
}

// Waits for output or a helper's end, and handles what came.
void pump(std::vector<Running>& running, std::vector<nsmgr::ExecOutcome>& outcomes,
          const LineFn& onLine) {
  std::vector<pollfd> fds;
  struct Owner {
    Running* command;
    int what;  // 0 stdout, 1 stderr, 2 the helper's pidfd
  };
  std::vector<Owner> owners;
  auto watch = [&](int fd, Running& command, int what) {
    fds.push_back({fd, POLLIN, 0});
    owners.push_back({&command, what});
  };
  for (auto& command : running) {
    if (command.out.pipe) watch(command.out.pipe.get(), command, 0);
    if (command.err.pipe) watch(command.err.pipe.get(), command, 1);
    if (command.helper.pid() > 0) watch(command.helper.pidfd().get(), command, 2);
  }
  if (fds.empty()) return;
  if (::poll(fds.data(), fds.size(), -1) < 0) {
    if (errno == EINTR) return;
    throw SystemError("poll", "output of commands in nodes");
  }
  for (size_t i = 0; i < fds.size(); ++i) {
    if (fds[i].revents == 0) continue;
    auto [command, what] = owners[i];
    if (what == 2) {
      finish(*command, outcomes[command->index], onLine);
    } else {
      Stream& stream = what == 0 ? command->out : command->err;
      if (stream.pipe) readSome(stream, command->index, what == 0, onLine, false);
    }
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
      // A command that could not start says why, as its running peers say what they print.
      if (running.back().helper.pid() <= 0 && onLine) {
        std::string_view why = outcomes[next].stderrText;
        if (why.ends_with('\n')) why.remove_suffix(1);
        onLine(next, false, why);
      }
      ++next;
    }
    pump(running, outcomes, onLine);
    // A command is done once its helper has ended and its pipes are read.
    std::erase_if(running, [](const Running& command) {
      return command.helper.pid() <= 0 && !command.out.pipe && !command.err.pipe;
    });
  }
  return outcomes;
}

}  // namespace netlab::nsmgr
