#include "topo/plan_json.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <nlohmann/json.hpp>
#include <type_traits>

#include "base/error.hpp"
#include "base/mac.hpp"
#include "topo/impairment_json.hpp"

namespace netlab::topo {
namespace {

Json prefixesToJson(const std::vector<IpPrefix>& prefixes) {
  Json json = Json::array();
  for (const IpPrefix& prefix : prefixes) json.push_back(toString(prefix));
  return json;
}

Json pairsToJson(const std::vector<std::pair<std::string, std::string>>& pairs) {
  Json json = Json::object();
  for (const auto& [name, value] : pairs) json[name] = value;
  return json;
}

Json interfaceToJson(const Interface& interface) {
  Json json{{"name", interface.name},
            {"mac", toString(interface.mac)},
            {"mtu", interface.mtu},
            {"addresses", prefixesToJson(interface.addresses)}};
  if (!interface.egress.empty()) json["egress"] = impairmentToJson(interface.egress);
  json["peer_node"] = interface.peerNode;
  json["peer_interface"] = interface.peerInterface;
  // Only when given, so that plans without names read as before.
  if (!interface.linkName.empty()) json["link_name"] = interface.linkName;
  return json;
}

Json routeToJson(const Route& route) {
  Json json{{"to", toString(route.destination)}};
  if (route.gateway) json["via"] = toString(*route.gateway);
  if (!route.device.empty()) json["dev"] = route.device;
  if (route.metric) json["metric"] = *route.metric;
  return json;
}

Json nodeToJson(const Node& node) {
  Json json{{"name", node.name},
            {"kind", toString(node.kind)},
            {"hostname", node.hostname},
            {"loopback", prefixesToJson(node.loopbackAddresses)},
            {"interfaces", Json::array()},
            {"routes", Json::array()},
            {"sysctls", pairsToJson(node.sysctls)},
            {"env", pairsToJson(node.env)},
            {"exec", node.exec},
            {"mounts", Json::array()},
            {"files", Json::array()}};
  for (const Interface& interface : node.interfaces)
    json["interfaces"].push_back(interfaceToJson(interface));
  for (const Route& route : node.routes) json["routes"].push_back(routeToJson(route));
  for (const Mount& mount : node.mounts) {
    json["mounts"].push_back(
        {{"source", mount.source}, {"target", mount.target}, {"readonly", mount.readOnly}});
  }
  for (const File& file : node.files) {
    json["files"].push_back({{"path", file.target},
                             {"content", file.content},
                             {"mode", fmt::format("{:04o}", file.mode)}});
    // Only when true, as in the state files of labs made before the key existed.
    if (file.generated) json["files"].back()["generated"] = true;
  }
  // Absent for `"userns": "host"`, as in the state files of labs made before the key existed.
  if (node.isolatedIds) {
    json["userns"] = {{"first_host_id", node.isolatedIds->first}, {"ids", node.isolatedIds->count}};
  }
  // Always written: a state file without it is a lab's made before the key existed, whose nodes
  // have the host's root (readNode).
  json["root"] = node.root.mode == RootMode::Host ? "host" : "overlay";
  if (!node.root.image.empty()) json["image"] = node.root.image;
  // Absent without limits, likewise.
  if (node.resources.any()) {
    Json& resources = json["resources"] = Json::object();
    if (node.resources.cpus) resources["cpus"] = *node.resources.cpus;
    if (node.resources.memoryBytes) resources["memory_bytes"] = *node.resources.memoryBytes;
    if (node.resources.pids) resources["pids"] = *node.resources.pids;
  }
  return json;
}

std::string_view familyName(Family family) {
  return family == Family::V4 ? "ipv4" : "ipv6";
}

Json reachToJson(const ReachCheck& reach) {
  Json json = Json::object();
  if (!reach.targetNode.empty()) json["node"] = reach.targetNode;
  json["addresses"] = Json::array();
  for (const IpAddress& address : reach.addresses) json["addresses"].push_back(toString(address));
  if (reach.family) json["family"] = familyName(*reach.family);
  json["count"] = reach.count;
  if (reach.loopbacksOnly) json["loopbacks_only"] = true;
  return json;
}

Json routeCheckToJson(const RouteCheck& route) {
  Json json{{"to", toString(route.destination)}};
  if (route.gateway) json["via"] = toString(*route.gateway);
  if (!route.device.empty()) json["dev"] = route.device;
  return json;
}

Json pathToJson(const PathCheck& path) {
  Json json = Json::object();
  if (!path.targetNode.empty()) json["node"] = path.targetNode;
  json["addresses"] = Json::array();
  for (const IpAddress& address : path.addresses) json["addresses"].push_back(toString(address));
  json["nodes"] = path.nodes;
  if (path.family) json["family"] = familyName(*path.family);
  return json;
}

Json commandToJson(const CommandCheck& command) {
  return {{"run", command.command}, {"match", command.pattern}, {"status", command.exitStatus}};
}

// {"node": ..., "timeout_ms": ..., "reach" | "route" | "command": {...}}
Json checkToJson(const Check& check) {
  Json json = Json::object();
  if (!check.name.empty()) json["name"] = check.name;
  json["node"] = check.node;
  json["timeout_ms"] = check.timeoutMs;
  if (const auto* reach = std::get_if<ReachCheck>(&check.condition)) {
    json["reach"] = reachToJson(*reach);
  } else if (const auto* route = std::get_if<RouteCheck>(&check.condition)) {
    json["route"] = routeCheckToJson(*route);
  } else if (const auto* path = std::get_if<PathCheck>(&check.condition)) {
    json["path"] = pathToJson(*path);
  } else {
    json["command"] = commandToJson(std::get<CommandCheck>(check.condition));
  }
  return json;
}

template <typename T>
void readOptional(const Reader& reader, std::string_view key, std::optional<T>& into) {
  if (reader.has(key)) into = reader.member(key).get<T>();
}

Impairment readImpairment(const Reader& reader) {
  reader.onlyKeys({"delay_us", "jitter_us", "jitter_correlation_percent", "loss_percent",
                   "corrupt_percent", "duplicate_percent", "reorder_percent", "rate_bps",
                   "limit_packets"});
  Impairment impairment;
  readOptional(reader, "delay_us", impairment.delayUs);
  readOptional(reader, "jitter_us", impairment.jitterUs);
  readOptional(reader, "jitter_correlation_percent", impairment.jitterCorrelationPercent);
  readOptional(reader, "loss_percent", impairment.lossPercent);
  readOptional(reader, "corrupt_percent", impairment.corruptPercent);
  readOptional(reader, "duplicate_percent", impairment.duplicatePercent);
  readOptional(reader, "reorder_percent", impairment.reorderPercent);
  readOptional(reader, "rate_bps", impairment.rateBitsPerSecond);
  readOptional(reader, "limit_packets", impairment.limitPackets);
  return impairment;
}

std::vector<IpPrefix> readPrefixes(const Reader& reader) {
  std::vector<IpPrefix> prefixes;
  for (const Reader& item : reader.items()) prefixes.push_back(item.prefix());
  return prefixes;
}

Interface readInterface(const Reader& reader) {
  reader.onlyKeys(
      {"name", "mac", "mtu", "addresses", "egress", "peer_node", "peer_interface", "link_name"});
  Interface interface;
  interface.name = reader.member("name").get<std::string>();
  const Reader mac = reader.member("mac");
  auto parsed = parseMac(mac.get<std::string>());
  if (!parsed) mac.fail("expected a MAC address like 02:00:00:00:00:01");
  interface.mac = *parsed;
  interface.mtu = reader.member("mtu").get<uint32_t>();
  interface.addresses = readPrefixes(reader.member("addresses"));
  if (reader.has("egress")) interface.egress = readImpairment(reader.member("egress"));
  interface.peerNode = reader.member("peer_node").get<std::string>();
  interface.peerInterface = reader.member("peer_interface").get<std::string>();
  if (reader.has("link_name")) interface.linkName = reader.member("link_name").get<std::string>();
  return interface;
}

Route readRoute(const Reader& reader) {
  reader.onlyKeys({"to", "via", "dev", "metric"});
  Route route;
  route.destination = reader.member("to").prefix();
  if (reader.has("via")) route.gateway = reader.member("via").address();
  if (reader.has("dev")) route.device = reader.member("dev").get<std::string>();
  readOptional(reader, "metric", route.metric);
  return route;
}

NodeKind readKind(const Reader& reader) {
  const auto text = reader.get<std::string>();
  for (NodeKind kind : {NodeKind::Host, NodeKind::Router, NodeKind::Switch}) {
    if (text == toString(kind)) return kind;
  }
  reader.fail(fmt::format("unknown node kind `{}`", excerpt(text)));
}

File readFile(const Reader& reader) {
  reader.onlyKeys({"path", "content", "mode", "generated"});
  File file{reader.member("path").get<std::string>(), reader.member("content").get<std::string>()};
  const Reader mode = reader.member("mode");
  const auto text = mode.get<std::string>();
  unsigned value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, 8);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || value > 07777) {
    mode.fail("expected an octal file mode like \"0644\"");
  }
  file.mode = value;
  file.generated = reader.has("generated") && reader.member("generated").get<bool>();
  return file;
}

