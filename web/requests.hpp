// What netlab web takes from outside, checked before anything acts on it: the address it
// listens on, whose requests it answers, and the body of a control request. Pure functions,
// unit-tested (tests/unit/web).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "capture/capture.hpp"
#include "nsmgr/link_control.hpp"

namespace netlab::web {

struct ListenAddress {
  std::string host;   // an IP address ("127.0.0.1", "::1", "0.0.0.0") or "localhost"
  uint16_t port = 0;  // 0: any free port
};

// "127.0.0.1:8080", "[::1]:8080", "localhost:8080", "0.0.0.0:8080". Throws Error (EINVAL).
ListenAddress parseListenAddress(std::string_view text);

bool isLoopback(std::string_view host);
bool isWildcard(std::string_view host);

// Whether a request's Host header names this server, listening on `address` at `port`. A page
// that a DNS name rebound to this machine names its own host, which is refused: on a loopback
// address the names accepted are the address, localhost, 127.0.0.1 and ::1; on a wildcard
// address any IP literal; else the address itself. The port must be the one listened on.
bool hostAccepted(const ListenAddress& address, uint16_t port, std::string_view host);

// Whether a browser's Origin header names the page this server itself served (http, the same
// host and port). A page from another site that posts to this server names its own origin.
bool sameOrigin(std::string_view origin, std::string_view host);

// The body of POST /api/labs/LAB/links/END/impairments: a JSON object of the `link set` options
// as text ("delay": "20ms", "loss": "1%", "rate": "10mbit", "limit": 1000), "direction"
// ("both", "out", "in") and "reset" (true: start from none). Throws Error (EINVAL) naming
// the field and the reason.
struct ImpairmentRequest {
  nsmgr::ImpairmentEdit edit;
  nsmgr::Direction direction = nsmgr::Direction::Both;
};
ImpairmentRequest parseImpairmentRequest(std::string_view body);

// The query of GET /api/labs/LAB/links/END/capture: `seconds` (1 to 3600; 10 when not given,
// so that a download always ends), `count` (packets, 1 to 10^9; stops earlier) and `filter` (a
// pcap filter expression, with `netlab capture`'s names for routing protocols, not yet
// compiled). Throws Error (EINVAL) naming the parameter.
constexpr int64_t kCaptureSecondsDefault = 10;
constexpr int64_t kCaptureSecondsMost = 3600;
capture::CaptureOptions parseCaptureQuery(const std::multimap<std::string, std::string>& query);

}  // namespace netlab::web
