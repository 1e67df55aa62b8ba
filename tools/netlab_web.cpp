// netlab-web: the server of `netlab web`, which runs it (tools/web_options.hpp says why it is a
// program of its own). Errors are printed once, here, as netlab prints them.
#include <iostream>

#include "base/error.hpp"
#include "tools/cli.hpp"
#include "tools/output.hpp"
#include "tools/web_options.hpp"
#include "web/server.hpp"

int main(int argc, char** argv) {
  CLI::App app{"netlab-web - the server of `netlab web` (run it as `netlab web`)"};
  netlab::tools::WebOptions options;
  netlab::tools::addWebOptions(app, options);
  // Checked here rather than in netlab, which links nothing of the web server.
  app.get_option("--listen")
      ->check(CLI::Validator(
          [](const std::string& text) {
            try {
              netlab::web::parseListenAddress(text);
              return std::string();
            } catch (const netlab::Error& error) {
              return std::string(error.what());
            }
          },
          "ADDRESS:PORT"));
  return netlab::tools::runHelperProgram(app, argc, argv, [&] {
    netlab::tools::requireLabAccess("web");
    netlab::web::ServerOptions server{netlab::web::parseListenAddress(options.listen),
                                      options.control};
    netlab::web::serve(server, [&](const std::string& url) {
      std::cout << "netlab web: serving the running labs on " << url
                << (options.control
                        ? " (with --control: links can be failed and impaired, captures downloaded)"
                        : " (read-only)")
                << "\nCtrl-C stops it\n"
                << std::flush;
    });
    std::cout << "netlab web: stopped\n";
    return netlab::tools::kExitOk;
  });
}