void readNodeLists(const Reader& reader, Node& node) {
  for (const Reader& item : reader.member("interfaces").items())
    node.interfaces.push_back(readInterface(item));
  for (const Reader& item : reader.member("routes").items()) node.routes.push_back(readRoute(item));
  node.sysctls = reader.member("sysctls").stringPairs();
  node.env = reader.member("env").stringPairs();
  for (const Reader& item : reader.member("exec").items())
    node.exec.push_back(item.get<std::string>());
  for (const Reader& item : reader.member("mounts").items()) {
    item.onlyKeys({"source", "target", "readonly"});
    node.mounts.push_back({item.member("source").get<std::string>(),
                           item.member("target").get<std::string>(),
                           item.member("readonly").get<bool>()});
  }
  for (const Reader& item : reader.member("files").items()) node.files.push_back(readFile(item));
}

Node readNode(const Reader& reader) {
  reader.onlyKeys({"name", "kind", "hostname", "loopback", "interfaces", "routes", "sysctls", "env",
                   "exec", "mounts", "files", "userns", "resources", "root", "image"});
  Node node;
  node.name = reader.member("name").get<std::string>();
  node.kind = readKind(reader.member("kind"));
  node.hostname = reader.member("hostname").get<std::string>();
  node.loopbackAddresses = readPrefixes(reader.member("loopback"));
  readNodeLists(reader, node);
  if (reader.has("userns")) {
    const Reader userns = reader.member("userns");
    userns.onlyKeys({"first_host_id", "ids"});
    IdRange ids{userns.member("first_host_id").get<uint32_t>(),
                userns.member("ids").get<uint32_t>()};
    // Host id 0 inside the range would make node root host root: not isolated at all.
    if (ids.first == 0 || ids.count == 0 || ids.count > UINT32_MAX - ids.first) {
      userns.fail("expected a range of host ids above 0 that fits in 32 bits");
    }
    node.isolatedIds = ids;
  }
  node.root.mode = RootMode::Host;
  if (reader.has("root")) {
    const Reader root = reader.member("root");
    const auto mode = root.get<std::string>();
    if (mode != "host" && mode != "overlay") root.fail("expected \"host\" or \"overlay\"");
    node.root.mode = mode == "host" ? RootMode::Host : RootMode::Overlay;
  }
  if (reader.has("image")) node.root.image = reader.member("image").get<std::string>();
  if (reader.has("resources")) {
    const Reader resources = reader.member("resources");
    resources.onlyKeys({"cpus", "memory_bytes", "pids"});
    if (resources.has("cpus")) node.resources.cpus = resources.member("cpus").get<double>();
    if (resources.has("memory_bytes"))
      node.resources.memoryBytes = resources.member("memory_bytes").get<uint64_t>();
    if (resources.has("pids")) node.resources.pids = resources.member("pids").get<uint32_t>();
  }
  return node;
}

