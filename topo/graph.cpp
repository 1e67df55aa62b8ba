#include "topo/graph.hpp"

#include <fmt/format.h>

#include <set>
#include <unordered_map>

#include "topo/units.hpp"

namespace netlab::topo {
namespace {

// "eth0 10.0.0.1/30 fd00::1/64": an interface as an edge end.
std::string describeEnd(const Interface& interface) {
  std::string text = interface.name;
  for (const IpPrefix& address : interface.addresses) text += " " + toString(address);
  return text;
}

// The node's name and loopback addresses, one per line.
std::string nodeCaption(const Node& node) {
  std::string caption = node.name;
  for (const IpPrefix& address : node.loopbackAddresses) caption += "\n" + toString(address);
  return caption;
}

struct Edge {
  size_t from;  // node indices into Plan::nodes
  size_t to;
  std::string fromEnd;  // "eth0 10.0.0.1/30"
  std::string toEnd;
  std::string middle;  // the link's name and the impairments each way, one per line; may be ""
};

// "uplink\n→ delay 20ms\n← rate 10mbit": what the edge's middle says.
std::string middleOf(const Interface& from, const Interface* to) {
  std::vector<std::string> lines;
  if (!from.linkName.empty()) lines.push_back(from.linkName);
  if (!from.egress.empty()) lines.push_back("\u2192 " + describeImpairment(from.egress));
  if (to && !to->egress.empty()) lines.push_back("\u2190 " + describeImpairment(to->egress));
  return fmt::format("{}", fmt::join(lines, "\n"));
}

// Every veth pair once: an interface is skipped when its peer has already drawn the pair.
std::vector<Edge> vethEdges(const Plan& plan) {
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < plan.nodes.size(); ++i) index.emplace(plan.nodes[i].name, i);
  std::set<std::pair<std::string, std::string>> drawn;
  std::vector<Edge> edges;
  for (size_t i = 0; i < plan.nodes.size(); ++i) {
    const Node& node = plan.nodes[i];
    for (const Interface& interface : node.interfaces) {
      if (drawn.contains({node.name, interface.name})) continue;
      const Node* peer = plan.findNode(interface.peerNode);
      if (!peer) continue;
      const Interface* peerInterface = nullptr;
      for (const Interface& candidate : peer->interfaces) {
        if (candidate.name == interface.peerInterface) peerInterface = &candidate;
      }
      const std::string peerEnd =
          peerInterface ? describeEnd(*peerInterface) : interface.peerInterface;
      drawn.insert({interface.peerNode, interface.peerInterface});
      edges.push_back({i, index.at(peer->name), describeEnd(interface), peerEnd,
                       middleOf(interface, peerInterface)});
    }
  }
  return edges;
}

// A dot string; a newline becomes dot's own line break escape.
std::string dotQuoted(std::string_view text) {
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '\n') {
      quoted += "\\n";
      continue;
    }
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "\"";
}

std::string_view dotShape(NodeKind kind) {
  switch (kind) {
    case NodeKind::Router:
      return "ellipse";
    case NodeKind::Switch:
      return "diamond";
    case NodeKind::Host:
      break;
  }
  return "box";
}

// Mermaid labels are quoted; quotes and the characters Mermaid reads as markup become entity
// codes, a newline a <br/>, other control characters spaces.
std::string mermaidText(std::string_view text) {
  std::string escaped;
  for (char c : text) {
    switch (c) {
      case '"':
        escaped += "#quot;";
        break;
      case '#':
        escaped += "#35;";
        break;
      case '<':
        escaped += "#lt;";
        break;
      case '>':
        escaped += "#gt;";
        break;
      case '\n':
        escaped += "<br/>";
        break;
      default:
        escaped += static_cast<unsigned char>(c) < 0x20 ? ' ' : c;
    }
  }
  return escaped;
}

std::string mermaidNode(size_t index, const Node& node) {
  const std::string label = mermaidText(nodeCaption(node));
  switch (node.kind) {
    case NodeKind::Router:
      return fmt::format("n{}([\"{}\"])", index, label);
    case NodeKind::Switch:
      return fmt::format("n{}{{\"{}\"}}", index, label);
    case NodeKind::Host:
      break;
  }
  return fmt::format("n{}[\"{}\"]", index, label);
}

}  // namespace

std::string renderDot(const Plan& plan) {
  std::string dot = fmt::format("graph {} {{\n", dotQuoted(plan.name));
  dot += "  graph [rankdir=LR];\n  node [fontname=\"Helvetica\"];\n";
  dot += "  edge [fontname=\"Helvetica\", fontsize=10];\n";
  for (const Node& node : plan.nodes) {
    dot += fmt::format("  {} [shape={}, label={}];\n", dotQuoted(node.name), dotShape(node.kind),
                       dotQuoted(nodeCaption(node)));
  }
  // Each end's interface and addresses at its end of the edge, the link's name and
  // impairments in its middle.
  for (const Edge& edge : vethEdges(plan)) {
    dot += fmt::format("  {} -- {} [taillabel={}, headlabel={}{}];\n",
                       dotQuoted(plan.nodes[edge.from].name), dotQuoted(plan.nodes[edge.to].name),
                       dotQuoted(edge.fromEnd), dotQuoted(edge.toEnd),
                       edge.middle.empty() ? "" : ", label=" + dotQuoted(edge.middle));
  }
  return dot + "}\n";
}

std::string renderMermaid(const Plan& plan) {
  std::string mermaid = "graph LR\n";
  for (size_t i = 0; i < plan.nodes.size(); ++i) {
    mermaid += fmt::format("  {}\n", mermaidNode(i, plan.nodes[i]));
  }
  // Mermaid has one label per edge: the ends in the edge's direction, the middle between.
  for (const Edge& edge : vethEdges(plan)) {
    const std::string label = edge.fromEnd + " \u2014 " +
                              (edge.middle.empty() ? "" : edge.middle + " \u2014 ") + edge.toEnd;
    mermaid += fmt::format("  n{} ---|\"{}\"| n{}\n", edge.from, mermaidText(label), edge.to);
  }
  return mermaid;
}

}  // namespace netlab::topo
