#include "nsmgr/signals.hpp"

#include <string.h>
#include <sys/resource.h>

#include <string>

#include "base/error.hpp"

namespace netlab::nsmgr {
namespace {

// Per node while building: pidfd, control socket and network namespace; plus netlab's own.
constexpr size_t kFdsPerNode = 3;
constexpr size_t kFdsReserved = 64;

}  // namespace

Interruption::Interruption() {
  sigemptyset(&held_);
  for (int signal : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&held_, signal);
  pthread_sigmask(SIG_BLOCK, &held_, &previous_);
}

Interruption::~Interruption() {
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

void raiseOpenFileLimit(size_t nodes) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) < 0) throw SystemError("getrlimit", "RLIMIT_NOFILE");
  rlim_t needed = nodes * kFdsPerNode + kFdsReserved;
  if (limit.rlim_cur >= needed) return;
  if (limit.rlim_max < needed) {
    throw Error("a lab of " + std::to_string(nodes) + " nodes needs about " +
                std::to_string(needed) + " open files, but the hard limit is " +
                std::to_string(limit.rlim_max) + " (raise it with `ulimit -Hn " +
                std::to_string(needed) + "`)");
  }
  limit.rlim_cur = limit.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &limit) < 0) throw SystemError("setrlimit", "RLIMIT_NOFILE");
}

}  // namespace netlab::nsmgr
