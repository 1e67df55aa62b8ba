// L2 segments: the links joined by switches (transitively, through switch-to-switch links)
// share one broadcast domain and therefore one subnet; a link between two non-switch nodes
// is a segment of its own.
#pragma once

#include <vector>

#include "topo/lab.hpp"

namespace netlab::topo {

struct InterfaceRef {
  size_t node = 0;
  size_t interface = 0;
};

struct Segment {
  std::vector<size_t> links;          // in link order
  std::vector<InterfaceRef> members;  // non-switch interfaces, in link then endpoint order
};

// Segments in the order of their first link.
std::vector<Segment> findSegments(const Lab& lab, size_t linkCount);

}  // namespace netlab::topo
