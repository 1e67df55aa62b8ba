#include "capture/capture.hpp"

#include <fnmatch.h>
#include <linux/if_packet.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <ctime>
#include <string_view>

#include "base/error.hpp"
#include "nsmgr/lab.hpp"
#include "nsmgr/limits.hpp"
#include "nsmgr/namespaces.hpp"

namespace netlab::capture {
namespace {

// Packets wait this long for any earlier one still on its way from another interface before
// they are handed on: the interfaces' sockets are read one after another, so without it a
// packet read from the second could overtake an earlier one still in the first's buffer.
constexpr std::chrono::milliseconds kMergeWindow{20};
constexpr std::chrono::seconds kTickInterval{1};
// The kernel's buffer per interface: tcpdump's 2 MiB for a few, less each for many (a thousand
// interfaces at 2 MiB would take 2 GiB), never below what holds a burst of full frames.
constexpr size_t kBufferBudgetBytes = 64 << 20;
constexpr size_t kMinBufferBytes = 64 << 10;
constexpr size_t kMaxBufferBytes = 2 << 20;

struct PcapCloser {
  void operator()(pcap_t* handle) const { pcap_close(handle); }
};
using PcapHandle = std::unique_ptr<pcap_t, PcapCloser>;

// A filter compiled for a handle, freed with it.
class CompiledFilter {
 public:
  CompiledFilter(pcap_t* handle, const std::string& filter) {
    const std::string expression = expandFilterAliases(filter);
    if (pcap_compile(handle, &program_, expression.c_str(), 1, PCAP_NETMASK_UNKNOWN) < 0) {
      throw Error("capture filter `" + filter + "`: " + pcap_geterr(handle), EINVAL);
    }
  }
  ~CompiledFilter() { pcap_freecode(&program_); }
  CompiledFilter(const CompiledFilter&) = delete;
  CompiledFilter& operator=(const CompiledFilter&) = delete;
  bpf_program* get() { return &program_; }

 private:
  bpf_program program_{};
};

int errnoOfStatus(int status) {
  switch (status) {
    case PCAP_ERROR_PERM_DENIED:
      return EPERM;
    case PCAP_ERROR_NO_SUCH_DEVICE:
      return ENODEV;
    case PCAP_ERROR_IFACE_NOT_UP:
      return ENETDOWN;
    default:
      return EIO;
  }
}

std::pair<std::string, std::string> splitEnd(const std::string& end) {
  const size_t colon = end.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == end.size()) {
    throw Error("`" + end +
                    "` does not name an interface: write NODE:INTERFACE (r1:eth0) or globs "
                    "('r*:eth*')",
                EINVAL);
  }
  return {end.substr(0, colon), end.substr(colon + 1)};
}

bool matches(const std::string& pattern, const std::string& name) {
  return ::fnmatch(pattern.c_str(), name.c_str(), 0) == 0;
}

std::string interfaceNames(const topo::Node& node) {
  std::string names;
  for (const auto& interface : node.interfaces) {
    names += (names.empty() ? "" : ", ") + interface.name;
  }
  return names.empty() ? "none" : names;
}

// The interface's ifindex as `up` recorded it.
uint32_t recordedIfindex(const nsmgr::LabState& state, const std::string& node,
                         const std::string& interface) {
  for (const auto& runtime : state.nodes) {
    if (runtime.name != node) continue;
    for (const auto& recorded : runtime.interfaces) {
      if (recorded.name == interface) return recorded.ifindex;
    }
  }
  throw Error(node + ":" + interface +
                  ": the lab's state records no ifindex for it (made by an older netlab?)",
              ENODEV);
}

// The ifindex the handle's packet socket is bound to.
uint32_t boundIfindex(pcap_t* handle) {
  sockaddr_ll address{};
  socklen_t length = sizeof address;
  if (::getsockname(pcap_fileno(handle), reinterpret_cast<sockaddr*>(&address), &length) < 0) {
    return 0;
  }
  return static_cast<uint32_t>(address.sll_ifindex);
}

uint64_t realtimeNs() {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  return uint64_t(now.tv_sec) * 1'000'000'000 + uint64_t(now.tv_nsec);
}

}  // namespace

