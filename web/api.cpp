#include "web/api.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <memory>

#include "base/error.hpp"
#include "base/version.hpp"
#include "capture/capture.hpp"
#include "capture/pcapng_writer.hpp"
#include "nsmgr/lab.hpp"
#include "nsmgr/link_control.hpp"
#include "report/report_json.hpp"
#include "topo/impairment_json.hpp"
#include "topo/units.hpp"
#include "web_assets.hpp"

namespace netlab::web {
namespace {

using httplib::Request;
using httplib::Response;
using nlohmann::ordered_json;

constexpr const char* kJson = "application/json";
// How long a stream waits for an event before it sends a comment: the write finds a client
// that has gone, and keeps proxies from closing an idle connection.
constexpr std::chrono::milliseconds kStreamHeartbeat{5000};

std::string oneLine(const ordered_json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void sendError(Response& response, int status, const std::string& message) {
  response.status = status;
  response.set_content(oneLine({{"error", message}}) + "\n", kJson);
}

// The status that says why an operation failed, from the errno its Error carries.
int statusFor(const Error& error) {
  switch (error.errnoValue()) {
    case ENOENT:
    case ESRCH:
      return 404;
    case EINVAL:
      return 400;
    default:
      return 500;
  }
}

// A handler whose failures become JSON errors: nothing it throws reaches the HTTP library.
template <typename Fn>
httplib::Server::Handler guarded(Fn fn) {
  return [fn](const Request& request, Response& response) {
    try {
      fn(request, response);
    } catch (const Error& error) {
      sendError(response, statusFor(error), error.what());
    } catch (const std::exception& error) {
      sendError(response, 500, std::string("internal error: ") + error.what());
    }
  };
}

bool labIsRunning(const std::string& lab) {
  const std::vector<std::string> labs = nsmgr::listLabs();
  return std::find(labs.begin(), labs.end(), lab) != labs.end();
}

// GET /api/labs: what `netlab ls --format json` prints.
void listLabs(const Request&, Response& response) {
  std::vector<nsmgr::LabStatus> labs;
  for (const auto& lab : nsmgr::listLabs()) {
    try {
      labs.push_back(nsmgr::labStatus(lab));
    } catch (const Error& error) {
      // A lab whose bring-up crashed has no state yet, as `netlab ls` shows it.
      labs.push_back({lab, "(no state: " + std::string(error.what()) + ")", 0, {}});
    }
  }
  response.set_content(report::labListToJson(labs), kJson);
}

// One stream of a lab's events (text/event-stream) for as long as the client reads it, the
// lab runs and the server does.
class EventStream {
 public:
  EventStream(LiveFeed& feed, const std::string& lab) : watch_(feed, lab) {}

  bool pump(httplib::DataSink& sink) {
    auto event = watch_.next(sequence_, kStreamHeartbeat);
    if (!event) return !watch_.stopped() && sink.write(": waiting\n\n", 12);
    sequence_ = event->sequence;
    const std::string text = "event: " + event->name + "\nid: " + std::to_string(event->sequence) +
                             "\ndata: " + event->data + "\n\n";
    if (!sink.write(text.data(), text.size())) return false;
    if (event->name == "gone") sink.done();
    return true;
  }

 private:
  LiveFeed::Watch watch_;
  uint64_t sequence_ = 0;
};

void streamEvents(LiveFeed& feed, const Request& request, Response& response) {
  const std::string lab = request.matches[1];
  if (!labIsRunning(lab)) throw Error("lab `" + lab + "` is not running", ENOENT);
  auto stream = std::make_shared<EventStream>(feed, lab);
  response.set_header("Cache-Control", "no-store");
  response.set_chunked_content_provider(
      "text/event-stream",
      [stream](size_t, httplib::DataSink& sink) { return stream->pump(sink); });
}

ordered_json endsJson(const std::vector<nsmgr::LinkEndReport>& ends) {
  ordered_json list = ordered_json::array();
  for (const auto& end : ends) {
    list.push_back({{"node", end.node},
                    {"interface", end.interface},
                    {"egress", topo::impairmentToJson(end.egress)},
                    {"egress_text", topo::describeImpairment(end.egress)}});
  }
  return list;
}

// What every request of --control's passes: --control given (`what` says what it would allow),
// and the request from no browser page or from this server's own (a form or script on another
// site names its origin).
bool controlGranted(const ApiSettings& settings, const Request& request, Response& response,
                    const std::string& what) {
  if (!settings.control) {
    sendError(response, 403, "read-only: start `netlab web --control` to " + what);
    return false;
  }
  if (request.has_header("Origin") &&
      !sameOrigin(request.get_header_value("Origin"), request.get_header_value("Host"))) {
    sendError(response, 403,
              "cross-origin request refused: Origin " + request.get_header_value("Origin"));
    return false;
  }
  return true;
}

// The checks a request that changes a lab passes, so that only a client of the user's own
// choosing (a script, or this server's page) can drive it: controlGranted, and a JSON body
// (which a page elsewhere cannot send without a CORS preflight, never granted).
bool controlAllowed(const ApiSettings& settings, const Request& request, Response& response) {
  if (!controlGranted(settings, request, response, "change labs")) return false;
  if (request.get_header_value("Content-Type").rfind(kJson, 0) != 0) {
    sendError(response, 415, "a control request's body is JSON (Content-Type: application/json)");
    return false;
  }
  return true;
}

void setLinkState(LiveFeed& feed, const ApiSettings& settings, const Request& request,
                  Response& response) {
  if (!controlAllowed(settings, request, response)) return;
  const std::string lab = request.matches[1], end = request.matches[2];
  const bool up = request.matches[3] == "up";
  withContext(std::string(up ? "restoring" : "failing") + " the link of " + end,
              [&] { nsmgr::setLinkState(lab, end, up); });
  feed.readNow();
  response.set_content(oneLine({{"lab", lab}, {"end", end}, {"state", up ? "up" : "down"}}) + "\n",
                       kJson);
}

void editImpairments(LiveFeed& feed, const ApiSettings& settings, const Request& request,
                     Response& response) {
  if (!controlAllowed(settings, request, response)) return;
  const std::string lab = request.matches[1], end = request.matches[2];
  const ImpairmentRequest edit = parseImpairmentRequest(request.body);
  auto changed = withContext("changing the impairments of " + end, [&] {
    return nsmgr::editImpairments(lab, end, edit.edit, edit.direction);
  });
  feed.readNow();
  response.set_content(oneLine({{"lab", lab}, {"changed", endsJson(changed)}}) + "\n", kJson);
}

// The capture's pcapng, streamed as it is taken (flushed about once a second), until its time
// or count is reached, the client goes away or the server stops. Errors after the first byte
// can only cut the download short, which is how the client learns of them.
bool streamCapture(capture::LiveCapture& live, const std::string& lab, uint32_t snapLength,
                   int stopFd, httplib::DataSink& sink) {
  try {
    capture::PcapngWriter writer([&sink](std::string_view bytes) {
      if (!sink.write(bytes.data(), bytes.size())) {
        throw Error("the client stopped reading the capture", EPIPE);
      }
    });
    for (const auto& interface : live.interfaces()) {
      writer.addInterface(interface.end, "lab " + lab + ", " + interface.end, interface.linkType,
                          snapLength);
    }
    writer.flush();
    live.run(
        [&writer](const capture::CapturedPacket& packet) {
          writer.addPacket(static_cast<uint32_t>(packet.interface), packet.timestampNs, packet.data,
                           packet.originalLength);
        },
        stopFd,
        [&writer, &sink] {
          writer.flush();
          if (!sink.is_writable()) throw Error("the client went away", EPIPE);
        });
    writer.flush();
    sink.done();
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

// GET /api/labs/LAB/links/END/capture?seconds=S&count=N&filter=F: pcapng, as `netlab capture
// END -w FILE` writes it. Everything that can be refused is refused before the first byte, as
// a JSON error: a bad query or filter, an end the lab does not have, a lab not running. It
// needs --control (it shows the traffic itself, not only its counts) but no JSON body: it is a
// GET, so that a plain link downloads it; it changes nothing, and another site's page cannot
// read what it answers.
void downloadCapture(const ApiSettings& settings, const Request& request, Response& response) {
  if (!controlGranted(settings, request, response, "download captures")) return;
  const std::string lab = request.matches[1], end = request.matches[2];
  const capture::CaptureOptions options = parseCaptureQuery(request.params);
  if (!options.filter.empty()) capture::checkFilter(options.filter, options.snapLength);
  const nsmgr::LabState state = nsmgr::readLabState(lab);
  auto live = std::make_shared<capture::LiveCapture>(
      state, capture::matchingEnds(state, {end}, false), options);
  std::string file = lab + "-" + end + ".pcapng";
  std::replace(file.begin(), file.end(), ':', '-');
  response.set_header("Content-Disposition", "attachment; filename=\"" + file + "\"");
  response.set_header("Cache-Control", "no-store");
  response.set_chunked_content_provider(
      "application/x-pcapng", [live, lab, snapLength = options.snapLength,
                               stopFd = settings.stopFd](size_t, httplib::DataSink& sink) {
        return streamCapture(*live, lab, snapLength, stopFd, sink);
      });
}

void addPage(httplib::Server& server) {
  for (const Asset& asset : kAssets) {
    auto serve = [&asset](const Request&, Response& response) {
      response.set_content(asset.body.data(), asset.body.size(), asset.contentType.data());
    };
    server.Get(std::string(asset.path), serve);
    if (asset.path == "/index.html") server.Get("/", serve);
  }
}

// Every request names this server in Host, or it is refused: a page of another site whose
// name was rebound to this address would otherwise read the labs as if it were ours.
httplib::Server::HandlerResponse checkHost(const ApiSettings& settings, const Request& request,
                                           Response& response) {
  if (hostAccepted(settings.listen, settings.port, request.get_header_value("Host"))) {
    return httplib::Server::HandlerResponse::Unhandled;
  }
  sendError(response, 403, "Host `" + request.get_header_value("Host") + "` is not this server");
  return httplib::Server::HandlerResponse::Handled;
}

}  // namespace

void addRoutes(httplib::Server& server, LiveFeed& feed, const ApiSettings& settings) {
  server.set_pre_routing_handler([settings](const Request& request, Response& response) {
    return checkHost(settings, request, response);
  });
  server.set_default_headers({{"X-Content-Type-Options", "nosniff"},
                              {"X-Frame-Options", "DENY"},
                              {"Content-Security-Policy", "default-src 'self'"},
                              {"Referrer-Policy", "no-referrer"}});
  addPage(server);
  const std::string lab = R"(/api/labs/([^/]+))";
  server.Get("/api/server", guarded([settings](const Request&, Response& response) {
               response.set_content(
                   oneLine({{"version", NETLAB_VERSION}, {"control", settings.control}}) + "\n",
                   kJson);
             }));
  server.Get("/api/labs", guarded(listLabs));
  server.Get(lab, guarded([](const Request& request, Response& response) {
               response.set_content(report::labStatusToJson(nsmgr::labStatus(request.matches[1])),
                                    kJson);
             }));
  server.Get(lab + "/links", guarded([](const Request& request, Response& response) {
               const std::string name = request.matches[1];
               response.set_content(report::linkReportsToJson(name, nsmgr::linkReports(name)),
                                    kJson);
             }));
  server.Get(lab + R"(/nodes/([^/]+)/routes)",
             guarded([](const Request& request, Response& response) {
               const std::string name = request.matches[1], node = request.matches[2];
               response.set_content(report::routesToJson(name, node, nsmgr::nodeRoutes(name, node)),
                                    kJson);
             }));
  server.Get(lab + "/events", guarded([&feed](const Request& request, Response& response) {
               streamEvents(feed, request, response);
             }));
  server.Post(lab + R"(/links/([^/]+)/(down|up))",
              guarded([&feed, settings](const Request& request, Response& response) {
                setLinkState(feed, settings, request, response);
              }));
  server.Post(lab + R"(/links/([^/]+)/impairments)",
              guarded([&feed, settings](const Request& request, Response& response) {
                editImpairments(feed, settings, request, response);
              }));
  server.Get(lab + R"(/links/([^/]+)/capture)",
             guarded([settings](const Request& request, Response& response) {
               downloadCapture(settings, request, response);
             }));
  // Unknown paths and methods: JSON, like every other answer of the API.
  server.set_error_handler([](const Request& request, Response& response) {
    if (!response.body.empty()) return;
    sendError(response, response.status,
              response.status == 404 ? "no such resource: " + request.method + " " + request.path
                                     : "HTTP " + std::to_string(response.status));
  });
}

}  // namespace netlab::web
