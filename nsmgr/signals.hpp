// Process-wide conditions of long work: interruption by the user, and the open-file limit.
#pragma once

#include <signal.h>

#include <cstddef>

namespace netlab::nsmgr {

// Holds SIGINT, SIGTERM and SIGHUP while it lives; check() turns one that arrived into an
// Error, so the work in progress unwinds (and rolls back) instead of dying half-done.
class Interruption {
 public:
  Interruption();
  ~Interruption();
  Interruption(const Interruption&) = delete;
  Interruption& operator=(const Interruption&) = delete;
  void check();

 private:
  sigset_t held_;
  sigset_t previous_;
};

// A lab holds a few fds per node while it is built: raises the soft limit to the hard one,
// and says clearly when even that is too low.
void raiseOpenFileLimit(size_t nodes);

}  // namespace netlab::nsmgr
