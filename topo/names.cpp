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

namespace {

// What a node's network namespace offers, read from /proc/sys/net in a network namespace owned
// by a user namespace other than the host's (as every node's is; Linux 6.18): each group below
// is per network namespace, but for the names listed after it. The kernel registers the
// host-wide ones in the host's namespace only, hides some tables from namespaces the host's
// user namespace does not own (neighbour defaults, most route tunables, xfrm), and makes a
// few read-only there. Names this misses still fail at `up`, with the kernel's answer.
constexpr std::string_view kPerNamespaceGroups[] = {"net.ipv4.",  "net.ipv6.",      "net.unix.",
                                                    "net.mptcp.", "net.netfilter.", "net.bridge."};
constexpr std::string_view kPerNamespaceCore[] = {"net.core.somaxconn", "net.core.optmem_max",
                                                  "net.core.txrehash", "net.core.tstamp_allow_data",
                                                  "net.core.rps_default_mask"};
// Host-wide: a name ending in `_` stands for every name it starts.
constexpr std::string_view kHostWide[] = {"net.ipv4.tcp_mem",
                                          "net.ipv4.udp_mem",
                                          "net.ipv4.tcp_max_orphans",
                                          "net.ipv4.tcp_low_latency",
                                          "net.ipv4.tcp_available_ulp",
                                          "net.ipv4.fib_sync_mem",
                                          "net.ipv4.ipfrag_secret_interval",
                                          "net.ipv4.inet_peer_",
                                          "net.ipv4.cipso_",
                                          "net.ipv6.mld_max_msf",
                                          "net.ipv6.mld_qrv",
                                          "net.ipv6.ip6frag_secret_interval",
                                          "net.ipv6.calipso_",
                                          "net.netfilter.nf_log_all_netns"};
constexpr std::string_view kReadOnly[] = {"net.core.rmem_default",
                                          "net.core.rmem_max",
                                          "net.core.wmem_default",
                                          "net.core.wmem_max",
                                          "net.ipv4.tcp_available_congestion_control",
                                          "net.ipv4.tcp_allowed_congestion_control",
                                          "net.ipv4.tcp_ehash_entries",
                                          "net.ipv4.udp_hash_entries",
                                          "net.mptcp.available_path_managers",
                                          "net.mptcp.available_schedulers",
                                          "net.netfilter.nf_conntrack_max",
                                          "net.netfilter.nf_conntrack_buckets",
                                          "net.netfilter.nf_conntrack_count",
                                          "net.netfilter.nf_conntrack_expect_max"};
// The route tunables a node's namespace keeps; the rest of net.ipv{4,6}.route is hidden.
constexpr std::string_view kNodeRouteTunables[] = {
    "net.ipv4.route.flush", "net.ipv4.route.min_adv_mss", "net.ipv4.route.min_pmtu",
    "net.ipv4.route.mtu_expires", "net.ipv6.route.max_size"};

constexpr std::string_view kPerNamespaceHint =
    "a node may set the sysctls of its own network namespace: net.ipv4.*, net.ipv6.* (but a "
    "few host-wide ones such as tcp_mem), net.core.somaxconn, optmem_max, txrehash, "
    "tstamp_allow_data and rps_default_mask, net.unix.*, net.mptcp.*, net.netfilter.* and "
    "net.bridge.*";

bool matches(std::string_view name, std::string_view entry) {
  return entry.ends_with('_') ? name.starts_with(entry) : name == entry;
}

template <size_t N>
bool listed(std::string_view name, const std::string_view (&entries)[N]) {
  return std::any_of(std::begin(entries), std::end(entries),
                     [&](std::string_view entry) { return matches(name, entry); });
}

// net.ipv4.conf.<device>.mc_forwarding: the kernel sets it for a multicast routing daemon.
bool isMcForwarding(std::string_view name) {
  return (name.starts_with("net.ipv4.conf.") || name.starts_with("net.ipv6.conf.")) &&
         name.ends_with(".mc_forwarding");
}

// neigh.default.* and most route.* exist only in namespaces the host's user namespace owns.
bool hiddenInNode(std::string_view name) {
  if (name.starts_with("net.ipv4.neigh.default.") || name.starts_with("net.ipv6.neigh.default."))
    return true;
  if (name.starts_with("net.ipv4.route.") || name.starts_with("net.ipv6.route."))
    return !listed(name, kNodeRouteTunables);
  return name.starts_with("net.core.xfrm_");
}

}  // namespace

std::optional<SysctlRefusal> sysctlScopeProblem(std::string_view name) {
  const std::string quoted = excerpt(name);
  if (listed(name, kReadOnly) || isMcForwarding(name)) {
    return SysctlRefusal{
        fmt::format("`{}` is read-only in a node's network namespace", quoted),
        "the kernel lets only namespaces of the host's user namespace change it (every node "
        "has a user namespace of its own); set it on the host if the lab needs it"};
  }
  if (hiddenInNode(name)) {
    return SysctlRefusal{
        fmt::format("`{}` does not exist in a node's network namespace", quoted),
        "the kernel shows it only to namespaces of the host's user namespace (every node has a "
        "user namespace of its own); per-device neighbour settings "
        "(net.ipv4.neigh.eth0.*) are the node's"};
  }
  const bool inKnownGroup =
      std::any_of(std::begin(kPerNamespaceGroups), std::end(kPerNamespaceGroups),
                  [&](std::string_view group) { return name.starts_with(group); });
  if ((inKnownGroup || listed(name, kPerNamespaceCore)) && !listed(name, kHostWide)) {
    return std::nullopt;
  }
  if (inKnownGroup || name.starts_with("net.core.") || name == "net.nf_conntrack_max") {
    return SysctlRefusal{
        fmt::format("`{}` is host-wide, not the node's: setting it would change the host", quoted),
        std::string(kPerNamespaceHint)};
  }
  return SysctlRefusal{
      fmt::format("`{}` is not in a group netlab knows to be per network namespace", quoted),
      std::string(kPerNamespaceHint)};
}

bool isValidEnvName(std::string_view name) {
  return !name.empty() && (isAsciiLetter(name[0]) || name[0] == '_') &&
         std::all_of(name.begin(), name.end(),
                     [](char c) { return isAsciiLetter(c) || isAsciiDigit(c) || c == '_'; });
}

bool isPathUnder(std::string_view path, std::string_view directory) {
  return path == directory || (path.starts_with(directory) && path.size() > directory.size() &&
                               path[directory.size()] == '/');
}

}  // namespace netlab::topo
