#include "nsmgr/namespaces.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

#include <thread>

#include "base/error.hpp"
#include "netlink/session.hpp"

namespace netlab::nsmgr {
namespace {

constexpr auto kCleanupTimeout = std::chrono::seconds(30);

}  // namespace

Fd openNamespace(pid_t pid, const char* type) {
  return openFile("/proc/" + std::to_string(pid) + "/ns/" + type, O_RDONLY);
}

void enterNetworkNamespace(const Fd& netns, const std::string& what) {
  if (::setns(netns.get(), CLONE_NEWNET) < 0) throw SystemError("setns", what + " CLONE_NEWNET");
}

void enterScratchNetworkNamespace() {
  if (::unshare(CLONE_NEWNET) < 0) throw SystemError("unshare", "CLONE_NEWNET");
}

NetworkNamespaceVisit::NetworkNamespaceVisit(const Fd& netns, const std::string& what)
    : home_(openFile("/proc/thread-self/ns/net", O_RDONLY)) {
  enterNetworkNamespace(netns, what);
}

NetworkNamespaceVisit::~NetworkNamespaceVisit() {
  // Going back to a namespace this thread was in cannot fail for lack of rights.
  ::setns(home_.get(), CLONE_NEWNET);
}

// Namespaces die asynchronously: the kernel queues a dead network namespace for an ordered
// cleanup worker. A probe namespace queued after the nodes' is cleaned after theirs, and its
// cleanup deletes a veth whose other end an observer namespace sees go: once that
// notification arrives, the nodes' devices are gone too.
void waitForNamespaceCleanup() {
  std::exception_ptr failure;
  std::thread probe([&] {
    try {
      enterScratchNetworkNamespace();
      Fd observer = openFile("/proc/thread-self/ns/net", O_RDONLY);
      netlink::Session session = netlink::Session::openInCurrentNamespace();
      session.subscribeLinkEvents();
      enterScratchNetworkNamespace();
      {
        Fd doomed = openFile("/proc/thread-self/ns/net", O_RDONLY);
        netlink::RequestBatch batch;
        netlink::LinkEnd inDoomed{"probe", 2, {}, 1500, doomed.get()};
        netlink::LinkEnd inObserver{"probe", 2, {}, 1500, observer.get()};
        batch.newVethPair(inDoomed, inObserver, "cleanup probe");
        session.execute(batch);
        enterNetworkNamespace(observer, "observer namespace");
      }
      if (!session.waitForLinkRemoval(2, kCleanupTimeout)) {
        throw Error("the kernel did not finish removing the lab's namespaces within 30 s");
      }
    } catch (...) {
      failure = std::current_exception();
    }
  });
  probe.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace netlab::nsmgr
