#include "web/requests.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>

#include "base/error.hpp"
#include "base/ip.hpp"
#include "topo/units.hpp"

namespace netlab::web {
namespace {

struct HostPort {
  std::string_view name;  // without the brackets of an IPv6 literal
  std::string_view port;  // "" when absent
};

// "name:port", "[v6]:port", "name" or "[v6]"; nullopt when malformed.
std::optional<HostPort> splitHostPort(std::string_view text) {
  if (text.starts_with('[')) {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty() && !rest.starts_with(':')) return std::nullopt;
    return HostPort{text.substr(1, close - 1), rest.empty() ? rest : rest.substr(1)};
  }
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) return HostPort{text, {}};
  if (text.find(':', colon + 1) != std::string_view::npos) return std::nullopt;  // bare IPv6
  return HostPort{text.substr(0, colon), text.substr(colon + 1)};
}

std::optional<uint16_t> parsePort(std::string_view text) {
  uint16_t port = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return port;
}

// Takes an optional text field of the request into `field` through one of topo's unit parsers,
// the same ones `netlab link set` uses.
template <typename Field, typename Parse>
void takeField(const nlohmann::json& body, const char* key, Parse parse, Field& field) {
  auto value = body.find(key);
  if (value == body.end()) return;
  if (!value->is_string()) throw Error(std::string("\"") + key + "\": expected a string", EINVAL);
  auto parsed = parse(value->template get<std::string>());
  if (!parsed.value) {
    throw Error(std::string("\"") + key + "\": " + parsed.error +
                    (parsed.hint.empty() ? "" : " (" + parsed.hint + ")"),
                EINVAL);
  }
  field = *parsed.value;
}

nsmgr::Direction parseDirection(const nlohmann::json& body) {
  auto value = body.find("direction");
  if (value == body.end()) return nsmgr::Direction::Both;
  const std::string text = value->is_string() ? value->get<std::string>() : "";
  if (text == "both") return nsmgr::Direction::Both;
  if (text == "out") return nsmgr::Direction::Out;
  if (text == "in") return nsmgr::Direction::In;
  throw Error("\"direction\": expected \"both\", \"out\" or \"in\"", EINVAL);
}

}  // namespace

ListenAddress parseListenAddress(std::string_view text) {
  auto parts = splitHostPort(text);
  auto port = parts ? parsePort(parts->port) : std::nullopt;
  const bool knownHost =
      parts && (parts->name == "localhost" || parseAddress(parts->name).has_value());
  if (!port || !knownHost) {
    throw Error("`" + std::string(text) + "`" +
                    ": expected ADDRESS:PORT with an IP address or localhost (127.0.0.1:8080, "
                    "[::1]:8080; port 0 picks a free one)",
                EINVAL);
  }
  return {std::string(parts->name), *port};
}

bool isLoopback(std::string_view host) {
  if (host == "localhost" || host == "::1") return true;
  auto address = parseAddress(host);
  return address && host.starts_with("127.");
}

bool isWildcard(std::string_view host) {
  return host == "0.0.0.0" || host == "::";
}

bool hostAccepted(const ListenAddress& address, uint16_t port, std::string_view host) {
  auto parts = splitHostPort(host);
  if (!parts) return false;
  // A browser leaves out the port only when it is the scheme's default.
  if (parsePort(parts->port.empty() ? "80" : parts->port) != port) return false;
  if (isWildcard(address.host)) return parts->name == "localhost" || parseAddress(parts->name);
  if (isLoopback(address.host)) {
    return parts->name == address.host || parts->name == "localhost" ||
           parts->name == "127.0.0.1" || parts->name == "::1";
  }
  return parts->name == address.host;
}

bool sameOrigin(std::string_view origin, std::string_view host) {
  constexpr std::string_view kScheme = "http://";
  if (!origin.starts_with(kScheme)) return false;
  std::string_view rest = origin.substr(kScheme.size());
  if (rest.ends_with('/')) rest.remove_suffix(1);
  return !host.empty() && rest == host;
}

ImpairmentRequest parseImpairmentRequest(std::string_view text) {
  const nlohmann::json body = nlohmann::json::parse(text, nullptr, false);
  if (!body.is_object()) throw Error("the body is not a JSON object", EINVAL);
  static const char* const kKeys[] = {
      "delay", "jitter", "jitter_correlation", "loss", "corrupt", "duplicate", "reorder",
      "rate",  "limit",  "direction",          "reset"};
  for (const auto& [key, value] : body.items()) {
    if (std::find(std::begin(kKeys), std::end(kKeys), key) == std::end(kKeys)) {
      throw Error("\"" + key + "\": not an impairment field", EINVAL);
    }
  }
  ImpairmentRequest request;
  topo::Impairment& fields = request.edit.fields;
  takeField(body, "delay", topo::parseDuration, fields.delayUs);
  takeField(body, "jitter", topo::parseDuration, fields.jitterUs);
  takeField(body, "jitter_correlation", topo::parsePercent, fields.jitterCorrelationPercent);
  takeField(body, "loss", topo::parsePercent, fields.lossPercent);
  takeField(body, "corrupt", topo::parsePercent, fields.corruptPercent);
  takeField(body, "duplicate", topo::parsePercent, fields.duplicatePercent);
  takeField(body, "reorder", topo::parsePercent, fields.reorderPercent);
  takeField(body, "rate", topo::parseRate, fields.rateBitsPerSecond);
  if (auto limit = body.find("limit"); limit != body.end()) {
    if (!limit->is_number_unsigned() || limit->get<uint64_t>() < 1 ||
        limit->get<uint64_t>() > 1'000'000'000) {
      throw Error("\"limit\": expected a number of packets from 1 to 1000000000", EINVAL);
    }
    fields.limitPackets = limit->get<uint32_t>();
  }
  if (auto reset = body.find("reset"); reset != body.end()) {
    if (!reset->is_boolean()) throw Error("\"reset\": expected true or false", EINVAL);
    request.edit.clearFirst = reset->get<bool>();
  }
  if (!request.edit.clearFirst && fields.empty()) {
    throw Error("nothing to set: give at least one impairment field, or \"reset\": true", EINVAL);
  }
  request.direction = parseDirection(body);
  return request;
}

capture::CaptureOptions parseCaptureQuery(const std::multimap<std::string, std::string>& query) {
  auto number = [&query](const std::string& name, int64_t least, int64_t most) {
    std::optional<int64_t> value;
    if (auto found = query.find(name); found != query.end()) {
      const std::string& text = found->second;
      int64_t parsed = 0;
      const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), parsed);
      if (error != std::errc() || end != text.data() + text.size() || parsed < least ||
          parsed > most) {
        throw Error(name + "=" + text + ": expected a whole number from " + std::to_string(least) +
                        " to " + std::to_string(most),
                    EINVAL);
      }
      value = parsed;
    }
    return value;
  };
  for (const auto& [name, value] : query) {
    if (name != "seconds" && name != "count" && name != "filter") {
      throw Error(name + ": not a capture parameter (seconds, count, filter)", EINVAL);
    }
    if (query.count(name) > 1) throw Error(name + ": given more than once", EINVAL);
  }
  capture::CaptureOptions options;
  options.duration = std::chrono::seconds(
      number("seconds", 1, kCaptureSecondsMost).value_or(kCaptureSecondsDefault));
  if (auto count = number("count", 1, 1'000'000'000)) options.count = *count;
  if (auto filter = query.find("filter"); filter != query.end()) options.filter = filter->second;
  return options;
}

}  // namespace netlab::web
