// Reading running labs: recorded state, live status from the kernel, nodes found by identity.
#include <fcntl.h>
#include <linux/rtnetlink.h>

#include <algorithm>
#include <map>

#include "base/error.hpp"
#include "netlink/session.hpp"
#include "nsmgr/cgroups.hpp"
#include "nsmgr/lab.hpp"
#include "nsmgr/lab_dir.hpp"
#include "nsmgr/lab_state.hpp"
#include "nsmgr/namespaces.hpp"
#include "nsmgr/node_keeper.hpp"
#include "nsmgr/node_record.hpp"
#include "nsmgr/process.hpp"
#include "nsmgr/state_file.hpp"

namespace netlab::nsmgr {
namespace {

std::vector<nsmgr::InterfaceStatus> readInterfaces(const Fd& pidfd, const std::string& node) {
  NetworkNamespaceVisit visit(pidfd, "node " + node);
  netlink::Session session = netlink::Session::openInCurrentNamespace();
  std::map<uint32_t, nsmgr::InterfaceStatus> byIndex;
  for (const auto& link : session.dumpLinks()) {
    nsmgr::InterfaceStatus& status = byIndex[link.ifindex];
    status.name = link.name;
    status.operState = netlink::operStateName(link.operState);
    status.mtu = link.mtu;
    if (link.mac) status.mac = toString(*link.mac);
  }
  for (const auto& address : session.dumpAddresses()) {
    auto found = byIndex.find(address.ifindex);
    if (found != byIndex.end()) found->second.addresses.push_back(toString(address.address));
  }
  std::vector<nsmgr::InterfaceStatus> interfaces;
  for (auto& [index, status] : byIndex) interfaces.push_back(std::move(status));
  return interfaces;
}

// A node whose init has ended, with how, if its keeper recorded it.
nsmgr::NodeStatus exited(const LabDirectory& directory, nsmgr::NodeStatus status) {
  status.exit = recordedExit(directory, status.pid).value_or(InitExit{});
  return status;
}

// The names `ip route` prints for rtm_protocol (iproute2's rt_protos).
std::string protocolName(uint8_t protocol) {
  static const std::map<uint8_t, std::string> kNames = {
      {RTPROT_REDIRECT, "redirect"}, {RTPROT_KERNEL, "kernel"}, {RTPROT_BOOT, "boot"},
      {RTPROT_STATIC, "static"},     {RTPROT_RA, "ra"},         {RTPROT_DHCP, "dhcp"},
      {RTPROT_ZEBRA, "zebra"},       {RTPROT_BIRD, "bird"},     {RTPROT_BGP, "bgp"},
      {RTPROT_ISIS, "isis"},         {RTPROT_OSPF, "ospf"},     {RTPROT_RIP, "rip"},
      {RTPROT_EIGRP, "eigrp"}};
  auto name = kNames.find(protocol);
  return name == kNames.end() ? std::to_string(protocol) : name->second;
}

nsmgr::NodeStatus nodeStatus(const LabDirectory& directory, const topo::Node& node,
                             const nsmgr::NodeRuntime& runtime, StatusDetail detail) {
  nsmgr::NodeStatus status;
  status.name = node.name;
  status.kind = node.kind;
  status.pid = runtime.pid;
  status.stopped = runtime.pid == 0;
  if (status.stopped) return status;
  auto pidfd = openProcess(runtime.pid, runtime.startTime);
  if (!pidfd) return exited(directory, std::move(status));
  if (detail == StatusDetail::Summary) {
    status.running = true;
    return status;
  }
  try {
    // Entered through its pidfd, so the namespace is the node's even if its pid is reused.
    status.interfaces = readInterfaces(*pidfd, node.name);
  } catch (const SystemError& error) {
    if (error.errnoValue() != ESRCH) throw;
    // it ended between being found and being entered
    return exited(directory, std::move(status));
  }
  status.running = true;
  for (auto& interface : status.interfaces) {
    for (const auto& planned : node.interfaces) {
      if (planned.name == interface.name) interface.egress = planned.egress;
    }
  }
  return status;
}

Fd openNodeProcess(const std::string& lab, const std::string& node, pid_t pid, uint64_t startTime) {
  if (pid == 0) {
    throw Error("node `" + node + "` of lab `" + lab + "` is stopped (`netlab node start " + node +
                    "` starts it)",
                ESRCH);
  }
  auto pidfd = openProcess(pid, startTime);
  if (!pidfd) {
    throw Error("node `" + node + "` of lab `" + lab + "` is not running (its init, pid " +
                    std::to_string(pid) + ", is gone)",
                ESRCH);
  }
  return std::move(*pidfd);
}

}  // namespace

std::vector<std::string> listLabs() {
  return listLabDirectories();
}

nsmgr::LabStatus labStatus(const std::string& lab, StatusDetail detail) {
  const LabDirectory directory = openRunningLab(lab, LabDirectory::Lock::Shared);
  nsmgr::LabState state = readStateFile(directory, lab);
  nsmgr::LabStatus status;
  status.name = state.plan.name;
  status.sourceFile = state.plan.sourceFile;
  status.createdUnixSeconds = state.createdUnixSeconds;
  for (const auto& runtime : state.nodes) {
    const topo::Node* node = state.plan.findNode(runtime.name);
    if (node) status.nodes.push_back(nodeStatus(directory, *node, runtime, detail));
  }
  std::vector<std::string> names;
  for (const auto& node : status.nodes) names.push_back(node.name);
  std::vector<NodeUsage> usages = nodeUsages(directory, names);
  for (size_t i = 0; i < status.nodes.size(); ++i) status.nodes[i].usage = usages[i];
  return status;
}

std::vector<nsmgr::RouteStatus> nodeRoutes(const std::string& lab, const std::string& node) {
  NodeHandle handle = openNode(lab, node);
  NetworkNamespaceVisit visit(handle.pidfd, "node " + node);
  netlink::Session session = netlink::Session::openInCurrentNamespace();
  std::map<uint32_t, std::string> names;
  for (const auto& link : session.dumpLinks()) names[link.ifindex] = link.name;
  std::vector<nsmgr::RouteStatus> routes;
  for (const auto& route : session.dumpRoutes()) {
    nsmgr::RouteStatus& status = routes.emplace_back();
    status.destination = toString(route.destination);
    status.protocol = protocolName(route.protocol);
    for (const auto& hop : route.nextHops) {
      auto name = names.find(hop.oifindex);
      status.nextHops.push_back(
          {hop.gateway ? toString(*hop.gateway) : "", name == names.end() ? "" : name->second});
    }
  }
  return routes;
}

std::vector<std::string> nodeEnvironment(const std::string& lab, const topo::Node& node) {
  std::vector<std::string> env = {
      std::string("PATH=") + topo::kNodePath,
      "HOME=/root",
      "NETLAB_LAB=" + lab,
      "NETLAB_NODE=" + node.name,
  };
  for (const auto& [name, value] : node.env) env.push_back(name + "=" + value);
  return env;
}

NodeHandle openNode(const nsmgr::LabState& state, const std::string& name) {
  const topo::Node* node = state.plan.findNode(name);
  auto runtime = std::find_if(state.nodes.begin(), state.nodes.end(),
                              [&](const auto& entry) { return entry.name == name; });
  if (!node || runtime == state.nodes.end()) {
    throw Error("lab `" + state.plan.name + "` has no node `" + name + "`", ENOENT);
  }
  return {name, openNodeProcess(state.plan.name, name, runtime->pid, runtime->startTime),
          runtime->pid, nodeEnvironment(state.plan.name, *node)};
}

NodeHandle openNode(const std::string& lab, const std::string& name) {
  const LabDirectory directory = openRunningLab(lab, LabDirectory::Lock::Shared);
  bool isName = !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos;
  auto record = isName ? readNodeRecord(directory, name) : std::nullopt;
  if (!record) throw Error("lab `" + lab + "` has no running node `" + name + "`", ENOENT);
  return {name, openNodeProcess(lab, name, record->pid, record->startTime), record->pid,
          std::move(record->env)};
}

}  // namespace netlab::nsmgr
