#include "topo/plan_diff.hpp"

#include <algorithm>
#include <map>

#include "topo/impairment_json.hpp"
#include "topo/units.hpp"

namespace netlab::topo {
namespace {

// A link found in one plan: its ends in that plan's order, and where they are.
struct PlannedLink {
  LinkName name;
  const Interface* first = nullptr;
  const Interface* second = nullptr;
};

// Ends in one order whichever plan met them first, to match a link across plans.
using LinkKey = std::pair<std::string, std::string>;

LinkKey keyOf(const LinkName& link) {
  std::string a = link.first.node + ":" + link.first.interface;
  std::string b = link.second.node + ":" + link.second.interface;
  return a < b ? LinkKey{a, b} : LinkKey{b, a};
}

// A valid plan's interfaces each name their peer.
const Interface& peerOf(const Plan& plan, const Interface& interface) {
  const Node& peer = *plan.findNode(interface.peerNode);
  return *std::find_if(
      peer.interfaces.begin(), peer.interfaces.end(),
      [&](const Interface& candidate) { return candidate.name == interface.peerInterface; });
}

// Every link of the plan, each once (from the end met first), in plan order.
std::vector<PlannedLink> linksOf(const Plan& plan) {
  std::vector<PlannedLink> links;
  std::map<LinkKey, bool> seen;
  for (const auto& node : plan.nodes) {
    for (const auto& interface : node.interfaces) {
      LinkName name{{node.name, interface.name}, {interface.peerNode, interface.peerInterface}};
      if (!seen.emplace(keyOf(name), true).second) continue;
      links.push_back({name, &interface, &peerOf(plan, interface)});
    }
  }
  return links;
}

// The end of a link that stands for `end`'s side of it, in the link's other order.
const Interface* endOf(const PlannedLink& link, const LinkEndName& end) {
  return link.name.first == end ? link.first : link.second;
}

// What the kernel fixed when it made the pair, so that changing it means making it again.
bool sameDevice(const Interface* a, const Interface* b) {
  return a->mac == b->mac && a->mtu == b->mtu;
}

// A node that cannot turn into its edited self in place: its bridge (a switch's) or its user
// namespace's map are made only when it is born.
bool isReplaced(const Node& running, const Node& edited) {
  return running.kind != edited.kind || running.isolatedIds != edited.isolatedIds;
}

class Differ {
 public:
  Differ(const Plan& running, const Plan& edited) : running_(running), edited_(edited) {}

  PlanDiff run() {
    for (const auto& node : running_.nodes) {
      if (!kept(node.name)) diff_.removedNodes.push_back(node.name);
    }
    for (const auto& node : edited_.nodes) {
      if (!kept(node.name)) diff_.addedNodes.push_back(node.name);
    }
    compareLinks();
    for (const auto& node : edited_.nodes) {
      if (kept(node.name)) compareNode(*running_.findNode(node.name), node);
    }
    diff_.checksChanged = running_.checks != edited_.checks;
    return std::move(diff_);
  }

 private:
  // In both plans, as the same kind of node.
  bool kept(const std::string& name) const {
    const Node* before = running_.findNode(name);
    const Node* after = edited_.findNode(name);
    return before && after && !isReplaced(*before, *after);
  }

  void compareLinks() {
    std::map<LinkKey, PlannedLink> before;
    for (auto& link : linksOf(running_)) before.emplace(keyOf(link.name), link);
    std::map<LinkKey, bool> matched;
    for (const auto& link : linksOf(edited_)) {
      auto found = before.find(keyOf(link.name));
      if (found == before.end() || !sameLink(found->second, link)) {
        diff_.addedLinks.push_back(link.name);
        continue;
      }
      matched[found->first] = true;
      compareImpairments(found->second, link);
    }
    for (const auto& link : linksOf(running_)) {
      if (!matched.count(keyOf(link.name))) diff_.removedLinks.push_back(link.name);
    }
  }

  bool sameLink(const PlannedLink& before, const PlannedLink& after) const {
    return kept(after.name.first.node) && kept(after.name.second.node) &&
           sameDevice(endOf(before, after.name.first), after.first) &&
           sameDevice(endOf(before, after.name.second), after.second);
  }

  void compareImpairments(const PlannedLink& before, const PlannedLink& after) {
    for (const auto& [end, interface] :
         {std::pair{after.name.first, after.first}, std::pair{after.name.second, after.second}}) {
      const Impairment& old = endOf(before, end)->egress;
      if (old != interface->egress) {
        diff_.impairmentChanges.push_back({after.name, end, old, interface->egress});
      }
    }
  }

