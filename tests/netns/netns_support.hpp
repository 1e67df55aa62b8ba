// Helpers for the root-tier tests.
#pragma once

#include <exception>
#include <thread>

namespace netlab::testing {

// Runs fn on a thread of its own: network namespaces are per thread, so a test may enter any
// of them without changing the test binary's own. An exception is rethrown here.
template <typename Fn>
void onOwnThread(Fn fn) {
  std::exception_ptr failure;
  std::thread thread([&] {
    try {
      fn();
    } catch (...) {
      failure = std::current_exception();
    }
  });
  thread.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace netlab::testing
