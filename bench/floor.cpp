// netlab-floor: the kernel floor of a lab (bench/README.md). It does a lab's raw kernel work and
// nothing else, so the benchmark can say what netlab itself adds: every node a process in all
// six namespaces (user, mapped as netlab maps it; network, mount, PID, UTS, IPC), the switches'
// bridges, the veth pairs born in their namespaces, then inside each node the requests netlab
// sends (links up, addresses, routes), with IPv4 forwarding set per link on routers where
// netlab writes their sysctls. Two workers, as netlab. No mounts, no init program, no state on
// disk, no wait for carrier.
//
// With the lab built it prints one line, {"up": seconds, "phases": {"start nodes": seconds, ...},
// "pids": {"node": pid, ...}}, then waits for a line (or end of file) on stdin and removes the
// lab as `netlab down` does: it ends the nodes, whose namespaces take every link with them, and
// waits for the kernel to finish removing those namespaces.
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "base/phase_timings.hpp"
#include "netlink/session.hpp"
#include "nsmgr/namespaces.hpp"
#include "nsmgr/node_process.hpp"
#include "nsmgr/parallel.hpp"
#include "nsmgr/process.hpp"
#include "nsmgr/wiring.hpp"
#include "topo/load.hpp"

namespace netlab::floor {
namespace {

using nsmgr::ChildProcess;

constexpr int kSixNamespaces =
    CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC;
constexpr size_t kStackBytes = 16 * 1024;

struct FloorNode {
  std::unique_ptr<std::byte[]> stack;  // first, so it is freed after the node is reaped
  ChildProcess process;
  Fd netns;
};

int awaitKill(void*) noexcept {
  for (;;) ::pause();
}

// A process sharing the floor's memory does no more than wait to be killed: cloning it costs
// only its namespaces.
FloorNode startNode(const topo::Node& node) {
  FloorNode started;
  started.stack = std::make_unique<std::byte[]>(kStackBytes);
  pid_t pid = ::clone(awaitKill, started.stack.get() + kStackBytes,
                      kSixNamespaces | CLONE_VM | SIGCHLD, nullptr);
  if (pid < 0) throw SystemError("clone", "node " + node.name);
  started.process = ChildProcess(pid, Fd());
  nsmgr::writeIdMaps(pid, node.isolatedIds);
  started.netns = nsmgr::openNamespace(pid, "net");
  return started;
}

bool forwardsIpv4(const topo::Node& node) {
  for (const auto& [name, value] : node.sysctls) {
    if (name == "net.ipv4.ip_forward" && value == "1") return true;
  }
  return false;
}

netlink::Session scratchSession() {
  nsmgr::enterScratchNetworkNamespace();
  return netlink::Session::openInCurrentNamespace();
}

class FloorLab {
 public:
  explicit FloorLab(const topo::Plan& plan)
      : plan_(plan), wiring_(plan), nodes_(plan.nodes.size()) {}

  // Timed in netlab's names for the same phases, so the benchmark can set them side by side.
  void build(PhaseTimings& timings) {
    startNodes();
    timings.phaseDone("start nodes");
    createLinks();
    timings.phaseDone("create links");
    configureNodes();
    timings.phaseDone("configure nodes");
  }

  // Kills the nodes, whose namespaces take every link with them, then waits as `netlab down`
  // does for the kernel to finish removing those namespaces.
  void remove() {
    nodes_.clear();
    nsmgr::waitForNamespaceCleanup();
  }

  std::string pidsAsJson() const {
    std::string json;
    for (size_t i = 0; i < nodes_.size(); ++i) {
      // Node names are validated: letters, digits, '-', '_' and '.', nothing to escape.
      json += (i ? ", \"" : "\"") + plan_.nodes[i].name +
              "\": " + std::to_string(nodes_[i].process.pid());
    }
    return "{" + json + "}";
  }

 private:
  void startNodes() {
    nsmgr::parallelFor(plan_.nodes.size(), scratchSession,
                       [&](netlink::Session& session, size_t i) {
                         nodes_[i] = startNode(plan_.nodes[i]);
                         if (plan_.nodes[i].kind == topo::NodeKind::Switch) {
                           session.execute(wiring_.bridgeCreation(i, nodes_[i].netns.get()));
                         }
                       });
  }

  void createLinks() {
    size_t pairs = wiring_.vethPairs().size();
    size_t chunks = (pairs + nsmgr::kVethPairsPerBatch - 1) / nsmgr::kVethPairsPerBatch;
    auto netnsOf = [&](size_t node) { return nodes_[node].netns.get(); };
    nsmgr::parallelFor(chunks, scratchSession, [&](netlink::Session& session, size_t chunk) {
      size_t first = chunk * nsmgr::kVethPairsPerBatch;
      size_t end = std::min(pairs, first + nsmgr::kVethPairsPerBatch);
      session.execute(wiring_.vethPairCreation(first, end, netnsOf));
    });
  }

  void configureNodes() {
    nsmgr::parallelFor(plan_.nodes.size(), [&](size_t i) {
      const topo::Node& node = plan_.nodes[i];
      nsmgr::enterNetworkNamespace(nodes_[i].netns, "node " + node.name);
      netlink::RequestBatch batch = wiring_.nodeConfiguration(i);
      if (forwardsIpv4(node)) {
        for (size_t k = 0; k < node.interfaces.size(); ++k) {
          batch.setIpv4Forwarding(wiring_.ifindexOf({i, k}), true,
                                  node.name + ":" + node.interfaces[k].name + " forwarding");
        }
      }
      netlink::Session::openInCurrentNamespace().execute(batch);
    });
  }

  const topo::Plan& plan_;
  nsmgr::Wiring wiring_;
  std::vector<FloorNode> nodes_;
};

// Phase names are netlab's own words: nothing to escape.
std::string phasesAsJson(const PhaseTimings& timings) {
  std::string json;
  for (const auto& [phase, seconds] : timings.phases()) {
    json += (json.empty() ? "\"" : ", \"") + phase + "\": " + std::to_string(seconds);
  }
  return "{" + json + "}";
}

int run(const char* topologyPath) {
  topo::LoadResult loaded = topo::loadTopologyFile(topologyPath);
  for (const auto& diagnostic : loaded.diagnostics) {
    std::cerr << topo::formatDiagnostic(diagnostic, topologyPath) << '\n';
  }
  if (!loaded.ok()) return 2;
  auto start = std::chrono::steady_clock::now();
  PhaseTimings timings;
  FloorLab lab(*loaded.plan);
  lab.build(timings);
  std::chrono::duration<double> up = std::chrono::steady_clock::now() - start;
  std::cout << "{\"up\": " << up.count() << ", \"phases\": " << phasesAsJson(timings)
            << ", \"pids\": " << lab.pidsAsJson() << "}" << std::endl;
  std::string line;
  std::getline(std::cin, line);
  lab.remove();
  return 0;
}

}  // namespace
}  // namespace netlab::floor

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: netlab-floor TOPOLOGY.json  (see bench/README.md)\n";
    return 2;
  }
  try {
    return netlab::floor::run(argv[1]);
  } catch (const netlab::Error& error) {
    std::cerr << "netlab-floor: " << error.what() << '\n';
    return 1;
  }
}
