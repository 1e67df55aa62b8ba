#include "web/live_feed.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <vector>

#include "base/error.hpp"
#include "nsmgr/lab.hpp"
#include "nsmgr/link_control.hpp"
#include "topo/impairment_json.hpp"
#include "topo/units.hpp"

namespace netlab::web {
namespace {

using nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

// Packets and bits per second one end sent since the last reading; 0 on the first reading and
// when a counter went backwards (a device made again under the same name).
ordered_json sendRate(const nsmgr::InterfaceCounters& now, const nsmgr::InterfaceCounters* before,
                      double seconds) {
  double packets = 0, bits = 0;
  if (before && seconds > 0 && now.txPackets >= before->txPackets &&
      now.txBytes >= before->txBytes) {
    packets = static_cast<double>(now.txPackets - before->txPackets) / seconds;
    bits = static_cast<double>(now.txBytes - before->txBytes) * 8 / seconds;
  }
  return {{"packets_per_second", packets}, {"bits_per_second", bits}};
}

ordered_json endJson(const nsmgr::LinkEndReport& end) {
  return {{"node", end.node},
          {"interface", end.interface},
          {"oper_state", end.operState},
          {"egress", topo::impairmentToJson(end.egress)},
          {"egress_text", topo::describeImpairment(end.egress)},
          {"foreign_qdiscs", end.foreignQdiscs}};
}

std::string endName(const nsmgr::LinkEndReport& end) {
  return end.node + ":" + end.interface;
}

double unixSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

bool isRunning(const std::string& lab) {
  const std::vector<std::string> labs = nsmgr::listLabs();
  return std::find(labs.begin(), labs.end(), lab) != labs.end();
}

}  // namespace

LiveFeed::LiveFeed(std::chrono::milliseconds period)
    : period_(period), reader_([this] { run(); }) {}

LiveFeed::~LiveFeed() {
  stop();
  reader_.join();
}

void LiveFeed::stop() {
  std::lock_guard lock(mutex_);
  stopping_ = true;
  published_.notify_all();
  wake_.notify_all();
}

LiveFeed::Watch::Watch(LiveFeed& feed, std::string lab) : feed_(feed), lab_(std::move(lab)) {
  std::lock_guard lock(feed_.mutex_);
  if (feed_.labs_[lab_].watchers++ == 0) {
    feed_.readNow_ = true;
    feed_.wake_.notify_all();
  }
}

LiveFeed::Watch::~Watch() {
  std::lock_guard lock(feed_.mutex_);
  if (--feed_.labs_[lab_].watchers == 0) feed_.labs_.erase(lab_);
}

std::optional<LiveEvent> LiveFeed::Watch::next(uint64_t after, std::chrono::milliseconds timeout) {
  std::unique_lock lock(feed_.mutex_);
  const LiveEvent& latest = feed_.labs_[lab_].latest;  // the entry lives while this Watch does
  const bool arrived = feed_.published_.wait_for(lock, timeout, [&] {
    return feed_.stopping_ || (latest.sequence != 0 && latest.sequence > after);
  });
  if (!arrived || feed_.stopping_) return std::nullopt;
  return latest;
}

void LiveFeed::readNow() {
  std::lock_guard lock(mutex_);
  readNow_ = true;
  wake_.notify_all();
}

bool LiveFeed::Watch::stopped() const {
  std::lock_guard lock(feed_.mutex_);
  return feed_.stopping_;
}

void LiveFeed::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    const auto start = Clock::now();
    std::vector<std::string> watched;
    for (const auto& [lab, entry] : labs_) watched.push_back(lab);
    readNow_ = false;
    // Read without the lock: streams keep sending the previous events meanwhile.
    lock.unlock();
    std::vector<LiveEvent> events;
    for (const auto& lab : watched) events.push_back(read(lab, 0));
    lock.lock();
    for (size_t i = 0; i < watched.size(); ++i) {
      auto entry = labs_.find(watched[i]);
      if (entry == labs_.end()) continue;  // its last watcher left meanwhile
      events[i].sequence = ++sequence_;
      entry->second.latest = std::move(events[i]);
    }
    published_.notify_all();
    std::erase_if(lastReadings_, [&](const auto& reading) { return !labs_.count(reading.first); });
    wake_.wait_until(lock, start + period_, [&] { return stopping_ || readNow_; });
  }
}

LiveEvent LiveFeed::read(const std::string& lab, uint64_t sequence) {
  try {
    const nsmgr::LabStatus status = nsmgr::labStatus(lab);
    const std::vector<nsmgr::LinkReport> links = nsmgr::linkReports(lab);
    const auto now = Clock::now();
    LastReading& last = lastReadings_[lab];
    const double seconds = std::chrono::duration<double>(now - last.time).count();
    auto before = [&](const nsmgr::LinkEndReport& end) -> const nsmgr::InterfaceCounters* {
      auto found = last.counters.find(endName(end));
      return found == last.counters.end() ? nullptr : &found->second;
    };
    ordered_json nodes = ordered_json::array();
    for (const auto& node : status.nodes) {
      nodes.push_back({{"name", node.name},
                       {"kind", std::string(topo::toString(node.kind))},
                       {"state", nsmgr::stateName(node)}});
    }
    ordered_json linkList = ordered_json::array();
    std::map<std::string, nsmgr::InterfaceCounters> counters;
    for (const auto& link : links) {
      linkList.push_back({{"a", endJson(link.a)},
                          {"b", endJson(link.b)},
                          {"up", link.a.operState == "up" && link.b.operState == "up"},
                          {"a_to_b", sendRate(link.a.counters, before(link.a), seconds)},
                          {"b_to_a", sendRate(link.b.counters, before(link.b), seconds)}});
      counters[endName(link.a)] = link.a.counters;
      counters[endName(link.b)] = link.b.counters;
    }
    last = {now, std::move(counters)};
    ordered_json update = {
        {"lab", lab}, {"time", unixSeconds()}, {"nodes", nodes}, {"links", linkList}};
    return {sequence, "update",
            update.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
  } catch (const Error& error) {
    lastReadings_.erase(lab);
    if (!isRunning(lab)) {
      return {sequence, "gone",
              ordered_json{{"lab", lab}, {"reason", "lab `" + lab + "` is not running"}}.dump()};
    }
    return {sequence, "problem",
            ordered_json{{"lab", lab}, {"error", error.what()}}.dump(
                -1, ' ', false, nlohmann::json::error_handler_t::replace)};
  }
}

}  // namespace netlab::web
