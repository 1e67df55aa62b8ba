// netlab-capture: the program `netlab capture` runs (tools/capture_options.hpp says why it is
// one of its own): the packets crossing a running lab's interfaces, as pcapng for Wireshark (to
// a file, or to stdout when it is a pipe), or a line each on a terminal. Errors are printed
// once, here, as netlab prints them.
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <iostream>
#include <optional>

#include "base/error.hpp"
#include "base/fd.hpp"
#include "base/ip.hpp"
#include "base/mac.hpp"
#include "capture/capture.hpp"
#include "capture/packet_summary.hpp"
#include "capture/pcapng_writer.hpp"
#include "nsmgr/lab.hpp"
#include "tools/capture_options.hpp"
#include "tools/cli.hpp"
#include "tools/output.hpp"

namespace netlab::tools {
namespace {

// Whether a word names interfaces of the lab (NODE:IF, either part a glob) rather than
// starting the filter, whose words hold colons too where they are addresses (fe80::1,
// 02:00:0a:00:00:01) or byte ranges (ether[0:2]). A NODE:IF naming no node of the lab is taken
// as one, to be refused by name.
bool namesInterfaces(const std::string& word) {
  const size_t colon = word.find(':');
  if (colon == std::string::npos || colon == 0) return false;
  if (word.find_first_of("[ ") != std::string::npos) return false;
  return !parseAddress(word) && !parseMac(word);
}

// SIGINT, SIGTERM and SIGHUP, blocked and readable from a fd, end the capture cleanly; a
// reader that goes away (SIGPIPE) shows as EPIPE on the next write instead of killing netlab.
class StopSignals {
 public:
  StopSignals() {
    ::sigemptyset(&signals_);
    for (int signal : {SIGINT, SIGTERM, SIGHUP}) ::sigaddset(&signals_, signal);
    ::sigprocmask(SIG_BLOCK, &signals_, &previous_);
    fd_ = Fd(::signalfd(-1, &signals_, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!fd_) throw SystemError("signalfd", "SIGINT, SIGTERM and SIGHUP");
    ::signal(SIGPIPE, SIG_IGN);
  }
  // A signal that ended the capture is taken, so it does not kill netlab once unblocked.
  ~StopSignals() {
    signalfd_siginfo taken;
    while (::read(fd_.get(), &taken, sizeof taken) > 0) {
    }
    ::sigprocmask(SIG_SETMASK, &previous_, nullptr);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
  int fd() const { return fd_.get(); }

 private:
  sigset_t signals_;
  sigset_t previous_;
  Fd fd_;
};

std::string clockTime(uint64_t timestampNs) {
  const time_t seconds = static_cast<time_t>(timestampNs / 1'000'000'000);
  tm local{};
  ::localtime_r(&seconds, &local);
  char text[16];
  std::strftime(text, sizeof text, "%H:%M:%S", &local);
  return fmt::format("{}.{:06}", text, timestampNs % 1'000'000'000 / 1000);
}

// Where the packets go: a pcapng file (or stdout), or a line each on the terminal.
struct Output {
  std::optional<Fd> file;  // owned when it is a file, not stdout
  std::optional<capture::PcapngWriter> pcapng;
};

// "r1:eth0, r2:eth0", or on many "600 interfaces (h0:eth0, h1:eth0, ..., h599:eth0)".
std::string describeEnds(const std::vector<std::string>& ends) {
  constexpr size_t kNamedAlways = 8;
  if (ends.size() <= kNamedAlways) return join(ends, ", ");
  return fmt::format("{} interfaces ({}, {}, ..., {})", ends.size(), ends[0], ends[1], ends.back());
}

// A line per interface; on many, only those that saw something (or stopped), then a count of
// the quiet ones.
void printSummary(const capture::LiveCapture& live, const std::string& destination) {
  constexpr size_t kListedAlways = 16;
  uint64_t total = 0;
  for (const auto& interface : live.interfaces()) total += interface.packets;
  std::cerr << fmt::format("{} packet{} captured{}\n", total, total == 1 ? "" : "s",
                           destination.empty() ? "" : " to " + destination);
  const bool all = live.interfaces().size() <= kListedAlways;
  size_t quiet = 0;
  for (const auto& interface : live.interfaces()) {
    if (!all && interface.packets == 0 && interface.dropped == 0 && interface.stopped.empty()) {
      ++quiet;
      continue;
    }
    std::cerr << fmt::format("  {}: {} packets, {} dropped{}\n", interface.end, interface.packets,
                             interface.dropped,
                             interface.stopped.empty() ? "" : "; stopped: " + interface.stopped);
  }
  if (quiet > 0) std::cerr << fmt::format("  {} more interfaces: no packets\n", quiet);
}

int runCapture(const CaptureArguments& arguments) {
  requireLabAccess("capture");
  const std::string lab = chooseAndEnterLab(arguments.lab);
  const nsmgr::LabState state = nsmgr::readLabState(lab);
  std::vector<std::string> patterns;
  std::string filter;
  for (const auto& word : arguments.words) {
    if (filter.empty() && namesInterfaces(word)) {
      patterns.push_back(word);
    } else {
      filter += (filter.empty() ? "" : " ") + word;
    }
  }
  if (patterns.empty() && !arguments.all) {
    throw Error(
        "name the interfaces to capture on (NODE:IF, or globs such as 'r*:eth*'), or "
        "give --all",
        EINVAL);
  }
  capture::CaptureOptions options;
  options.filter = filter;
  options.snapLength = arguments.snapLength;
  if (arguments.count > 0) options.count = arguments.count;
  if (arguments.durationSeconds > 0) {
    options.duration =
        std::chrono::milliseconds(static_cast<int64_t>(arguments.durationSeconds * 1000));
  }
  // The filter first: a bad one is refused before anything is opened or written.
  if (!filter.empty()) capture::checkFilter(filter, options.snapLength);
  const std::vector<std::string> ends = capture::matchingEnds(state, patterns, arguments.all);
  StopSignals stop;
  capture::LiveCapture live(state, ends, options);

  Output output;
  const bool toStdout = arguments.write == "-" || (arguments.write.empty() && !isTerminal(1));
  const bool lines = arguments.write.empty() && !toStdout;
  if (!lines) {
    int fd = STDOUT_FILENO;
    std::string what = "stdout";
    if (!toStdout) {
      output.file = openFile(arguments.write, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      fd = output.file->get();
      what = arguments.write;
    }
    output.pcapng.emplace(fd, what);
    for (const auto& interface : live.interfaces()) {
      output.pcapng->addInterface(interface.end, "lab " + lab + ", " + interface.end,
                                  interface.linkType, options.snapLength);
    }
    output.pcapng->flush();
  }
  const bool liveCount = !lines && isTerminal(STDERR_FILENO);
  std::cerr << fmt::format("capturing on {}{}{}\n", describeEnds(ends),
                           filter.empty() ? "" : " (filter: " + filter + ")",
                           lines ? "" : "; Ctrl-C ends it");
  auto deliver = [&](const capture::CapturedPacket& packet) {
    if (lines) {
      std::cout << fmt::format("{} {} {}\n", clockTime(packet.timestampNs),
                               live.interfaces()[packet.interface].end,
                               capture::summarizeFrame(packet.data));
      return;
    }
    output.pcapng->addPacket(static_cast<uint32_t>(packet.interface), packet.timestampNs,
                             packet.data, packet.originalLength);
  };
  auto tick = [&] {
    if (output.pcapng) output.pcapng->flush();
    if (liveCount) {
      uint64_t total = 0;
      for (const auto& interface : live.interfaces()) total += interface.packets;
      std::cerr << fmt::format("\r{} packets", total) << std::flush;
    }
  };
  try {
    live.run(
        [&](const capture::CapturedPacket& packet) {
          deliver(packet);
          // Each packet as it comes to a reader at the other end of a pipe (Wireshark live);
          // a file is written about once a second, and completely at the end.
          if (toStdout) output.pcapng->flush();
        },
        stop.fd(), tick);
    if (output.pcapng) output.pcapng->flush();
  } catch (const SystemError& error) {
    // Wireshark (or `head`) closed the pipe: the capture is over, and nothing failed.
    if (error.errnoValue() != EPIPE) throw;
  }
  if (liveCount) std::cerr << "\n";
  printSummary(live, toStdout ? "" : arguments.write);
  return kExitOk;
}

}  // namespace
}  // namespace netlab::tools

int main(int argc, char** argv) {
  CLI::App app{"netlab-capture - the capture of `netlab capture` (run it as `netlab capture`)"};
  netlab::tools::CaptureArguments arguments;
  netlab::tools::addCaptureOptions(app, arguments);
  return netlab::tools::runHelperProgram(app, argc, argv,
                                         [&] { return netlab::tools::runCapture(arguments); });
}
