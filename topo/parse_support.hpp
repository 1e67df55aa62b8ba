// The walking kit shared by the topology parsers: a cursor (a JSON value and its location),
// type checks that report "expected X, found Y", and key tables that report unknown keys
// with a did-you-mean hint. Every check reports and returns "nothing"; none throws.
#pragma once

#include <algorithm>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "topo/diagnostics.hpp"
#include "topo/json_reader.hpp"
#include "topo/spec.hpp"

namespace netlab::topo {

struct Cursor {
  const JsonValue& value;
  std::string path;

  Where where() const { return {path, value.offset}; }
  Cursor member(const JsonMember& member) const {
    return {member.value, memberPath(path, member.key)};
  }
  Where keyWhere(const JsonMember& member) const {
    return {memberPath(path, member.key), member.keyOffset};
  }
};

struct ParseContext {
  DiagnosticSink& sink;
  std::filesystem::path baseDirectory;  // relative mount sources start here
};

void reportType(ParseContext& context, const Cursor& at, std::string_view expected);

const std::string* expectString(ParseContext& context, const Cursor& at);
std::optional<bool> expectBool(ParseContext& context, const Cursor& at);
// An integer literal in min..max; `what` names it in the range message ("MTU 70000 is ...").
std::optional<int64_t> expectInteger(ParseContext& context, const Cursor& at, std::string_view what,
                                     int64_t min, int64_t max);
const JsonValue::Array* expectArray(ParseContext& context, const Cursor& at);
const JsonValue::Object* expectObject(ParseContext& context, const Cursor& at);

// Calls fn(itemCursor) for each element of an array.
void forEachItem(ParseContext& context, const Cursor& at,
                 const std::function<void(const Cursor&)>& fn);
// Accepts a string or an array of strings; calls fn(cursor, text) for each string.
void forEachString(ParseContext& context, const Cursor& at,
                   const std::function<void(const Cursor&, const std::string&)>& fn);

// Rejects strings that cannot reach the kernel or a shell intact.
bool rejectNul(ParseContext& context, const Cursor& at, const std::string& text);

// "10.0.0.1/30" or "10.0.0.1" (then hasLength is false).
std::optional<AddressSpec> parseInterfaceAddress(ParseContext& context, const Cursor& at);
// A network: "10.0.0.0/30"; host bits are an error. Without "/len", a host route.
std::optional<IpPrefix> parseNetwork(ParseContext& context, const Cursor& at);
// An interface's address or a link's subnet must stay clear of the loopback range: the kernel
// treats 127.0.0.0/8 as martian on every device but lo (dropped when routed, never answered)
// and refuses ::1 on any device but lo. Reports and returns true when `prefix` is in it
// (isNetwork: the whole network, else its address).
bool rejectLoopbackRange(ParseContext& context, const Cursor& at, const IpPrefix& prefix,
                         bool isNetwork);
// A route's gateway: an address without a length.
std::optional<IpAddress> parseGateway(ParseContext& context, const Cursor& at);
// An interface name as the kernel accepts it, e.g. a route's `dev`.
std::optional<Located<std::string>> parseInterfaceName(ParseContext& context, const Cursor& at);

template <typename Target>
struct Field {
  std::string_view key;
  std::function<void(ParseContext&, const Cursor&, Target&)> parse;
};

template <typename Target>
using FieldTable = std::vector<Field<Target>>;

// A field no later stage reads (an MTU, a sysctl, a test...): its problems do not hold the
// stages after parsing back (see IndependentErrors).
template <typename Target>
Field<Target> independent(Field<Target> field) {
  return {field.key, [parse = std::move(field.parse)](ParseContext& context, const Cursor& at,
                                                      Target& target) {
            const IndependentErrors guard(context.sink);
            parse(context, at, target);
          }};
}

void reportUnknownKey(ParseContext& context, const Cursor& object, const JsonMember& member,
                      const std::vector<std::string_view>& knownKeys);

// Parses an object whose keys must all be in fields.
template <typename Target>
void parseFields(ParseContext& context, const Cursor& at, const FieldTable<Target>& fields,
                 Target& target) {
  const auto* members = expectObject(context, at);
  if (!members) return;
  for (const JsonMember& member : *members) {
    auto field = std::find_if(fields.begin(), fields.end(),
                              [&](const Field<Target>& f) { return f.key == member.key; });
    if (field != fields.end()) {
      field->parse(context, at.member(member), target);
      continue;
    }
    std::vector<std::string_view> keys;
    for (const auto& f : fields) keys.push_back(f.key);
    reportUnknownKey(context, at, member, keys);
  }
}

// The fields of a part of Target (Target::*part), as fields of Target.
template <typename Target, typename Part>
FieldTable<Target> liftFields(const FieldTable<Part>& fields, Part Target::*part) {
  FieldTable<Target> lifted;
  for (const auto& field : fields) {
    lifted.push_back({field.key, [parse = field.parse, part](ParseContext& context,
                                                             const Cursor& at, Target& target) {
                        parse(context, at, target.*part);
                      }});
  }
  return lifted;
}

}  // namespace netlab::topo
