#include "tools/capture_options.hpp"

#include <fmt/format.h>

#include "tools/output.hpp"

namespace netlab::tools {

void addCaptureOptions(CLI::App& command, CaptureArguments& arguments) {
  command.footer(
      "Examples:\n"
      "  netlab capture r1:eth0                      a line per packet\n"
      "  netlab capture r1:eth0 r2:eth1 ospf or arp  two interfaces, a pcap filter\n"
      "  netlab capture 'r*:eth*' -w routers.pcapng  every router interface, to a file\n"
      "  netlab capture r1:eth0 | wireshark -k -i -  live in Wireshark (pcapng on a pipe)\n"
      "The filter is a pcap filter expression (pcap-filter(7)), where ospf, bgp, rip and bfd\n"
      "also name those protocols. Each interface appears in the file under its NODE:IF name.\n"
      "Ctrl-C ends the capture with the file complete. docs/capture.md has more.");
  addLabArgument(command, arguments.lab, "--lab");
  command.add_option("interfaces-and-filter", arguments.words,
                     "NODE:IF patterns (globs allowed), then an optional pcap filter");
  command.add_option("-w,--write", arguments.write,
                     "Write pcapng to FILE ('-' for stdout; the default when stdout is not a "
                     "terminal)");
  command.add_option("-c,--count", arguments.count, "Stop after this many packets")
      ->check(CLI::PositiveNumber);
  command.add_option("--duration", arguments.durationSeconds, "Stop after this many seconds")
      ->check(CLI::PositiveNumber);
  command.add_option("--snaplen", arguments.snapLength, "Bytes kept of each packet")
      ->check(CLI::Range(64u, 262144u))
      ->capture_default_str();
  command.add_flag("--all", arguments.all, "Every interface of every node (switch ports excepted)");
}

std::vector<std::string> captureCommandLine(const CaptureArguments& arguments) {
  std::vector<std::string> line = {"netlab-capture", "--snaplen",
                                   std::to_string(arguments.snapLength)};
  auto add = [&](const char* option, const std::string& value) {
    line.push_back(option);
    line.push_back(value);
  };
  if (!arguments.lab.empty()) add("--lab", arguments.lab);
  if (!arguments.write.empty()) add("--write", arguments.write);
  if (arguments.count > 0) add("--count", std::to_string(arguments.count));
  // Written back exactly: fmt's shortest form reads back as the same double.
  if (arguments.durationSeconds > 0)
    add("--duration", fmt::format("{}", arguments.durationSeconds));
  if (arguments.all) line.push_back("--all");
  // The filter's words as they were, whatever they start with.
  line.push_back("--");
  line.insert(line.end(), arguments.words.begin(), arguments.words.end());
  return line;
}

}  // namespace netlab::tools
