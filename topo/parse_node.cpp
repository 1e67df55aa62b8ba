// `nodes.<name>`, `defaults` and `defaults.kinds.<kind>`: the settings of a node.
#include <fmt/format.h>

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>

#include "topo/names.hpp"
#include "topo/parse.hpp"
#include "topo/units.hpp"

namespace netlab::topo {
namespace {

constexpr std::array<std::pair<std::string_view, NodeKind>, 3> kKinds{
    {{"host", NodeKind::Host}, {"router", NodeKind::Router}, {"switch", NodeKind::Switch}}};

void parseHostname(ParseContext& context, const Cursor& at, NodeSettings& settings) {
  const auto* text = expectString(context, at);
  if (!text) return;
  if (auto problem = hostnameProblem(*text)) {
    context.sink.error(at.where(),
                       fmt::format("invalid hostname `{}`: {}", excerpt(*text), *problem));
    return;
  }
  settings.hostname = *text;
}

void parseLoopback(ParseContext& context, const Cursor& at, NodeSettings& settings) {
  LoopbackSpec loopback{LoopbackSpec::Mode::Explicit, {}, at.where()};
  if (at.value.type() == JsonType::Boolean) {
    loopback.mode = at.value.boolean() ? LoopbackSpec::Mode::Automatic : LoopbackSpec::Mode::None;
  } else {
    forEachString(context, at, [&](const Cursor& item, const std::string&) {
      if (auto address = parseInterfaceAddress(context, item)) {
        loopback.addresses.push_back(*address);
      }
    });
    if (loopback.addresses.empty()) loopback.mode = LoopbackSpec::Mode::None;
  }
  settings.loopback = std::move(loopback);
}

// A route while its keys are read; `to` is the one required key.
struct RouteDraft {
  RouteSpec route;
  bool hasDestination = false;
};

const FieldTable<RouteDraft>& routeFields() {
  static const FieldTable<RouteDraft> fields{
      {"to",
       [](ParseContext& context, const Cursor& at, RouteDraft& draft) {
         draft.hasDestination = true;
         if (at.value.type() == JsonType::String && at.value.string() == "default") return;
         if (auto network = parseNetwork(context, at)) {
           draft.route.destination = *network;
         } else {
           draft.hasDestination = false;
         }
       }},
      {"via", [](ParseContext& context, const Cursor& at,
                 RouteDraft& draft) { draft.route.gateway = parseGateway(context, at); }},
      {"dev", [](ParseContext& context, const Cursor& at,
                 RouteDraft& draft) { draft.route.device = parseInterfaceName(context, at); }},
      {"metric",
       [](ParseContext& context, const Cursor& at, RouteDraft& draft) {
         if (auto metric = expectInteger(context, at, "metric", 0, UINT32_MAX)) {
           draft.route.metric = static_cast<uint32_t>(*metric);
         }
       }},
  };
  return fields;
}

void parseRoute(ParseContext& context, const Cursor& at, NodeSettings& settings) {
  const size_t errorsBefore = context.sink.errorCount();
  RouteDraft draft;
  draft.route.where = at.where();
  parseFields(context, at, routeFields(), draft);
  if (context.sink.errorCount() != errorsBefore) return;
  const RouteSpec& route = draft.route;
  if (!draft.hasDestination) {
    context.sink.error(at.where(), "a route needs `to`",
                       R"(e.g. "to": "10.1.0.0/24" or "default")");
  } else if (!route.gateway && !route.device) {
    context.sink.error(at.where(), "a route needs `via`, `dev` or both");
  } else if (route.destination && route.gateway &&
             route.destination->address.family != route.gateway->family) {
    context.sink.error(at.where(),
                       fmt::format("`to` {} and `via` {} are of different address families",
                                   toString(*route.destination), toString(*route.gateway)));
  } else {
    settings.routes.push_back(route);
  }
}

std::optional<std::string> sysctlValue(ParseContext& context, const Cursor& at) {
  switch (at.value.type()) {
    case JsonType::String:
      if (rejectNul(context, at, at.value.string())) return std::nullopt;
      return at.value.string();
    case JsonType::Boolean:
      return at.value.boolean() ? "1" : "0";
    case JsonType::Number:
      if (at.value.number().integer) return std::to_string(*at.value.number().integer);
      break;
    default:
      break;
  }
  reportType(context, at, "a string, an integer or a boolean");
  return std::nullopt;
}

void parseSysctls(ParseContext& context, const Cursor& at, NodeSettings& settings) {
  const auto* members = expectObject(context, at);
  if (!members) return;
  for (const JsonMember& member : *members) {
    if (auto problem = sysctlNameProblem(member.key)) {
      context.sink.error(at.keyWhere(member), *problem);
      continue;
    }
    if (auto refusal = sysctlScopeProblem(member.key)) {
      context.sink.error(at.keyWhere(member), refusal->message, refusal->hint);
      continue;
    }
    const Cursor value = at.member(member);
    if (auto text = sysctlValue(context, value)) {
      settings.sysctls.emplace_back(member.key, *text);
    }
  }
}

void parseEnv(ParseContext& context, const Cursor& at, NodeSettings& settings) {
  const auto* members = expectObject(context, at);
  if (!members) return;
  for (const JsonMember& member : *members) {
    if (!isValidEnvName(member.key)) {
      context.sink.error(
          at.keyWhere(member),
          fmt::format("`{}` is not an environment variable name", excerpt(member.key)),
          "use letters, digits and `_`, not starting with a digit");
      continue;
    }
    const Cursor value = at.member(member);
    const auto* text = expectString(context, value);
    if (text && !rejectNul(context, value, *text)) {
      settings.env.emplace_back(member.key, *text);
    }
  }
}

void parseExec(ParseContext& context, const Cursor& at, NodeSettings& settings) {
  forEachString(context, at, [&](const Cursor& item, const std::string& command) {
    if (command.empty()) {
      context.sink.error(item.where(), "a command cannot be empty");
    } else if (!rejectNul(context, item, command)) {
      settings.exec.push_back(command);
    }
  });
}

std::optional<NodeKind> parseNodeKind(ParseContext& context, const Cursor& at) {
  const auto* text = expectString(context, at);
  if (!text) return std::nullopt;
  for (const auto& [name, kind] : kKinds) {
    if (*text == name) return kind;
  }
  std::string hint = didYouMean(*text, {"host", "router", "switch"});
  if (hint.empty()) hint = "use host, router or switch";
  context.sink.error(at.where(), fmt::format("unknown node kind `{}`", excerpt(*text)), hint);
  return std::nullopt;
}

void parseDaemon(ParseContext& context, const Cursor& at, NodeSettings& settings) {
  const auto* text = expectString(context, at);
  if (!text) return;
  if (*text == "frr") {
    settings.daemon = Located<RoutingDaemon>{RoutingDaemon::Frr, at.where()};
  } else if (*text == "bird") {
    settings.daemon = Located<RoutingDaemon>{RoutingDaemon::Bird, at.where()};
  } else {
    std::string hint = didYouMean(*text, {"frr", "bird"});
    if (hint.empty()) hint = "use frr (the default) or bird";
    context.sink.error(at.where(), fmt::format("unknown routing daemon `{}`", excerpt(*text)),
                       hint);
  }
}

// "asplain" (65001, as a number or a string) or "asdot" ("1.10", RFC 5396). 0 is reserved
// (RFC 7607) and 4294967295 too (RFC 7300); 23456 stands in for 4-byte numbers (RFC 6793).
std::optional<uint32_t> asnFromText(std::string_view text) {
  auto number = [](std::string_view digits) -> std::optional<uint64_t> {
    uint64_t value = 0;
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (digits.empty() || error != std::errc() || end != digits.data() + digits.size())
      return std::nullopt;
    return value;
  };
  const size_t dot = text.find('.');
  if (dot == std::string_view::npos) {
    auto value = number(text);
    if (!value || *value > UINT32_MAX) return std::nullopt;
    return static_cast<uint32_t>(*value);
  }
  auto high = number(text.substr(0, dot));
  auto low = number(text.substr(dot + 1));
  if (!high || !low || *high > UINT16_MAX || *low > UINT16_MAX) return std::nullopt;
  return static_cast<uint32_t>((*high << 16) | *low);
}

void parseAsn(ParseContext& context, const Cursor& at, NodeSettings& settings) {
  std::optional<uint32_t> asn;
  std::string written;
  if (at.value.type() == JsonType::Number) {
    const JsonNumber& number = at.value.number();
    written = fmt::format("{}", number.value);
    if (number.integer && *number.integer >= 0 && *number.integer <= UINT32_MAX)
      asn = static_cast<uint32_t>(*number.integer);
  } else if (const auto* text =
                 at.value.type() == JsonType::String ? &at.value.string() : nullptr) {
    written = *text;
    asn = asnFromText(*text);
  } else {
    reportType(context, at, "an AS number (65001, \"65001\" or \"1.10\")");
    return;
  }
  if (!asn) {
    context.sink.error(at.where(), fmt::format("unknown AS number format `{}`", excerpt(written)),
                       "write it as a number (65001) or in asdot form (\"1.10\")");
  } else if (*asn == 0 || *asn == 23456 || *asn == UINT32_MAX) {
    context.sink.error(at.where(), fmt::format("AS number {} is reserved", *asn),
                       "use a private one, 64512..65534 or 4200000000..4294967294");
  } else {
    settings.asn = Located<uint32_t>{*asn, at.where()};
  }
}

// The bounds of `resources`: below 0.01 CPUs the kernel's smallest quota (1 ms per 100 ms
// period) would be needed; pids as the kernel's pid_max allows at most.
constexpr double kMinCpus = 0.01;
constexpr double kMaxCpus = 1024;
constexpr int64_t kMaxPids = 4'194'304;

std::optional<double> parseCpus(ParseContext& context, const Cursor& at) {
  if (at.value.type() != JsonType::Number) {
    reportType(context, at, "a number of CPUs (0.5 is half of one)");
    return std::nullopt;
  }
  const double cpus = at.value.number().value;
  if (std::isfinite(cpus) && cpus >= kMinCpus && cpus <= kMaxCpus) return cpus;
  context.sink.error(at.where(), fmt::format("cpus {} is outside {}..{}", cpus, kMinCpus, kMaxCpus),
                     "a share of the machine's CPU time: 0.5 is half of one CPU, 2 two CPUs");
  return std::nullopt;
}

std::optional<uint64_t> parseMemorySize(ParseContext& context, const Cursor& at) {
  if (at.value.type() == JsonType::Number) {
    const auto& number = at.value.number();
    if (number.integer && *number.integer >= static_cast<int64_t>(kMinMemoryBytes)) {
      return static_cast<uint64_t>(*number.integer);
    }
    context.sink.error(
        at.where(),
        number.integer
            ? fmt::format("memory {} is less than {}", number.value, formatMemory(kMinMemoryBytes))
            : fmt::format("memory {} is not a whole number of bytes", number.value),
        "write bytes of at least 1M, or a size with its unit, e.g. \"256M\"");
    return std::nullopt;
  }
  const auto* text = at.value.type() == JsonType::String ? &at.value.string() : nullptr;
  if (!text) {
    reportType(context, at, "a memory size like \"256M\"");
    return std::nullopt;
  }
  auto parsed = parseMemory(*text);
  if (!parsed.value) context.sink.error(at.where(), parsed.error, parsed.hint);
  return parsed.value;
}

void parseRoot(ParseContext& context, const Cursor& at, NodeSettings& settings) {
  const auto* text = expectString(context, at);
  if (!text) return;
  if (*text == "overlay" || *text == "host") {
    settings.root =
        Located<RootMode>{*text == "host" ? RootMode::Host : RootMode::Overlay, at.where()};
    return;
  }
  std::string hint = didYouMean(*text, {"overlay", "host"});
  if (hint.empty()) {
    hint =
        "use overlay (a writable layer of the node's own over a read-only lower one) or host "
        "(the host's root itself)";
  }
  context.sink.error(at.where(), fmt::format("unknown root `{}`", excerpt(*text)), hint);
}

const FieldTable<Resources>& resourceFields() {
  static const FieldTable<Resources> fields{
      {"cpus", [](ParseContext& context, const Cursor& at,
                  Resources& resources) { resources.cpus = parseCpus(context, at); }},
      {"memory",
       [](ParseContext& context, const Cursor& at, Resources& resources) {
         resources.memoryBytes = parseMemorySize(context, at);
       }},
      {"pids",
       [](ParseContext& context, const Cursor& at, Resources& resources) {
         if (auto pids = expectInteger(context, at, "pids", 1, kMaxPids)) {
           resources.pids = static_cast<uint32_t>(*pids);
         }
       }},
  };
  return fields;
}

const FieldTable<NodeSettings>& settingsFields() {
  static const FieldTable<NodeSettings> fields{
      independent<NodeSettings>({"hostname", parseHostname}),
      {"routing",
       [](ParseContext& context, const Cursor& at, NodeSettings& settings) {
         if (auto routing = parseRouting(context, at)) settings.routing = routing;
       }},
      {"daemon", parseDaemon},
      {"asn", parseAsn},
      {"loopback", parseLoopback},
      {"routes",
       [](ParseContext& context, const Cursor& at, NodeSettings& settings) {
         forEachItem(context, at, [&](const Cursor& item) { parseRoute(context, item, settings); });
       }},
      independent<NodeSettings>({"sysctls", parseSysctls}),
      independent<NodeSettings>({"env", parseEnv}),
      independent<NodeSettings>({"exec", parseExec}),
      independent<NodeSettings>(
          {"userns",
           [](ParseContext& context, const Cursor& at, NodeSettings& settings) {
             if (auto mode = parseUserNamespaceMode(context, at)) settings.userns = mode;
           }}),
      independent<NodeSettings>({"mounts", parseMounts}),
      independent<NodeSettings>({"files", parseFiles}),
      independent<NodeSettings>({"root", parseRoot}),
      independent<NodeSettings>({"image", parseImage}),
      independent<NodeSettings>(
          {"resources",
           [](ParseContext& context, const Cursor& at, NodeSettings& settings) {
             parseFields(context, at, resourceFields(), settings.resources);
           }}),
  };
  return fields;
}

const FieldTable<NodeSpec>& nodeFields() {
  static const FieldTable<NodeSpec> fields = [] {
    FieldTable<NodeSpec> table{
        {"kind", [](ParseContext& context, const Cursor& at, NodeSpec& node) {
           node.kind = parseNodeKind(context, at);
         }}};
    for (auto& field : liftFields(settingsFields(), &NodeSpec::settings)) table.push_back(field);
    return table;
  }();
  return fields;
}

// defaults.kinds: one settings object per kind.
const FieldTable<TopologySpec>& kindFields() {
  static const FieldTable<TopologySpec> fields = [] {
    FieldTable<TopologySpec> table;
    for (const auto& [name, kind] : kKinds) {
      table.push_back(
          {name, [kind = kind](ParseContext& context, const Cursor& at, TopologySpec& topology) {
             auto& settings = topology.kindDefaults[kindIndex(kind)].emplace();
             parseFields(context, at, settingsFields(), settings);
           }});
    }
    return table;
  }();
  return fields;
}

}  // namespace

std::optional<Located<RoutingMode>> parseRouting(ParseContext& context, const Cursor& at) {
  const auto* text = expectString(context, at);
  if (!text) return std::nullopt;
  if (*text == "static") return Located<RoutingMode>{RoutingMode::Static, at.where()};
  if (*text == "none") return Located<RoutingMode>{RoutingMode::None, at.where()};
  if (*text == "ospf") return Located<RoutingMode>{RoutingMode::Ospf, at.where()};
  if (*text == "bgp") return Located<RoutingMode>{RoutingMode::Bgp, at.where()};
  std::string hint = didYouMean(*text, {"static", "none", "ospf", "bgp"});
  if (hint.empty()) {
    hint = "use static (shortest-path routes), none (only the routes written), ospf or bgp";
  }
  context.sink.error(at.where(), fmt::format("unknown routing `{}`", excerpt(*text)), hint);
  return std::nullopt;
}

std::optional<UserNamespaceMode> parseUserNamespaceMode(ParseContext& context, const Cursor& at) {
  const auto* text = expectString(context, at);
  if (!text) return std::nullopt;
  if (*text == "host") return UserNamespaceMode::Host;
  if (*text == "isolated") return UserNamespaceMode::Isolated;
  std::string hint = didYouMean(*text, {"host", "isolated"});
  if (hint.empty()) {
    hint = "use host (node root is host root) or isolated (node root is an unprivileged host user)";
  }
  context.sink.error(at.where(), fmt::format("unknown userns `{}`", excerpt(*text)), hint);
  return std::nullopt;
}

std::vector<NodeSpec> parseNodes(ParseContext& context, const Cursor& at) {
  std::vector<NodeSpec> nodes;
  const auto* members = expectObject(context, at);
  if (!members) return nodes;
  for (const JsonMember& member : *members) {
    NodeSpec node{member.key, at.keyWhere(member), std::nullopt, {}};
    if (!isValidNodeName(member.key)) {
      context.sink.error(node.where, fmt::format("invalid node name `{}`", excerpt(member.key)),
                         "a node name starts with a letter, followed by up to 31 letters, "
                         "digits, `_` or `-`");
    }
    parseFields(context, at.member(member), nodeFields(), node);
    nodes.push_back(std::move(node));
  }
  return nodes;
}

void parseDefaults(ParseContext& context, const Cursor& at, TopologySpec& topology) {
  static const FieldTable<TopologySpec> fields = [] {
    FieldTable<TopologySpec> table = liftFields(settingsFields(), &TopologySpec::defaults);
    table.push_back({"kinds", [](ParseContext& context, const Cursor& at, TopologySpec& topology) {
                       parseFields(context, at, kindFields(), topology);
                     }});
    return table;
  }();
  parseFields(context, at, fields, topology);
}

}  // namespace netlab::topo
