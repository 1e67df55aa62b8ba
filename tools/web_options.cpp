#include "tools/web_options.hpp"

namespace netlab::tools {

void addWebOptions(CLI::App& command, WebOptions& options) {
  command
      .add_option("--listen", options.listen,
                  "ADDRESS:PORT to serve on; loopback unless told otherwise, port 0 for any "
                  "free port")
      ->capture_default_str();
  command.add_flag("--control", options.control,
                   "Let the page and the API fail, restore and impair links and download "
                   "captures; read-only without it");
  command.footer(
      "The page shows every running lab as a graph, updated about once a second: node and link\n"
      "states, packets and bytes per second on every link, impairments; a node's interfaces,\n"
      "addresses and routes on click. Its JSON API (docs/web.md):\n"
      "  GET  /api/labs                          running labs (`netlab ls --format json`)\n"
      "  GET  /api/labs/LAB                      `netlab status LAB --format json`\n"
      "  GET  /api/labs/LAB/links                `netlab link show LAB --format json`\n"
      "  GET  /api/labs/LAB/nodes/NODE/routes    the node's routes, read live\n"
      "  GET  /api/labs/LAB/events               server-sent events: update, problem, gone\n"
      "  POST /api/labs/LAB/links/END/down|up    with --control (403 without)\n"
      "  POST /api/labs/LAB/links/END/impairments {\"delay\": \"20ms\", ...} with --control\n"
      "  GET  /api/labs/LAB/links/END/capture?seconds=10&filter=ospf  pcapng, with --control\n"
      "Requests naming another host, and control requests from another site's page, are "
      "refused.\nCtrl-C stops it.");
}

}  // namespace netlab::tools
