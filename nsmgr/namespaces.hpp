// Entering and naming namespaces.
#pragma once

#include <sched.h>
#include <sys/types.h>

#include <string>

#include "base/fd.hpp"

namespace netlab::nsmgr {

// Every node lives in all of these; the user namespace, created first by the same clone,
// owns the others.
inline constexpr int kNodeNamespaces = CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWNS |
                                       CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWCGROUP;

// Takes uid 0, gid 0 and no supplementary groups in the user namespace the caller has just
// created or joined. Neither changes a process's host ids, which an isolated node's namespace
// does not map: without this, its root would run as `nobody` and, on the host, still be root.
// Raw system calls: glibc's wrappers change the ids of every thread of the process, and a
// node shares netlab's memory, thread list included, until it execs. Returns the failed call
// (its errno in errno), or nullptr.
const char* becomeNamespaceRoot() noexcept;

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
