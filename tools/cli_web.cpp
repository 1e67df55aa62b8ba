// netlab web: runs netlab-web (tools/netlab_web.cpp), a helper of netlab's, with the options given.
#include <unistd.h>

#include <memory>

#include "base/error.hpp"
#include "base/helper_program.hpp"
#include "tools/cli.hpp"
#include "tools/output.hpp"
#include "tools/web_options.hpp"

namespace netlab::tools {

Action defineWeb(CLI::App& command) {
  auto options = std::make_shared<WebOptions>();
  addWebOptions(command, *options);
  return [options]() -> int {
    requireLabAccess("web");
    const std::string program = helperProgram("netlab-web", NETLAB_WEB_PATH);
    std::vector<const char*> argv = {"netlab-web", "--listen", options->listen.c_str()};
    if (options->control) argv.push_back("--control");
    argv.push_back(nullptr);
    ::execv(program.c_str(), const_cast<char* const*>(argv.data()));
    throw SystemError("execv", program);
  };
}

}  // namespace netlab::tools
