#include "topo/plan.hpp"

#include <algorithm>

namespace netlab::topo {

std::string_view toString(NodeKind kind) {
  switch (kind) {
    case NodeKind::Host:
      return "host";
    case NodeKind::Router:
      return "router";
    case NodeKind::Switch:
      return "switch";
  }
  return "unknown";
}

bool Impairment::empty() const {
  return *this == Impairment{};
}

namespace {

template <typename T>
void overlayField(std::optional<T>& target, const std::optional<T>& layer) {
  if (layer) target = layer;
}

}  // namespace

void Impairment::overlay(const Impairment& layer) {
  overlayField(delayUs, layer.delayUs);
  overlayField(jitterUs, layer.jitterUs);
  overlayField(jitterCorrelationPercent, layer.jitterCorrelationPercent);
  overlayField(lossPercent, layer.lossPercent);
  overlayField(corruptPercent, layer.corruptPercent);
  overlayField(duplicatePercent, layer.duplicatePercent);
  overlayField(reorderPercent, layer.reorderPercent);
  overlayField(rateBitsPerSecond, layer.rateBitsPerSecond);
  overlayField(limitPackets, layer.limitPackets);
}

const Node* Plan::findNode(std::string_view name) const {
  auto it =
      std::find_if(nodes.begin(), nodes.end(), [&](const Node& node) { return node.name == name; });
  return it == nodes.end() ? nullptr : &*it;
}

}  // namespace netlab::topo
