// The options of `netlab web`, shared by the verb in netlab and by netlab-web, the program the
// verb runs: the HTTP library and what it links (OpenSSL among them) would add about 9 ms to
// every start of netlab (`netlab exec` included), so they live in a program of their own.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace netlab::tools {

struct WebOptions {
  std::string listen = "127.0.0.1:8080";
  bool control = false;
};

void addWebOptions(CLI::App& command, WebOptions& options);

}  // namespace netlab::tools
