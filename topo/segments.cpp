#include "topo/segments.hpp"

#include <algorithm>
#include <cstdint>
#include <numeric>

namespace netlab::topo {
namespace {

class DisjointSets {
 public:
  explicit DisjointSets(size_t size) : parent_(size) {
    std::iota(parent_.begin(), parent_.end(), size_t{0});
  }
  size_t find(size_t element) {
    while (parent_[element] != element) {
      parent_[element] = parent_[parent_[element]];
      element = parent_[element];
    }
    return element;
  }
  void join(size_t a, size_t b) { parent_[find(a)] = find(b); }

 private:
  std::vector<size_t> parent_;
};

// The non-switch interfaces each link created, in endpoint order.
std::vector<std::vector<InterfaceRef>> interfacesByLink(const Lab& lab, size_t linkCount) {
  std::vector<std::vector<std::pair<size_t, InterfaceRef>>> byLink(linkCount);
  for (size_t n = 0; n < lab.nodes.size(); ++n) {
    if (lab.nodes[n].kind == NodeKind::Switch) continue;
    const auto& interfaces = lab.nodes[n].interfaces;
    for (size_t i = 0; i < interfaces.size(); ++i) {
      byLink[interfaces[i].link].push_back({interfaces[i].endpoint.value_or(0), {n, i}});
    }
  }
  std::vector<std::vector<InterfaceRef>> result(linkCount);
  for (size_t link = 0; link < linkCount; ++link) {
    std::sort(byLink[link].begin(), byLink[link].end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& entry : byLink[link]) result[link].push_back(entry.second);
  }
  return result;
}

}  // namespace

std::vector<Segment> findSegments(const Lab& lab, size_t linkCount) {
  // Elements 0..linkCount-1 are links, the rest are nodes; a switch joins its links.
  DisjointSets sets(linkCount + lab.nodes.size());
  std::vector<bool> wired(linkCount, false);
  for (size_t n = 0; n < lab.nodes.size(); ++n) {
    for (const DraftInterface& interface : lab.nodes[n].interfaces) {
      wired[interface.link] = true;
      if (lab.nodes[n].kind == NodeKind::Switch) sets.join(interface.link, linkCount + n);
    }
  }
  const auto members = interfacesByLink(lab, linkCount);
  std::vector<Segment> segments;
  std::vector<size_t> segmentOfRoot(linkCount + lab.nodes.size(), SIZE_MAX);
  for (size_t link = 0; link < linkCount; ++link) {
    if (!wired[link]) continue;
    size_t& index = segmentOfRoot[sets.find(link)];
    if (index == SIZE_MAX) {
      index = segments.size();
      segments.emplace_back();
    }
    segments[index].links.push_back(link);
    auto& into = segments[index].members;
    into.insert(into.end(), members[link].begin(), members[link].end());
  }
  return segments;
}

}  // namespace netlab::topo
