#include "topo/names.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "topo/diagnostics.hpp"
#include "topo/load.hpp"

namespace netlab::topo {
namespace {

bool isAsciiLetter(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}
bool isAsciiDigit(char c) {
  return c >= '0' && c <= '9';
}
bool isNameChar(char c) {
  return isAsciiLetter(c) || isAsciiDigit(c) || c == '_' || c == '-';
}

bool isNameTail(std::string_view tail) {
  return tail.size() < kMaxNameLength && std::all_of(tail.begin(), tail.end(), isNameChar);
}

}  // namespace

bool isValidLabName(std::string_view name) {
  return !name.empty() && (isAsciiLetter(name[0]) || isAsciiDigit(name[0])) &&
         isNameTail(name.substr(1));
}

bool isValidNodeName(std::string_view name) {
  return !name.empty() && isAsciiLetter(name[0]) && isNameTail(name.substr(1));
}

std::optional<std::string> interfaceNameProblem(std::string_view name) {
  if (name.empty()) return "an interface name cannot be empty";
  if (name.size() > kMaxInterfaceNameLength) {
    return fmt::format("`{}` is longer than {} characters (the kernel's IFNAMSIZ)", excerpt(name),
                       kMaxInterfaceNameLength);
  }
  if (name == "." || name == "..") return fmt::format("the kernel refuses `{}` as a name", name);
  if (name == "lo") return "`lo` is the node's own loopback interface";
  for (char c : name) {
    const auto byte = static_cast<unsigned char>(c);
    // '/' would escape /sys/class/net, ':' is alias syntax, whitespace breaks parsers, and the
    // kernel expands '%' as a template ("eth%d"), which would rename the interface.
    if (c == '/' || c == ':' || c == '%' || byte <= ' ' || byte >= 0x7f) {
      return fmt::format("`{}` contains `{}`, which an interface name cannot contain",
                         excerpt(name), excerpt(std::string_view(&c, 1)));
    }
  }
  return std::nullopt;
}

std::optional<std::string> hostnameProblem(std::string_view name) {
  if (name.empty() || name.size() > kMaxHostnameLength) {
    return fmt::format("a hostname has 1 to {} characters", kMaxHostnameLength);
  }
  size_t start = 0;
  while (start <= name.size()) {
    const size_t dot = std::min(name.find('.', start), name.size());
    const std::string_view label = name.substr(start, dot - start);
    if (label.empty() || label.front() == '-' || label.back() == '-' ||
        !std::all_of(label.begin(), label.end(), isNameChar)) {
      return "each dot-separated label needs letters, digits, `-` or `_`, and may not start or "
             "end with `-`";
    }
    start = dot + 1;
  }
  return std::nullopt;
}

std::optional<std::string> sysctlNameProblem(std::string_view name) {
  if (!name.starts_with("net.")) {
    return fmt::format(
        "only net.* sysctls belong to a node's namespaces; `{}` would change the host",
        excerpt(name));
  }
  const bool charsetOk = std::all_of(name.begin(), name.end(), [](char c) {
    return isAsciiLetter(c) || isAsciiDigit(c) || c == '_' || c == '-' || c == '.';
  });
  if (!charsetOk || name.back() == '.' || name.find("..") != std::string_view::npos) {
    return fmt::format(
        "`{}` is not a sysctl name: use dotted segments of letters, digits, `_` "
        "and `-`",
        excerpt(name));
  }
  return std::nullopt;
}

bool isValidEnvName(std::string_view name) {
  return !name.empty() && (isAsciiLetter(name[0]) || name[0] == '_') &&
         std::all_of(name.begin(), name.end(),
                     [](char c) { return isAsciiLetter(c) || isAsciiDigit(c) || c == '_'; });
}

}  // namespace netlab::topo