std::vector<std::string> matchingEnds(const nsmgr::LabState& state,
                                      const std::vector<std::string>& patterns, bool all) {
  std::vector<std::string> ends;
  auto add = [&](const std::string& end) {
    if (std::find(ends.begin(), ends.end(), end) == ends.end()) ends.push_back(end);
  };
  if (all) {
    for (const auto& node : state.plan.nodes) {
      if (node.kind == topo::NodeKind::Switch) continue;
      for (const auto& interface : node.interfaces) add(node.name + ":" + interface.name);
    }
  }
  for (const auto& pattern : patterns) {
    const auto [nodePattern, interfacePattern] = splitEnd(pattern);
    const topo::Node* lastNode = nullptr;
    size_t found = 0;
    for (const auto& node : state.plan.nodes) {
      if (!matches(nodePattern, node.name)) continue;
      lastNode = &node;
      for (const auto& interface : node.interfaces) {
        if (!matches(interfacePattern, interface.name)) continue;
        add(node.name + ":" + interface.name);
        ++found;
      }
    }
    if (!lastNode) {
      throw Error("lab `" + state.plan.name + "` has no node matching `" + nodePattern + "`",
                  ENOENT);
    }
    if (found == 0) {
      throw Error("no interface of `" + lastNode->name + "` matches `" + interfacePattern +
                      "` (its interfaces: " + interfaceNames(*lastNode) + ")",
                  ENOENT);
    }
  }
  return ends;
}

std::string expandFilterAliases(const std::string& filter) {
  static const std::pair<std::string_view, std::string_view> kAliases[] = {
      {"ospf", "(ip proto 89 or ip6 proto 89)"},
      {"bgp", "(tcp port 179)"},
      {"rip", "(udp port 520 or udp port 521)"},
      {"bfd", "(udp port 3784 or udp port 3785 or udp port 4784)"},
  };
  auto isWordCharacter = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '\\' || c == '-' ||
           c == '.';
  };
  std::string expanded;
  std::string previousWord;
  for (size_t i = 0; i < filter.size();) {
    if (!isWordCharacter(filter[i])) {
      expanded += filter[i++];
      continue;
    }
    size_t end = i;
    while (end < filter.size() && isWordCharacter(filter[end])) ++end;
    const std::string word = filter.substr(i, end - i);
    std::string_view replacement = word;
    if (previousWord != "proto" && previousWord != "port") {
      for (const auto& [alias, expression] : kAliases) {
        if (word == alias) replacement = expression;
      }
    }
    expanded += replacement;
    previousWord = word;
    i = end;
  }
  return expanded;
}

void checkFilter(const std::string& filter, uint32_t snapLength) {
  PcapHandle dead(pcap_open_dead(DLT_EN10MB, static_cast<int>(snapLength)));
  if (!dead) throw Error("pcap_open_dead: out of memory", ENOMEM);
  CompiledFilter compiled(dead.get(), filter);
}

struct LiveCapture::Source {
  PcapHandle handle;
  Fd node;  // the node's init (pidfd): readable once the node has ended
};

struct LiveCapture::Pending {
  size_t interface;
  uint64_t timestampNs;
  uint32_t originalLength;
  std::string data;
};

