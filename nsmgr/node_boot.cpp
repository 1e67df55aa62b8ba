#include "nsmgr/node_boot.hpp"

#include <fcntl.h>
#include <linux/if.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "base/error.hpp"
#include "nsmgr/lab.hpp"
#include "nsmgr/process.hpp"
#include "nsmgr/rootless.hpp"
#include "nsmgr/run_in_node.hpp"

namespace netlab::nsmgr {
namespace {

constexpr size_t kLogTailLines = 10;
constexpr auto kCarrierTimeout = std::chrono::seconds(10);

// A node's /proc/sys, as its init mounted it. Its sysctls are written through it rather than
// through netlab's /proc: there, each sysctl file would have one dentry per node's namespace on
// a single hash chain, which every lookup walks, so a lab would cost the square of its size.
std::string procSysOf(pid_t node) {
  return "/proc/" + std::to_string(node) + "/root/proc/sys/";
}

// Writes <procSys>/<relative> for the calling thread's network namespace.
void writeProcSys(const std::string& procSys, const std::string& relative,
                  const std::string& value) {
  std::string path = procSys + relative;
  withContext("writing " + value + " to " + path, [&] { writeWholeFile(path, value); });
}

void writeSysctl(const std::string& procSys, const std::string& name, const std::string& value) {
  std::string relative = name;
  std::replace(relative.begin(), relative.end(), '.', '/');
  withContext("sysctl " + name + "=" + value, [&] { writeProcSys(procSys, relative, value); });
}

// No IPv6 address waits for duplicate address detection, link-locals included: addresses
// in a lab are unique by validation. The kernel skips it only where both `all` and the
// device say so; only nodes with IPv6 links pay for the writes.
void disableDuplicateAddressDetection(const topo::Node& node, bool carriesIpv6,
                                      const std::string& procSys) {
  if (!carriesIpv6) return;
  writeProcSys(procSys, "net/ipv6/conf/all/accept_dad", "0");
  for (const auto& interface : node.interfaces) {
    writeProcSys(procSys, "net/ipv6/conf/" + interface.name + "/accept_dad", "0");
  }
}

// Every group may open ICMP datagram sockets, as systemd's distributions set it: `ping` works
// for any user of a node, and netlab's own reachability checks (nsmgr/icmp_probe) need no
// raw socket. Switches probe nothing. The kernel reads the range in the writer's user namespace
// and refuses ids it does not map: a rootless lab's maps labIdCount() ids (nsmgr/rootless.hpp).
void allowUnprivilegedPing(const topo::Node& node, const std::string& procSys) {
  if (node.kind == topo::NodeKind::Switch) return;
  writeProcSys(procSys, "net/ipv4/ping_group_range",
               rootless() ? "0 " + std::to_string(labIdCount() - 1) : "0 2147483647");
}

// The links of the namespace that are not operationally up yet, named for a message.
std::string linksNotUp(netlink::Session& session, const std::function<bool(uint32_t)>& awaited) {
  std::string down;
  for (const auto& dumped : session.dumpLinks()) {
    // A bridge forwards between its ports whatever its own operational state, which the
    // link watcher may take a second to update: only the veths are waited for.
    if (dumped.kind != "veth" || dumped.operState == IF_OPER_UP || !awaited(dumped.ifindex)) {
      continue;
    }
    // The link watcher works through 100 to 200 links a run, and leaves the rest for a run up
    // to a second later: asked for alone, a link has its carrier change applied at once (a bridge
    // port starts forwarding, a veth gets its queue), so a large lab waits for no second.
    const std::optional<netlink::LinkInfo> link = session.getLink(dumped.ifindex);
    if (!link || link->operState == IF_OPER_UP) continue;
    down += (down.empty() ? "" : ", ") + link->name + " (" +
            netlink::operStateName(link->operState) + ")";
  }
  return down;
}

std::string lastLines(const std::string& text, size_t count) {
  size_t position = text.size();
  if (position > 0 && text[position - 1] == '\n') --position;
  for (size_t lines = 0; position > 0; --position) {
    if (text[position - 1] == '\n' && ++lines == count) break;
  }
  return text.substr(position);
}

void runStartupCommand(const LabDirectory& directory, const topo::Plan& plan,
                       const topo::Node& node, int initPidfd,
                       const std::vector<std::string>& procsFiles, const std::string& command) {
  std::string logName = "nodes/" + node.name + "/log";
  Fd log = openFile(directory.pathOf(logName), O_WRONLY | O_CREAT | O_APPEND, 0600);
  // The node's earlier commands wrote to the same log: only what follows is this one's.
  const off_t before = ::lseek(log.get(), 0, SEEK_END);
  if (before < 0) throw SystemError("lseek", directory.pathOf(logName));
  Fd devNull = openFile("/dev/null", O_RDONLY);
  PreparedCommand prepared({{"/bin/sh", "-c", command},
                            nodeEnvironment(plan.name, node),
                            "/",
                            devNull.get(),
                            log.get(),
                            log.get()});
  prepared.joinCgroups(procsFiles);
  pid_t helper = spawnInNode(initPidfd, prepared, node.name);
  int status = waitForChild(helper);
  if (exitCodeOf(status) == 0) return;
  std::string output = directory.readFile(logName).value_or("");
  output.erase(0, std::min(output.size(), static_cast<size_t>(before)));
  throw Error("node " + node.name + ": startup command `" + command + "` exited with status " +
              std::to_string(exitCodeOf(status)) +
              (output.empty() ? " (no output)"
                              : "; its output ends with:\n" + lastLines(output, kLogTailLines)));
}

}  // namespace

void writeNodeSysctls(const topo::Plan& plan, const Wiring& wiring, size_t i, pid_t init) {
  const topo::Node& node = plan.nodes[i];
  std::string procSys = procSysOf(init);
  disableDuplicateAddressDetection(node, wiring.carriesIpv6(i), procSys);
  allowUnprivilegedPing(node, procSys);
  for (const auto& [name, value] : node.sysctls) writeSysctl(procSys, name, value);
}

void writeInterfaceSysctls(const topo::Plan& plan, const Wiring& wiring, const InterfaceRef& ref,
                           pid_t init) {
  const topo::Node& node = plan.nodes[ref.node];
  const topo::Interface& interface = node.interfaces[ref.interface];
  std::string procSys = procSysOf(init);
  if (wiring.carriesIpv6(ref.node)) {
    writeProcSys(procSys, "net/ipv6/conf/" + interface.name + "/accept_dad", "0");
  }
  for (const auto& [name, value] : node.sysctls) {
    if (name.find("." + interface.name + ".") != std::string::npos) {
      writeSysctl(procSys, name, value);
    }
  }
}

// A link carries traffic once the kernel's link watcher has seen its carrier and given it a
// queue (until then it drops what it is handed); veth events are urgent for the watcher, and
// linksNotUp asks for the links it has not reached yet, so this takes moments.
void awaitLinksUp(netlink::Session& session, const std::function<bool(uint32_t)>& awaited) {
  auto deadline = std::chrono::steady_clock::now() + kCarrierTimeout;
  for (std::string down = linksNotUp(session, awaited); !down.empty();
       down = linksNotUp(session, awaited)) {
    if (std::chrono::steady_clock::now() > deadline) throw Error(down + " did not come up");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void runStartupCommands(const LabDirectory& directory, const topo::Plan& plan, size_t i,
                        int initPidfd, const std::vector<std::string>& procsFiles) {
  for (const auto& command : plan.nodes[i].exec) {
    runStartupCommand(directory, plan, plan.nodes[i], initPidfd, procsFiles, command);
  }
}

}  // namespace netlab::nsmgr
