// From the JSON tree to the TopologySpec: one parser per part of the format.
#pragma once

#include "topo/parse_support.hpp"
#include "topo/spec.hpp"

namespace netlab::topo {

// The whole document; problems go to context.sink.
TopologySpec parseTopology(const JsonValue& root, ParseContext& context);

// `nodes` and `defaults` (parse_node.cpp).
std::vector<NodeSpec> parseNodes(ParseContext& context, const Cursor& at);
void parseDefaults(ParseContext& context, const Cursor& at, TopologySpec& topology);

// `routing`, of the lab or of a node's settings (parse_node.cpp).
std::optional<Located<RoutingMode>> parseRouting(ParseContext& context, const Cursor& at);

// `userns`, of the lab or of a node's settings (parse_node.cpp).
std::optional<UserNamespaceMode> parseUserNamespaceMode(ParseContext& context, const Cursor& at);

// `mounts` and `files` of a node's settings (parse_files.cpp).
void parseMounts(ParseContext& context, const Cursor& at, NodeSettings& settings);
void parseFiles(ParseContext& context, const Cursor& at, NodeSettings& settings);
// `image`: a root filesystem directory (a path, which holds a '/') or an imported image's name.
void parseImage(ParseContext& context, const Cursor& at, NodeSettings& settings);

// `links` (parse_link.cpp).
std::vector<LinkSpec> parseLinks(ParseContext& context, const Cursor& at);

// `addressing` (parse_addressing.cpp).
AddressingSpec parseAddressing(ParseContext& context, const Cursor& at);

// `tests` (parse_checks.cpp).
std::vector<CheckSpec> parseChecks(ParseContext& context, const Cursor& at);

}  // namespace netlab::topo
