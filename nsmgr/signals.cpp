#include "nsmgr/signals.hpp"

#include <string.h>

#include <string>

#include "base/error.hpp"

namespace netlab::nsmgr {

Interruption::Interruption() {
  sigemptyset(&held_);
  for (int signal : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&held_, signal);
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
    throw Error(std::string("interrupted by SIG") + sigabbrev_np(signal) +
                    "; everything built so far was removed",
                EINTR);
  }
}

}  // namespace netlab::nsmgr