namespace {

// Opens the end's interface from inside its node's network namespace; the packet socket
// stays bound to the interface there after the thread has returned home.
PcapHandle openInterface(const nsmgr::LabState& state, const std::string& end,
                         const CaptureOptions& options, size_t bufferBytes, Fd& nodePidfd) {
  const auto [nodeName, interface] = splitEnd(end);
  const uint32_t recorded = recordedIfindex(state, nodeName, interface);
  nsmgr::NodeHandle node = nsmgr::openNode(state, nodeName);
  nsmgr::NetworkNamespaceVisit visit(node.pidfd, "node " + nodeName);
  char reason[PCAP_ERRBUF_SIZE] = "";
  PcapHandle handle(pcap_create(interface.c_str(), reason));
  if (!handle) throw Error("capture on " + end + ": " + reason, EIO);
  pcap_set_snaplen(handle.get(), static_cast<int>(options.snapLength));
  pcap_set_promisc(handle.get(), 1);
  // Each packet as it comes, not when a block of the ring fills: a live view must be live.
  pcap_set_immediate_mode(handle.get(), 1);
  pcap_set_buffer_size(handle.get(), static_cast<int>(bufferBytes));
  pcap_set_tstamp_precision(handle.get(), PCAP_TSTAMP_PRECISION_NANO);
  const int status = pcap_activate(handle.get());
  if (status < 0) {
    throw Error(
        "capture on " + end + ": " + pcap_statustostr(status) + ": " + pcap_geterr(handle.get()),
        errnoOfStatus(status));
  }
  // Opened by name; the device netlab made is the one with the recorded number.
  const uint32_t bound = boundIfindex(handle.get());
  if (bound != recorded) {
    throw Error("capture on " + end + ": the device of that name has ifindex " +
                    std::to_string(bound) + ", not its recorded " + std::to_string(recorded) +
                    "; refusing to capture on it",
                ENODEV);
  }
  if (!options.filter.empty()) {
    CompiledFilter compiled(handle.get(), options.filter);
    if (pcap_setfilter(handle.get(), compiled.get()) < 0) {
      throw Error(
          "capture on " + end + ": filter `" + options.filter + "`: " + pcap_geterr(handle.get()),
          EINVAL);
    }
  }
  if (pcap_setnonblock(handle.get(), 1, reason) < 0) {
    throw Error("capture on " + end + ": " + reason, EIO);
  }
  nodePidfd = std::move(node.pidfd);
  return handle;
}

}  // namespace

LiveCapture::LiveCapture(const nsmgr::LabState& state, const std::vector<std::string>& ends,
                         const CaptureOptions& options)
    : options_(options) {
  if (!options.filter.empty()) checkFilter(options.filter, options.snapLength);
  // A socket and a node's pidfd per interface, with room for the output and libpcap's own.
  constexpr uint64_t kOtherFiles = 64;
  nsmgr::raiseOpenFileLimit(2 * ends.size() + kOtherFiles,
                            "capturing on " + std::to_string(ends.size()) + " interfaces");
  const size_t bufferBytes = std::clamp(kBufferBudgetBytes / std::max<size_t>(ends.size(), 1),
                                        kMinBufferBytes, kMaxBufferBytes);
  for (const auto& end : ends) {
    auto source = std::make_unique<Source>();
    source->handle = openInterface(state, end, options, bufferBytes, source->node);
    CapturedInterface interface;
    interface.end = end;
    interface.linkType = static_cast<uint16_t>(pcap_datalink(source->handle.get()));
    interfaces_.push_back(std::move(interface));
    sources_.push_back(std::move(source));
  }
}

LiveCapture::~LiveCapture() = default;

void LiveCapture::readSource(size_t index, std::vector<Pending>& pending) {
  struct Reader {
    size_t index;
    std::vector<Pending>* pending;
  } reader{index, &pending};
  auto onPacket = [](u_char* user, const pcap_pkthdr* header, const u_char* bytes) {
    auto* to = reinterpret_cast<Reader*>(user);
    // With nanosecond precision, tv_usec holds nanoseconds.
    const uint64_t timestamp =
        uint64_t(header->ts.tv_sec) * 1'000'000'000 + uint64_t(header->ts.tv_usec);
    to->pending->push_back({to->index, timestamp, header->len,
                            std::string(reinterpret_cast<const char*>(bytes), header->caplen)});
  };
  pcap_t* handle = sources_[index]->handle.get();
  if (pcap_dispatch(handle, -1, onPacket, reinterpret_cast<u_char*>(&reader)) < 0) {
    stopSource(index, pcap_geterr(handle));
  }
}