  // Whether an address of the node differs on lo or on an interface of a link both plans have
  // (a link added or removed brings or takes its own).
  bool addressesDiffer(const Node& before, const Node& after) const {
    if (before.loopbackAddresses != after.loopbackAddresses) return true;
    for (const auto& interface : after.interfaces) {
      for (const auto& old : before.interfaces) {
        if (old.name == interface.name && old.peerNode == interface.peerNode &&
            old.peerInterface == interface.peerInterface && old.addresses != interface.addresses) {
          return true;
        }
      }
    }
    return false;
  }

  void compareNode(const Node& before, const Node& after) {
    NodeChange change{after.name, {}};
    auto note = [&](bool differs, const char* aspect) {
      if (differs) change.aspects.emplace_back(aspect);
    };
    note(before.hostname != after.hostname, "hostname");
    note(addressesDiffer(before, after), "addresses");
    note(before.routes != after.routes, "routes");
    note(before.sysctls != after.sysctls, "sysctls");
    note(before.env != after.env, "environment");
    note(before.exec != after.exec, "startup commands");
    note(before.mounts != after.mounts, "mounts");
    note(before.files != after.files, "files");
    note(before.resources != after.resources, "resources");
    note(before.root != after.root, "root filesystem");
    if (!change.aspects.empty()) diff_.changedNodes.push_back(std::move(change));
  }

  const Plan& running_;
  const Plan& edited_;
  PlanDiff diff_;
};

std::string describeEgress(const Impairment& impairment) {
  return impairment.empty() ? "none" : describeImpairment(impairment);
}

Json linkToJson(const LinkName& link) {
  return Json::array({link.first.node + ":" + link.first.interface,
                      link.second.node + ":" + link.second.interface});
}

}  // namespace

bool PlanDiff::empty() const {
  return *this == PlanDiff{};
}

PlanDiff diffPlans(const Plan& running, const Plan& edited) {
  return Differ(running, edited).run();
}

std::string toString(const LinkName& link) {
  return link.first.node + ":" + link.first.interface + " -- " + link.second.node + ":" +
         link.second.interface;
}

std::vector<std::string> describePlanDiff(const PlanDiff& diff) {
  std::vector<std::string> lines;
  for (const auto& link : diff.removedLinks) lines.push_back("- link " + toString(link));
  for (const auto& node : diff.removedNodes) lines.push_back("- node " + node);
  for (const auto& node : diff.addedNodes) lines.push_back("+ node " + node);
  for (const auto& link : diff.addedLinks) lines.push_back("+ link " + toString(link));
  for (const auto& node : diff.changedNodes) {
    std::string aspects;
    for (const auto& aspect : node.aspects) aspects += (aspects.empty() ? "" : ", ") + aspect;
    lines.push_back("~ node " + node.node + " (" + aspects + ")");
  }
  for (const auto& change : diff.impairmentChanges) {
    lines.push_back("~ link " + toString(change.link) + " impairment " + change.end.node + ":" +
                    change.end.interface + " " + describeEgress(change.before) + " -> " +
                    describeEgress(change.after));
  }
  if (diff.checksChanged) lines.emplace_back("~ tests");
  return lines;
}

Json planDiffToJson(const PlanDiff& diff) {
  Json json = Json::object();
  json["removed_links"] = Json::array();
  for (const auto& link : diff.removedLinks) json["removed_links"].push_back(linkToJson(link));
  json["removed_nodes"] = diff.removedNodes;
  json["added_nodes"] = diff.addedNodes;
  json["added_links"] = Json::array();
  for (const auto& link : diff.addedLinks) json["added_links"].push_back(linkToJson(link));
  json["changed_nodes"] = Json::array();
  for (const auto& node : diff.changedNodes) {
    json["changed_nodes"].push_back({{"node", node.node}, {"aspects", node.aspects}});
  }
  json["impairment_changes"] = Json::array();
  for (const auto& change : diff.impairmentChanges) {
    json["impairment_changes"].push_back({{"link", linkToJson(change.link)},
                                          {"end", change.end.node + ":" + change.end.interface},
                                          {"before", impairmentToJson(change.before)},
                                          {"after", impairmentToJson(change.after)}});
  }
  json["tests_changed"] = diff.checksChanged;
  json["empty"] = diff.empty();
  return json;
}

}  // namespace netlab::topo
