// The HTTP API of netlab web and the page that uses it (docs/web.md lists every endpoint).
#pragma once

#include <cstdint>

#include "web/live_feed.hpp"
#include "web/requests.hpp"

namespace httplib {
class Server;
}

namespace netlab::web {

struct ApiSettings {
  ListenAddress listen;
  uint16_t port = 0;     // the port bound (listen.port may be 0)
  bool control = false;  // POST requests change labs; without it they are refused (403)
  int stopFd = -1;       // readable once the server stops: a capture being downloaded ends
};

// Registers the page, the API and the checks every request passes (Host, and for control
// requests Origin and content type) on a server.
void addRoutes(httplib::Server& server, LiveFeed& feed, const ApiSettings& settings);

}  // namespace netlab::web
