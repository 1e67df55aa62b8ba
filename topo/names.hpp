// The naming rules of the topology format, in one place: what each name becomes (a path
// component, a kernel interface name, a hostname, a sysctl path) decides what it may contain.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace netlab::topo {

inline constexpr size_t kMaxNameLength = 32;
// IFNAMSIZ is 16, the terminating NUL included.
inline constexpr size_t kMaxInterfaceNameLength = 15;
// HOST_NAME_MAX.
inline constexpr size_t kMaxHostnameLength = 64;

// ^[A-Za-z][A-Za-z0-9_-]{0,31}$
bool isValidNodeName(std::string_view name);
// A lab name: safe as a path component (the lab's state directory) and in kernel names.
bool isValidLabName(std::string_view name);

// Why the kernel (or netlab) would refuse an interface name; nullopt when it is fine.
std::optional<std::string> interfaceNameProblem(std::string_view name);
std::optional<std::string> hostnameProblem(std::string_view name);
// Only net.* keys, in dotted form, with no empty segment.
std::optional<std::string> sysctlNameProblem(std::string_view name);
// Why a well-formed net.* sysctl is not the node's to set: it is host-wide, or its network
// namespace (owned by the node's user namespace) has it read-only or not at all.
struct SysctlRefusal {
  std::string message;
  std::string hint;
};
std::optional<SysctlRefusal> sysctlScopeProblem(std::string_view name);

// ^[A-Za-z_][A-Za-z0-9_]*$
bool isValidEnvName(std::string_view name);

// Paths in a node, compared by components: /etc/frr/daemons is under /etc/frr (and /etc/frr
// under itself), /etc/frrx is not.
bool isPathUnder(std::string_view path, std::string_view directory);

}  // namespace netlab::topo
