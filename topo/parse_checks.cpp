// `tests`: the lab checks. Which kind a test is follows from the one key it has of `reach`,
// `route` and `command`; the other keys belong to one kind each, or to every kind.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <span>

#include "topo/checks.hpp"
#include "topo/parse.hpp"
#include "topo/units.hpp"

namespace netlab::topo {
namespace {

constexpr uint32_t kMaxPingCount = 100;
constexpr int kMaxExitStatus = 255;

// A test while its keys are read; the kind is decided once all of them are known.
struct CheckDraft {
  CheckSpec check;
  std::optional<Located<std::string>> node;
  ReachSpec reach;
  RouteCheckSpec route;
  CommandCheck command;
  PathSpec path;
  // `family` and `to` as written, for the kind that takes them (reach: `reach` is its `to`).
  std::optional<Family> family;
  std::optional<Located<std::string>> targetNode;
  std::optional<IpAddress> targetAddress;
};

enum class CheckKind : uint8_t { Reach, Route, Command, Path };

// Keys that only one kind takes, and the key that makes a test of that kind.
struct KindKeys {
  CheckKind kind;
  std::string_view selector;
  std::span<const std::string_view> options;
  std::string_view noun;  // "a reach test"
};

constexpr std::string_view kReachKeys[] = {"family", "count", "addresses"};
constexpr std::string_view kRouteKeys[] = {"via", "dev"};
constexpr std::string_view kCommandKeys[] = {"match", "status"};
constexpr std::string_view kPathKeys[] = {"to", "family"};
constexpr std::array<KindKeys, 4> kKindKeys{{
    {CheckKind::Reach, "reach", kReachKeys, "a reach test"},
    {CheckKind::Route, "route", kRouteKeys, "a route test"},
    {CheckKind::Command, "command", kCommandKeys, "a command test"},
    {CheckKind::Path, "path", kPathKeys, "a path test"},
}};

void parseTimeoutField(ParseContext& context, const Cursor& at, CheckDraft& draft) {
  if (at.value.type() == JsonType::Number) {
    if (auto seconds = expectInteger(context, at, "timeout", 0, kMaxTimeoutMs / 1000)) {
      draft.check.timeoutMs = static_cast<uint32_t>(*seconds * 1000);
    }
    return;
  }
  const auto* text = expectString(context, at);
  if (!text) return;
  auto parsed = parseTimeout(*text);
  if (parsed.value) {
    draft.check.timeoutMs = *parsed.value;
  } else {
    context.sink.error(at.where(), parsed.error, parsed.hint);
  }
}

// A reach test's `reach`, a path test's `to`. Node names never contain `.` or `:`, addresses
// always do.
void parseTarget(ParseContext& context, const Cursor& at, CheckDraft& draft) {
  const auto* text = expectString(context, at);
  if (!text) return;
  if (text->find_first_of(".:") == std::string::npos) {
    draft.targetNode = Located<std::string>{*text, at.where()};
    return;
  }
  draft.targetAddress = parseAddress(*text);
  if (!draft.targetAddress) {
    context.sink.error(at.where(), fmt::format("`{}` is not an IP address", excerpt(*text)),
                       "name a node, or an address without a length");
  }
}

void parsePathNodes(ParseContext& context, const Cursor& at, CheckDraft& draft) {
  draft.path.where = at.where();
  forEachString(context, at, [&](const Cursor& item, const std::string& name) {
    draft.path.nodes.push_back({name, item.where()});
  });
  if (draft.path.nodes.size() > kMaxPathNodes) {
    context.sink.error(at.where(), fmt::format("a path of {} nodes; at most {}",
                                               draft.path.nodes.size(), kMaxPathNodes));
  }
}

void parseFamily(ParseContext& context, const Cursor& at, CheckDraft& draft) {
  const auto* text = expectString(context, at);
  if (!text) return;
  if (*text == "ipv4" || *text == "ipv6") {
    draft.family = *text == "ipv4" ? Family::V4 : Family::V6;
  } else {
    context.sink.error(at.where(), fmt::format("unknown address family `{}`", excerpt(*text)),
                       "use ipv4 or ipv6");
  }
}

// Which of the target node's addresses: "all" (the default), or "loopback", the frequent case
// in BGP labs, where loopbacks are what the routers announce.
void parseReachAddresses(ParseContext& context, const Cursor& at, CheckDraft& draft) {
  const auto* text = expectString(context, at);
  if (!text) return;
  if (*text == "loopback") {
    draft.reach.loopbacksOnly = at.where();
  } else if (*text != "all") {
    context.sink.error(at.where(), fmt::format("unknown addresses `{}`", excerpt(*text)),
                       "use loopback (the node's loopback addresses) or all (the default)");
  }
}

void parseCommandText(ParseContext& context, const Cursor& at, CheckDraft& draft) {
  const auto* text = expectString(context, at);
  if (!text) return;
  if (text->empty()) {
    context.sink.error(at.where(), "a command cannot be empty");
  } else if (!rejectNul(context, at, *text)) {
    draft.command.command = *text;
  }
}

void parsePattern(ParseContext& context, const Cursor& at, CheckDraft& draft) {
  const auto* text = expectString(context, at);
  if (!text) return;
  if (auto problem = patternProblem(*text)) {
    context.sink.error(
        at.where(), fmt::format("`{}` is not a regular expression: {}", excerpt(*text), *problem),
        "patterns are ECMAScript regular expressions, as in JavaScript");
    return;
  }
  draft.command.pattern = *text;
}

const FieldTable<CheckDraft>& checkFields() {
  static const FieldTable<CheckDraft> fields{
      {"name",
       [](ParseContext& context, const Cursor& at, CheckDraft& draft) {
         const auto* text = expectString(context, at);
         if (text && !rejectNul(context, at, *text)) draft.check.name = *text;
       }},
      {"node",
       [](ParseContext& context, const Cursor& at, CheckDraft& draft) {
         if (const auto* text = expectString(context, at)) {
           draft.node = Located<std::string>{*text, at.where()};
         }
       }},
      {"timeout", parseTimeoutField},
      {"reach", parseTarget},
      {"to", parseTarget},
      {"path", parsePathNodes},
      {"family", parseFamily},
      {"addresses", parseReachAddresses},
      {"count",
       [](ParseContext& context, const Cursor& at, CheckDraft& draft) {
         if (auto count = expectInteger(context, at, "count", 1, kMaxPingCount)) {
           draft.reach.count = static_cast<uint32_t>(*count);
         }
       }},
      {"route",
       [](ParseContext& context, const Cursor& at, CheckDraft& draft) {
         if (at.value.type() == JsonType::String && at.value.string() == "default") return;
         draft.route.destination = parseNetwork(context, at);
       }},
      {"via", [](ParseContext& context, const Cursor& at,
                 CheckDraft& draft) { draft.route.gateway = parseGateway(context, at); }},
      {"dev", [](ParseContext& context, const Cursor& at,
                 CheckDraft& draft) { draft.route.device = parseInterfaceName(context, at); }},
      {"command", parseCommandText},
      {"match", parsePattern},
      {"status",
       [](ParseContext& context, const Cursor& at, CheckDraft& draft) {
         if (auto status = expectInteger(context, at, "exit status", 0, kMaxExitStatus)) {
           draft.command.exitStatus = static_cast<int>(*status);
         }
       }},
  };
  return fields;
}

// The kind chosen by the test's selector key; every key of another kind is an error.
std::optional<CheckKind> checkKind(ParseContext& context, const Cursor& at) {
  std::vector<const KindKeys*> selected;
  for (const JsonMember& member : at.value.object()) {
    for (const KindKeys& kind : kKindKeys) {
      if (member.key == kind.selector) selected.push_back(&kind);
    }
  }
  if (selected.size() != 1) {
    context.sink.error(at.where(),
                       selected.empty()
                           ? "a test needs `reach`, `route`, `command` or `path`"
                           : "a test has only one of `reach`, `route`, `command` and `path`",
                       R"(e.g. {"node": "h1", "reach": "h2"}; write one test per check)");
    return std::nullopt;
  }
  bool consistent = true;
  const auto& own = selected.front()->options;
  for (const JsonMember& member : at.value.object()) {
    // A key that several kinds take (`family`) belongs to this one too.
    if (std::find(own.begin(), own.end(), member.key) != own.end()) continue;
    for (const KindKeys& kind : kKindKeys) {
      const auto& options = kind.options;
      if (std::find(options.begin(), options.end(), member.key) == options.end()) continue;
      context.sink.error(at.keyWhere(member),
                         fmt::format("`{}` belongs to {}, not to {}", member.key, kind.noun,
                                     selected.front()->noun));
      consistent = false;
    }
  }
  if (!consistent) return std::nullopt;
  return selected.front()->kind;
}

std::optional<RouteCheckSpec> finishRoute(ParseContext& context, const Cursor& at,
                                          const RouteCheckSpec& route) {
  if (route.destination && route.gateway &&
      route.destination->address.family != route.gateway->family) {
    context.sink.error(at.where(),
                       fmt::format("`route` {} and `via` {} are of different address families",
                                   toString(*route.destination), toString(*route.gateway)));
    return std::nullopt;
  }
  return route;
}

void parseCheck(ParseContext& context, const Cursor& at, std::vector<CheckSpec>& checks) {
  const size_t errorsBefore = context.sink.errorCount();
  CheckDraft draft;
  draft.check.where = at.where();
  parseFields(context, at, checkFields(), draft);
  if (context.sink.errorCount() != errorsBefore) return;
  auto kind = checkKind(context, at);
  if (!draft.node) {
    context.sink.error(at.where(), "a test needs `node`: the node it runs in",
                       R"(e.g. {"node": "h1", "reach": "h2"})");
  }
  if (!kind || !draft.node) return;
  draft.check.node = *draft.node;
  switch (*kind) {
    case CheckKind::Reach:
      draft.reach.targetNode = draft.targetNode;
      draft.reach.targetAddress = draft.targetAddress;
      draft.reach.family = draft.family;
      draft.check.condition = draft.reach;
      break;
    case CheckKind::Path:
      if (!draft.targetNode && !draft.targetAddress) {
        context.sink.error(at.where(), "a path test needs `to`: the node or address it traces",
                           R"(e.g. {"node": "h1", "path": ["r1", "r2", "h2"], "to": "h2"})");
        return;
      }
      if (draft.path.nodes.empty()) {
        context.sink.error(draft.path.where, "a path names at least the destination");
        return;
      }
      draft.path.targetNode = draft.targetNode;
      draft.path.targetAddress = draft.targetAddress;
      draft.path.family = draft.family;
      draft.check.condition = draft.path;
      break;
    case CheckKind::Route:
      if (auto route = finishRoute(context, at, draft.route)) {
        draft.check.condition = *route;
        break;
      }
      return;
    case CheckKind::Command:
      draft.check.condition = draft.command;
      break;
  }
  checks.push_back(std::move(draft.check));
}

}  // namespace

std::vector<CheckSpec> parseChecks(ParseContext& context, const Cursor& at) {
  std::vector<CheckSpec> checks;
  forEachItem(context, at, [&](const Cursor& item) { parseCheck(context, item, checks); });
  return checks;
}

}  // namespace netlab::topo
