// netlab web: runs netlab-web (tools/netlab_web.cpp), beside netlab, with the options given.
#include <unistd.h>

#include <filesystem>
#include <memory>

#include "base/error.hpp"
#include "tools/cli.hpp"
#include "tools/output.hpp"
#include "tools/web_options.hpp"

namespace netlab::tools {
namespace {

// netlab-web beside the running program (an installed netlab), else the one built with it.
std::string webProgram() {
  std::error_code error;
  auto beside = std::filesystem::read_symlink("/proc/self/exe", error).parent_path() / "netlab-web";
  return !error && ::access(beside.c_str(), X_OK) == 0 ? beside.string()
                                                       : std::string(NETLAB_WEB_PATH);
}

}  // namespace

Action defineWeb(CLI::App& command) {
  auto options = std::make_shared<WebOptions>();
  addWebOptions(command, *options);
  return [options]() -> int {
    requireLabAccess("web");
    const std::string program = webProgram();
    std::vector<const char*> argv = {"netlab-web", "--listen", options->listen.c_str()};
    if (options->control) argv.push_back("--control");
    argv.push_back(nullptr);
    ::execv(program.c_str(), const_cast<char* const*>(argv.data()));
    throw SystemError("execv", program);
  };
}

}  // namespace netlab::tools
