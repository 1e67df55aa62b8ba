#include "nsmgr/state_file.hpp"

#include "base/error.hpp"
#include "topo/json_document.hpp"
#include "topo/plan_json.hpp"

namespace netlab::nsmgr {
namespace {

using topo::Json;
using topo::Reader;

// Bumped when the meaning of a key changes; readers refuse other versions.
constexpr int kStateJsonVersion = 1;

Json nodeToJson(const NodeRuntime& node) {
  Json interfaces = Json::array();
  for (const InterfaceRuntime& interface : node.interfaces) {
    interfaces.push_back({{"name", interface.name}, {"ifindex", interface.ifindex}});
  }
  return {{"name", node.name},
          {"pid", node.pid},
          {"start_time", node.startTime},
          {"interfaces", std::move(interfaces)}};
}

NodeRuntime readNode(const Reader& reader) {
  reader.onlyKeys({"name", "pid", "start_time", "interfaces"});
  NodeRuntime node{reader.member("name").get<std::string>(),
                   reader.member("pid").get<int>(),
                   reader.member("start_time").get<uint64_t>(),
                   {}};
  for (const Reader& item : reader.member("interfaces").items()) {
    item.onlyKeys({"name", "ifindex"});
    node.interfaces.push_back(
        {item.member("name").get<std::string>(), item.member("ifindex").get<uint32_t>()});
  }
  return node;
}

LabState readLabState(const Reader& reader) {
  reader.onlyKeys(
      {"version", "plan", "nodes", "created_unix_seconds", "pids_limit", "pids_limited_by"});
  reader.member("version").requireVersion(kStateJsonVersion);
  LabState state;
  state.plan = topo::readPlan(reader.member("plan"));
  for (const Reader& item : reader.member("nodes").items()) state.nodes.push_back(readNode(item));
  state.createdUnixSeconds = reader.member("created_unix_seconds").get<int64_t>();
  state.pidsLimit = reader.member("pids_limit").get<uint32_t>();
  state.pidsLimitedBy = reader.member("pids_limited_by").get<std::string>();
  return state;
}

}  // namespace

std::string labStateToJson(const LabState& state) {
  Json json{{"version", kStateJsonVersion},  {"plan", topo::planToJsonValue(state.plan)},
            {"nodes", Json::array()},        {"created_unix_seconds", state.createdUnixSeconds},
            {"pids_limit", state.pidsLimit}, {"pids_limited_by", state.pidsLimitedBy}};
  for (const NodeRuntime& node : state.nodes) json["nodes"].push_back(nodeToJson(node));
  return topo::dump(json);
}

LabState labStateFromJson(std::string_view json) {
  return withContext("reading a lab state",
                     [&] { return readLabState(Reader(topo::parseDocument(json), "")); });
}

}  // namespace netlab::nsmgr
