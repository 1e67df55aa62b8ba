#include "topo/plan_table.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "topo/checks.hpp"
#include "topo/units.hpp"

namespace netlab::topo {
namespace {

using Row = std::vector<std::string>;

// Columns padded to their widest cell; the last column is not padded.
std::string alignedRows(const std::vector<Row>& rows, std::string_view indent) {
  std::vector<size_t> widths;
  for (const Row& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size());
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string text;
  for (const Row& row : rows) {
    std::string line(indent);
    for (size_t i = 0; i < row.size(); ++i) {
      line += i + 1 == row.size() ? row[i] : fmt::format("{:<{}}  ", row[i], widths[i]);
    }
    line.erase(line.find_last_not_of(' ') + 1);
    text += line + "\n";
  }
  return text;
}

std::string joinPrefixes(const std::vector<IpPrefix>& prefixes) {
  std::vector<std::string> texts;
  texts.reserve(prefixes.size());
  for (const IpPrefix& prefix : prefixes) texts.push_back(toString(prefix));
  return texts.empty() ? "-" : fmt::format("{}", fmt::join(texts, " "));
}

std::string describeRoot(const RootFilesystem& root) {
  if (root.mode == RootMode::Host) return "the host's";
  if (root.image.empty()) return "overlay over the host's";
  return fmt::format("overlay over {}{}", root.image.find('/') == std::string::npos ? "image " : "",
                     root.image);
}

std::string describeRoute(const Route& route) {
  std::string text = route.destination.length == 0 ? "default" : toString(route.destination);
  if (route.gateway) text += " via " + toString(*route.gateway);
  if (!route.device.empty()) text += " dev " + route.device;
  if (route.metric) text += fmt::format(" metric {}", *route.metric);
  return text;
}

std::string interfaceTable(const Node& node) {
  std::vector<Row> rows{{"interface", "mac", "mtu", "addresses", "peer", "egress"}};
  for (const Interface& interface : node.interfaces) {
    const std::string egress = describeImpairment(interface.egress);
    rows.push_back({interface.name, toString(interface.mac), std::to_string(interface.mtu),
                    joinPrefixes(interface.addresses),
                    fmt::format("{}:{}", interface.peerNode, interface.peerInterface),
                    egress.empty() ? "-" : egress});
  }
  return alignedRows(rows, "  ");
}

// "  title" and one indented line per entry; nothing for no entries.
std::string section(std::string_view title, const std::vector<std::string>& lines) {
  if (lines.empty()) return {};
  std::string text = fmt::format("  {}:\n", title);
  for (const std::string& line : lines) text += fmt::format("    {}\n", line);
  return text;
}

std::vector<std::string> settingLines(const std::vector<std::pair<std::string, std::string>>& pairs,
                                      std::string_view separator) {
  std::vector<std::string> lines;
  lines.reserve(pairs.size());
  for (const auto& [name, value] : pairs)
    lines.push_back(fmt::format("{}{}{}", name, separator, value));
  return lines;
}

// The lines of a generated file, indented under its name.
void appendContent(const std::string& content, std::vector<std::string>& lines) {
  size_t start = 0;
  while (start < content.size()) {
    const size_t end = std::min(content.find('\n', start), content.size());
    lines.push_back("  | " + content.substr(start, end - start));
    start = end + 1;
  }
}

std::string nodeBlock(const Node& node) {
  std::string text =
      fmt::format("{} ({}, hostname {})\n", node.name, toString(node.kind), node.hostname);
  if (!node.loopbackAddresses.empty()) {
    text += fmt::format("  loopback: {}\n", joinPrefixes(node.loopbackAddresses));
  }
  text += fmt::format("  root: {}\n", describeRoot(node.root));
  if (node.resources.any())
    text += fmt::format("  resources: {}\n", describeResources(node.resources));
  if (!node.interfaces.empty()) text += interfaceTable(node);
  std::vector<std::string> routes, mounts, files;
  for (const Route& route : node.routes) routes.push_back(describeRoute(route));
  for (const Mount& mount : node.mounts) {
    mounts.push_back(fmt::format("{} -> {}{}", mount.source, mount.target,
                                 mount.readOnly ? " (read-only)" : ""));
  }
  for (const File& file : node.files) {
    files.push_back(fmt::format("{} (mode {:04o}, {} bytes{})", file.target, file.mode,
                                file.content.size(),
                                file.generated ? ", generated from the topology" : ""));
    // What netlab wrote is shown in full: the reader cannot look it up anywhere else.
    if (file.generated) appendContent(file.content, files);
  }
  text += section("routes", routes);
  text += section("sysctls", settingLines(node.sysctls, " = "));
  text += section("env", settingLines(node.env, "="));
  text += section("exec", node.exec);
  text += section("mounts", mounts);
  text += section("files", files);
  return text;
}

}  // namespace

std::string renderPlanTable(const Plan& plan) {
  std::string text = fmt::format("lab {} ({})\n", plan.name, plan.sourceFile);
  for (const Node& node : plan.nodes) text += "\n" + nodeBlock(node);
  if (!plan.checks.empty()) {
    text += "\ntests:\n";
    for (const Check& check : plan.checks) {
      const std::string timeout =
          check.timeoutMs == 0 ? "one try" : "within " + formatTimeout(check.timeoutMs);
      text += fmt::format("  {} ({})\n", label(check), timeout);
    }
  }
  return text;
}

}  // namespace netlab::topo
