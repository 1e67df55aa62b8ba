// Spreading kernel work over the cores: the kernel's own work dominates bring-up, so it pays to
// have every core issue it.
#pragma once

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace netlab::nsmgr {

inline size_t workerCount(size_t items) {
  size_t cores = std::max(1u, std::thread::hardware_concurrency());
  return std::max<size_t>(1, std::min(cores, items));
}

// Runs work(context, i) for i in [0, count) on `workers` threads, each with its own context made
// by makeContext() inside that thread (a netlink socket in the thread's namespace, say).
// Workers block every signal, so processes they clone start with signals blocked; the main
// thread never changes namespace. The first exception stops the others and is rethrown.
template <typename MakeContext, typename Work>
void parallelForOn(size_t workers, size_t count, MakeContext makeContext, Work work) {
  if (count == 0) return;
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr firstError;
  std::mutex errorMutex;
  auto worker = [&] {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, nullptr);
    try {
      auto context = makeContext();
      for (size_t i = next++; i < count && !failed; i = next++) work(context, i);
    } catch (...) {
      std::lock_guard lock(errorMutex);
      if (!firstError) firstError = std::current_exception();
      failed = true;
    }
  };
  std::vector<std::thread> threads;
  for (size_t t = 0; t < std::max<size_t>(1, std::min(workers, count)); ++t) {
    threads.emplace_back(worker);
  }
  for (auto& thread : threads) thread.join();
  if (firstError) std::rethrow_exception(firstError);
}

// Kernel work: a thread per core.
template <typename MakeContext, typename Work>
void parallelFor(size_t count, MakeContext makeContext, Work work) {
  parallelForOn(workerCount(count), count, makeContext, work);
}

// parallelForOn and parallelFor for work that needs no per-thread context.
template <typename Work>
void parallelForOn(size_t workers, size_t count, Work work) {
  parallelForOn(
      workers, count, [] { return 0; }, [&](int, size_t i) { work(i); });
}

template <typename Work>
void parallelFor(size_t count, Work work) {
  parallelForOn(workerCount(count), count, work);
}

}  // namespace netlab::nsmgr