std::optional<Family> readFamily(const Reader& reader) {
  if (!reader.has("family")) return std::nullopt;
  const Reader family = reader.member("family");
  const auto text = family.get<std::string>();
  if (text != familyName(Family::V4) && text != familyName(Family::V6)) {
    family.fail("expected ipv4 or ipv6");
  }
  return text == familyName(Family::V4) ? Family::V4 : Family::V6;
}

std::vector<IpAddress> readAddresses(const Reader& reader) {
  std::vector<IpAddress> addresses;
  for (const Reader& item : reader.member("addresses").items()) {
    addresses.push_back(item.address());
  }
  return addresses;
}

ReachCheck readReach(const Reader& reader) {
  reader.onlyKeys({"node", "addresses", "family", "count", "loopbacks_only"});
  ReachCheck reach;
  if (reader.has("node")) reach.targetNode = reader.member("node").get<std::string>();
  reach.addresses = readAddresses(reader);
  reach.family = readFamily(reader);
  reach.count = reader.member("count").get<uint32_t>();
  if (reader.has("loopbacks_only"))
    reach.loopbacksOnly = reader.member("loopbacks_only").get<bool>();
  return reach;
}

PathCheck readPath(const Reader& reader) {
  reader.onlyKeys({"node", "addresses", "nodes", "family"});
  PathCheck path;
  if (reader.has("node")) path.targetNode = reader.member("node").get<std::string>();
  path.addresses = readAddresses(reader);
  for (const Reader& item : reader.member("nodes").items()) {
    path.nodes.push_back(item.get<std::string>());
  }
  path.family = readFamily(reader);
  return path;
}

