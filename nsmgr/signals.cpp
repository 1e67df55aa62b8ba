#include "nsmgr/signals.hpp"

#include <string>

#include "base/error.hpp"
#include "nsmgr/report.hpp"

namespace netlab::nsmgr {
namespace {

sigset_t interruptionSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  for (int signal : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&signals, signal);
  return signals;
}

}  // namespace

Interruption::Interruption() : held_(interruptionSignals()) {
  pthread_sigmask(SIG_BLOCK, &held_, &previous_);
}

Interruption::~Interruption() {
  timespec now{0, 0};
  while (sigtimedwait(&held_, nullptr, &now) > 0) {
  }
  pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
}

void Interruption::check() {
  timespec now{0, 0};
  int signal = sigtimedwait(&held_, nullptr, &now);
  if (signal > 0) {
    throw Error("interrupted by " + signalName(signal) + "; everything built so far was removed",
                EINTR);
  }
}

void holdInterruptionsUntilExit() {
  sigset_t held = interruptionSignals();
  pthread_sigmask(SIG_BLOCK, &held, nullptr);
}

}  // namespace netlab::nsmgr
