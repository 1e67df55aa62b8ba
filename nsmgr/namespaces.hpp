// Entering and naming namespaces.
#pragma once

#include <sched.h>
#include <sys/types.h>

#include <string>

#include "base/fd.hpp"

namespace netlab::nsmgr {

// /proc/PID/ns/TYPE, opened.
Fd openNamespace(pid_t pid, const char* type);

// Moves the calling thread (only) into a network namespace.
void enterNetworkNamespace(const Fd& netns, const std::string& what);

// Moves the calling thread into a new, empty network namespace of its own. netlab's worker
// threads keep their netlink sockets there: a request that forgot its target namespace lands in
// this throwaway namespace, never in the host's.
void enterScratchNetworkNamespace();

// Returns once the kernel has finished removing every network namespace (and its devices)
// whose last user is already gone.
void waitForNamespaceCleanup();

// Runs in a network namespace for its lifetime and restores the thread's own on destruction.
class NetworkNamespaceVisit {
 public:
  NetworkNamespaceVisit(const Fd& netns, const std::string& what);
  ~NetworkNamespaceVisit();
  NetworkNamespaceVisit(const NetworkNamespaceVisit&) = delete;
  NetworkNamespaceVisit& operator=(const NetworkNamespaceVisit&) = delete;

 private:
  Fd home_;
};

}  // namespace netlab::nsmgr