RouteCheck readRouteCheck(const Reader& reader) {
  reader.onlyKeys({"to", "via", "dev"});
  RouteCheck route;
  route.destination = reader.member("to").prefix();
  if (reader.has("via")) route.gateway = reader.member("via").address();
  if (reader.has("dev")) route.device = reader.member("dev").get<std::string>();
  return route;
}

CommandCheck readCommand(const Reader& reader) {
  reader.onlyKeys({"run", "match", "status"});
  return {reader.member("run").get<std::string>(), reader.member("match").get<std::string>(),
          reader.member("status").get<int>()};
}

Check readCheck(const Reader& reader) {
  reader.onlyKeys({"name", "node", "timeout_ms", "reach", "route", "command", "path"});
  Check check;
  if (reader.has("name")) check.name = reader.member("name").get<std::string>();
  check.node = reader.member("node").get<std::string>();
  check.timeoutMs = reader.member("timeout_ms").get<uint32_t>();
  const int kinds =
      reader.has("reach") + reader.has("route") + reader.has("command") + reader.has("path");
  if (kinds != 1) reader.fail("expected exactly one of `reach`, `route`, `command` and `path`");
  if (reader.has("reach")) {
    check.condition = readReach(reader.member("reach"));
  } else if (reader.has("route")) {
    check.condition = readRouteCheck(reader.member("route"));
  } else if (reader.has("path")) {
    check.condition = readPath(reader.member("path"));
  } else {
    check.condition = readCommand(reader.member("command"));
  }
  return check;
}

}  // namespace

Json planToJsonValue(const Plan& plan) {
  Json json{{"version", kPlanJsonVersion},
            {"name", plan.name},
            {"source_file", plan.sourceFile},
            {"nodes", Json::array()}};
  for (const Node& node : plan.nodes) json["nodes"].push_back(nodeToJson(node));
  // Written only when there are checks, so that plans without them read as before.
  for (const Check& check : plan.checks) json["checks"].push_back(checkToJson(check));
  return json;
}

Plan readPlan(const Reader& reader) {
  reader.onlyKeys({"version", "name", "source_file", "nodes", "checks"});
  reader.member("version").requireVersion(kPlanJsonVersion);
  Plan plan;
  plan.name = reader.member("name").get<std::string>();
  plan.sourceFile = reader.member("source_file").get<std::string>();
  for (const Reader& item : reader.member("nodes").items()) plan.nodes.push_back(readNode(item));
  if (reader.has("checks")) {
    for (const Reader& item : reader.member("checks").items()) {
      plan.checks.push_back(readCheck(item));
    }
  }
  return plan;
}

std::string planToJson(const Plan& plan) {
  return dump(planToJsonValue(plan));
}

Plan planFromJson(std::string_view json) {
  return withContext("reading a plan", [&] { return readPlan(Reader(parseDocument(json), "")); });
}

Json parseDocument(std::string_view text) {
  try {
    return Json::parse(text);
  } catch (const Json::exception& error) {
    throw Error(error.what());
  }
}

}  // namespace netlab::topo
