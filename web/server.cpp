#include "web/server.hpp"

#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <httplib.h>

#include <atomic>
#include <thread>

#include "base/error.hpp"
#include "base/fd.hpp"
#include "web/api.hpp"
#include "web/live_feed.hpp"

namespace netlab::web {
namespace {

// Each stream holds one worker for as long as its client reads it; the rest answer requests.
constexpr size_t kWorkers = 32;

std::string urlOf(const ListenAddress& address, uint16_t port) {
  const bool v6 = address.host.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + address.host + "]" : address.host) + ":" + std::to_string(port) +
         "/";
}

// The signals that stop the server, blocked in every thread (the workers inherit the mask) and
// taken by the serving thread alone, with sigtimedwait.
class StopSignals {
 public:
  StopSignals() {
    sigemptyset(&set_);
    for (int signal : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&set_, signal);
    pthread_sigmask(SIG_BLOCK, &set_, &previous_);
  }
  ~StopSignals() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // True when a stop signal arrived within the timeout.
  bool wait(std::chrono::milliseconds timeout) const {
    const timespec span{static_cast<time_t>(timeout.count() / 1000),
                        static_cast<long>(timeout.count() % 1000) * 1'000'000};
    return sigtimedwait(&set_, nullptr, &span) > 0;
  }

 private:
  sigset_t set_;
  sigset_t previous_;
};

}  // namespace

void serve(const ServerOptions& options,
           const std::function<void(const std::string& url)>& onListening) {
  StopSignals signals;  // before any thread starts, so none of them takes a stop signal
  httplib::Server server;
  server.new_task_queue = [] { return new httplib::ThreadPool(kWorkers); };
  const ListenAddress& listen = options.listen;
  const int port = listen.port == 0
                       ? server.bind_to_any_port(listen.host)
                       : (server.bind_to_port(listen.host, listen.port) ? listen.port : -1);
  if (port <= 0) {
    throw Error("netlab web cannot listen on " + urlOf(listen, listen.port) +
                    " (in use, or not an address of this machine)",
                EADDRNOTAVAIL);
  }
  LiveFeed feed(options.period);
  Fd stopping(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!stopping) throw SystemError("eventfd", "netlab web's stop");
  addRoutes(server, feed, {listen, static_cast<uint16_t>(port), options.control, stopping.get()});
  std::atomic<bool> serving = true;
  std::thread worker([&] {
    server.listen_after_bind();
    serving = false;
  });
  onListening(urlOf(listen, static_cast<uint16_t>(port)));
  while (serving && !signals.wait(std::chrono::milliseconds(250))) {
  }
  // The server first, so that the streams the feed then wakes see it stopping and end; the
  // captures being downloaded end when `stopping` becomes readable.
  server.stop();
  // Adding 1 to a fresh eventfd's counter cannot fail, and nothing here may throw before the
  // worker is joined.
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t written = ::write(stopping.get(), &one, sizeof one);
  feed.stop();
  worker.join();
}

}  // namespace netlab::web
