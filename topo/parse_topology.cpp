// The top level of a topology document.
#include <fmt/format.h>

#include "topo/names.hpp"
#include "topo/parse.hpp"

namespace netlab::topo {
namespace {

constexpr int64_t kFormatVersion = 1;

// 1.0 and 1e0 are the same JSON number as 1 (and the JSON Schema's `"const": 1` takes them).
void parseVersion(ParseContext& context, const Cursor& at, TopologySpec& /*topology*/) {
  const auto& value = at.value;
  if (value.type() == JsonType::Number &&
      value.number().value == static_cast<double>(kFormatVersion)) {
    return;
  }
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

// false, true (the topology file's directory) or a directory, relative to that one.
void parseNodeFolders(ParseContext& context, const Cursor& at, TopologySpec& topology) {
  if (at.value.type() == JsonType::Boolean) {
    topology.nodeFolders.enabled = at.value.boolean();
    return;
  }
  const auto* text = expectString(context, at);
  if (!text || rejectNul(context, at, *text)) return;
  std::filesystem::path root(*text);
  if (root.is_relative()) root = context.baseDirectory / root;
  root = root.lexically_normal();
  std::error_code error;
  if (text->empty() || !std::filesystem::is_directory(root, error)) {
    context.sink.error(at.where(), fmt::format("`{}` is not a directory", excerpt(*text)),
                       fmt::format("looked for `{}`", excerpt(root.string(), 200)));
    return;
  }
  topology.nodeFolders.root = root;
}

const FieldTable<TopologySpec>& topologyFields() {
  static const FieldTable<TopologySpec> fields{
      independent<TopologySpec>({"version", parseVersion}),
      independent<TopologySpec>({"name", parseName}),
      {"nodes", parseNodesField},
      {"defaults", parseDefaults},
      {"links", [](ParseContext& context, const Cursor& at,
                   TopologySpec& topology) { topology.links = parseLinks(context, at); }},
      {"addressing",
       [](ParseContext& context, const Cursor& at, TopologySpec& topology) {
         topology.addressing = parseAddressing(context, at);
       }},
      {"routing", [](ParseContext& context, const Cursor& at,
                     TopologySpec& topology) { topology.routing = parseRouting(context, at); }},
      independent<TopologySpec>(
          {"userns",
           [](ParseContext& context, const Cursor& at, TopologySpec& topology) {
             topology.userns = parseUserNamespaceMode(context, at);
           }}),
      {"node_folders", parseNodeFolders},
      // A test that is wrong is left out; the others are still checked against the lab.
      independent<TopologySpec>(
          {"tests", [](ParseContext& context, const Cursor& at,
                       TopologySpec& topology) { topology.checks = parseChecks(context, at); }}),
      // Lets editors find docs/topology.schema.json; netlab ignores it.
      independent<TopologySpec>({"$schema", [](ParseContext& context, const Cursor& at,
                                               TopologySpec&) { expectString(context, at); }}),
  };
  return fields;
}

}  // namespace

TopologySpec parseTopology(const JsonValue& root, ParseContext& context) {
  TopologySpec topology;
  topology.nodeFolders.root = context.baseDirectory;
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
