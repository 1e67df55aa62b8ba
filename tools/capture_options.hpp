// The options of `netlab capture`, shared by the verb in netlab and by netlab-capture, the
// program the verb runs: libpcap and what Debian's links it with (D-Bus, systemd, libgcrypt,
// three compressors) made every start of netlab, `netlab exec` included, about 4 ms slower
// (138 page faults), so capture lives in a program of its own.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace netlab::tools {

struct CaptureArguments {
  std::string lab;
  std::vector<std::string> words;  // NODE:IF patterns, then the filter's words
  std::string write;
  uint64_t count = 0;
  double durationSeconds = 0;
  uint32_t snapLength = 262144;
  bool all = false;
};

void addCaptureOptions(CLI::App& command, CaptureArguments& arguments);

// The command line that gives netlab-capture the same arguments.
std::vector<std::string> captureCommandLine(const CaptureArguments& arguments);

}  // namespace netlab::tools
