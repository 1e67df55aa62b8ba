// The live state of the labs someone watches: every period, one thread reads each watched lab
// (its nodes, and every link's state, counters and impairments) and publishes an event that
// every stream of that lab sends on. Labs nobody watches are not read, so an idle server costs
// nothing, and a lab costs one reading per period however many clients watch it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "nsmgr/report.hpp"

namespace netlab::web {

// One event of a lab's stream: `update` (data: the lab's live state, docs/web.md), `gone` (the
// lab is not running: the last event), or `problem` (this reading failed; the next may not).
struct LiveEvent {
  uint64_t sequence = 0;  // increases with every event of the feed
  std::string name;
  std::string data;  // one line of JSON
};

class LiveFeed {
 public:
  explicit LiveFeed(std::chrono::milliseconds period);
  ~LiveFeed();
  LiveFeed(const LiveFeed&) = delete;
  LiveFeed& operator=(const LiveFeed&) = delete;

  // Keeps a lab read while it lives.
  class Watch {
   public:
    Watch(LiveFeed& feed, std::string lab);
    ~Watch();
    Watch(const Watch&) = delete;
    Watch& operator=(const Watch&) = delete;
    // The lab's next event after `after` (0: its latest), waiting up to `timeout`; nullopt on
    // timeout or when the feed stops.
    std::optional<LiveEvent> next(uint64_t after, std::chrono::milliseconds timeout);
    bool stopped() const;

   private:
    LiveFeed& feed_;
    std::string lab_;
  };

  // Reads the watched labs now rather than at the period's end: after a change made through
  // the server, so its page shows it at once.
  void readNow();

  // Wakes every waiting stream and ends the reading thread.
  void stop();

 private:
  struct WatchedLab {
    size_t watchers = 0;
    LiveEvent latest;
  };
  // The reading thread's own memory of each lab's last counters, for rates.
  struct LastReading {
    std::chrono::steady_clock::time_point time;
    std::map<std::string, nsmgr::InterfaceCounters> counters;  // by "node:interface"
  };

  void run();
  LiveEvent read(const std::string& lab, uint64_t sequence);

  const std::chrono::milliseconds period_;
  std::mutex mutex_;
  std::condition_variable published_;  // streams wait for events
  std::condition_variable wake_;       // the reader waits for its period or a new lab
  std::map<std::string, WatchedLab> labs_;
  uint64_t sequence_ = 0;
  bool stopping_ = false;
  // A lab watched for the first time, or a change made through the server: read now.
  bool readNow_ = false;
  std::map<std::string, LastReading> lastReadings_;  // the reading thread's alone
  std::thread reader_;
};

}  // namespace netlab::web
