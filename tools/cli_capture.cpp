// netlab capture: runs netlab-capture (tools/netlab_capture.cpp), a helper of netlab's, with the
// arguments given.
#include <unistd.h>

#include <memory>

#include "base/error.hpp"
#include "base/helper_program.hpp"
#include "tools/capture_options.hpp"
#include "tools/cli.hpp"

namespace netlab::tools {

Action defineCapture(CLI::App& command) {
  auto arguments = std::make_shared<CaptureArguments>();
  addCaptureOptions(command, *arguments);
  return [arguments]() -> int {
    const std::string program = helperProgram("netlab-capture", NETLAB_CAPTURE_PATH);
    const std::vector<std::string> line = captureCommandLine(*arguments);
    std::vector<const char*> argv;
    for (const auto& word : line) argv.push_back(word.c_str());
    argv.push_back(nullptr);
    ::execv(program.c_str(), const_cast<char* const*>(argv.data()));
    throw SystemError("execv", program);
  };
}

}  // namespace netlab::tools
