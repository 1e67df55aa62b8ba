// Interruption of long work by the user.
#pragma once

#include <signal.h>

namespace netlab::nsmgr {

// Holds SIGINT, SIGTERM and SIGHUP while it lives; check() turns one that arrived into an
// Error, so the work in progress unwinds (and rolls back) instead of dying half-done. One that
// arrives after the last check is dropped: the work is complete by then, and dying on it would
// leave that work behind unreported.
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

// Holds the signals Interruption takes for the rest of the calling thread's life, which must
// be the process's: for a command whose work, once complete, must end in its report rather than
// in death by a late Ctrl-C.
void holdInterruptionsUntilExit();

}  // namespace netlab::nsmgr
