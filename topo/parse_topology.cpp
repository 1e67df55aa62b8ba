// The top level of a topology document.
#include <fmt/format.h>

#include "topo/parse.hpp"

namespace netlab::topo {
namespace {

constexpr int64_t kFormatVersion = 1;

void parseVersion(ParseContext& context, const Cursor& at, TopologySpec& /*topology*/) {
  const auto& value = at.value;
  if (value.type() == JsonType::Number && value.number().integer == kFormatVersion) return;
  context.sink.error(
      at.where(),
      fmt::format("unsupported format version; this netlab reads version {}", kFormatVersion));
}

void parseName(ParseContext& context, const Cursor& at, TopologySpec& topology) {
  const auto* text = expectString(context, at);
  if (!text) return;
  if (!isValidLabName(*text)) {
    context.sink.error(at.where(), fmt::format("invalid lab name `{}`", excerpt(*text)),
                       "a lab name names a directory: a letter or digit, then up to 31 letters, "
                       "digits, `_` or `-`");
    return;
  }
  topology.name = *text;
}

void parseNodesField(ParseContext& context, const Cursor& at, TopologySpec& topology) {
  topology.nodes = parseNodes(context, at);
  if (at.value.type() == JsonType::Object && at.value.object().empty()) {
    context.sink.error(at.where(), "a lab needs at least one node");
  }
}

const FieldTable<TopologySpec>& topologyFields() {
  static const FieldTable<TopologySpec> fields{
      {"version", parseVersion},
      {"name", parseName},
      {"nodes", parseNodesField},
      {"defaults", parseDefaults},
      {"links", [](ParseContext& context, const Cursor& at,
                   TopologySpec& topology) { topology.links = parseLinks(context, at); }},
      {"addressing",
       [](ParseContext& context, const Cursor& at, TopologySpec& topology) {
         topology.addressing = parseAddressing(context, at);
       }},
      // Lets editors find docs/topology.schema.json; netlab ignores it.
      {"$schema",
       [](ParseContext& context, const Cursor& at, TopologySpec&) { expectString(context, at); }},
  };
  return fields;
}

}  // namespace

TopologySpec parseTopology(const JsonValue& root, ParseContext& context) {
  TopologySpec topology;
  const Cursor at{root, ""};
  parseFields(context, at, topologyFields(), topology);
  if (root.type() != JsonType::Object) return topology;
  const auto& members = root.object();
  const bool hasNodes = std::any_of(members.begin(), members.end(),
                                    [](const JsonMember& member) { return member.key == "nodes"; });
  if (!hasNodes) {
    context.sink.error(at.where(), "the topology has no `nodes`",
                       R"(e.g. "nodes": {"r1": {"kind": "router"}, "h1": {}})");
  }
  return topology;
}

}  // namespace netlab::topo