void LiveCapture::stopSource(size_t index, const std::string& reason) {
  Source& source = *sources_[index];
  if (!source.handle) return;
  pcap_stat statistics{};
  if (pcap_stats(source.handle.get(), &statistics) == 0) {
    interfaces_[index].dropped = uint64_t(statistics.ps_drop) + statistics.ps_ifdrop;
  }
  source.handle.reset();
  source.node = Fd();
  interfaces_[index].stopped = reason;
}

void LiveCapture::run(const std::function<void(const CapturedPacket&)>& deliver, int stopFd,
                      const std::function<void()>& tick) {
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  auto nextTick = start + kTickInterval;
  uint64_t delivered = 0;
  std::vector<Pending> pending;
  // Hands on, in time order, every packet up to `until`; true once the count is reached.
  auto deliverUpTo = [&](uint64_t until) {
    std::stable_sort(pending.begin(), pending.end(), [](const Pending& a, const Pending& b) {
      return a.timestampNs < b.timestampNs;
    });
    size_t handed = 0;
    bool countReached = false;
    while (!countReached && handed < pending.size() && pending[handed].timestampNs <= until) {
      const Pending& packet = pending[handed++];
      deliver({packet.interface, packet.timestampNs, packet.originalLength, packet.data});
      ++interfaces_[packet.interface].packets;
      countReached = options_.count && ++delivered >= *options_.count;
    }
    pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(handed));
    return countReached;
  };

  std::vector<pollfd> polled;
  std::vector<std::pair<size_t, bool>> polledSource;  // (source, is its node's pidfd)
  bool countReached = false;
  for (;;) {
    polled.clear();
    polledSource.clear();
    for (size_t i = 0; i < sources_.size(); ++i) {
      if (!sources_[i]->handle) continue;
      polled.push_back({pcap_get_selectable_fd(sources_[i]->handle.get()), POLLIN, 0});
      polledSource.emplace_back(i, false);
      polled.push_back({sources_[i]->node.get(), POLLIN, 0});
      polledSource.emplace_back(i, true);
    }
    if (polled.empty()) break;  // every interface has stopped
    if (stopFd >= 0) polled.push_back({stopFd, POLLIN, 0});
    auto timeout = kMergeWindow;
    if (options_.duration) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          start + *options_.duration - Clock::now());
      if (left.count() <= 0) break;
      timeout = std::min(timeout, left);
    }
    if (::poll(polled.data(), polled.size(), static_cast<int>(timeout.count())) < 0) {
      if (errno == EINTR) continue;
      throw SystemError("poll", "the captured interfaces");
    }
    if (stopFd >= 0 && polled.back().revents != 0) break;
    for (size_t p = 0; p < polledSource.size(); ++p) {
      if (polled[p].revents == 0) continue;
      const auto [index, isNode] = polledSource[p];
      if (!sources_[index]->handle) continue;
      if (isNode) {
        readSource(index, pending);  // what it captured before its node ended
        stopSource(index, "node " +
                              interfaces_[index].end.substr(0, interfaces_[index].end.find(':')) +
                              " stopped");
      } else {
        readSource(index, pending);
      }
    }
    const uint64_t window = std::chrono::nanoseconds(kMergeWindow).count();
    if (deliverUpTo(realtimeNs() - window)) {
      countReached = true;
      break;
    }
    if (tick && Clock::now() >= nextTick) {
      tick();
      nextTick += kTickInterval;
    }
  }
  // The end: what the sockets still hold, then everything that waited.
  if (!countReached) {
    for (size_t i = 0; i < sources_.size(); ++i) {
      if (sources_[i]->handle) readSource(i, pending);
    }
    deliverUpTo(UINT64_MAX);
  }
  for (size_t i = 0; i < sources_.size(); ++i) {
    if (!sources_[i]->handle) continue;
    pcap_stat statistics{};
    if (pcap_stats(sources_[i]->handle.get(), &statistics) == 0) {
      interfaces_[i].dropped = uint64_t(statistics.ps_drop) + statistics.ps_ifdrop;
    }
  }
}

}  // namespace netlab::capture
