// netlab web: serves the live view of the running labs and its API until SIGINT, SIGTERM or
// SIGHUP, then stops cleanly (every stream ended, every thread joined).
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "web/requests.hpp"

namespace netlab::web {

struct ServerOptions {
  ListenAddress listen{"127.0.0.1", 8080};
  bool control = false;
  std::chrono::milliseconds period{1000};  // between two readings of a watched lab
};

// Binds, calls onListening with the page's URL, and serves until a signal asks it to stop.
// Throws Error when the address cannot be bound.
void serve(const ServerOptions& options,
           const std::function<void(const std::string& url)>& onListening);

}  // namespace netlab::web
