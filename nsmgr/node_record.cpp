#include "nsmgr/node_record.hpp"

#include <charconv>

#include "base/error.hpp"

namespace netlab::nsmgr {
namespace {

// "PID STARTTIME\n", then every environment entry followed by a NUL, as in /proc/PID/environ.
std::string recordPath(const std::string& node) {
  return "nodes/" + node + "/init";
}

template <typename Number>
bool parseNumber(std::string_view text, Number& value) {
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size();
}

}  // namespace

void writeNodeRecord(const LabDirectory& directory, const std::string& node,
                     const NodeRecord& record) {
  std::string text = std::to_string(record.pid) + " " + std::to_string(record.startTime) + "\n";
  for (const auto& variable : record.env) {
    text += variable;
    text += '\0';
  }
  directory.writeFile(recordPath(node), text);
}

std::optional<NodeRecord> readNodeRecord(const LabDirectory& directory, const std::string& node) {
  auto text = directory.readFile(recordPath(node));
  if (!text) return std::nullopt;
  std::string_view rest = *text;
  size_t space = rest.find(' ');
  size_t newline = rest.find('\n');
  NodeRecord record;
  if (space > newline || newline == std::string_view::npos ||
      !parseNumber(rest.substr(0, space), record.pid) ||
      !parseNumber(rest.substr(space + 1, newline - space - 1), record.startTime)) {
    throw Error(directory.pathOf(recordPath(node)) + ": not a node record");
  }
  for (rest.remove_prefix(newline + 1); !rest.empty();) {
    size_t end = rest.find('\0');
    if (end == std::string_view::npos)
      throw Error(directory.pathOf(recordPath(node)) + ": truncated");
    record.env.emplace_back(rest.substr(0, end));
    rest.remove_prefix(end + 1);
  }
  return record;
}

std::vector<std::string> recordedNodeNames(const LabDirectory& directory) {
  return directory.entries("nodes");
}

}  // namespace netlab::nsmgr
