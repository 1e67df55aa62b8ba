// assignAddresses: every L2 segment gets one subnet per family (from a link prefix, from the
// addresses written on its endpoints, or from a pool), then every endpoint without explicit
// addresses is numbered in endpoint order. The order of every step is fixed, so the same file
// always gives the same addresses.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <map>
#include <set>

#include "topo/address_space.hpp"
#include "topo/lab.hpp"
#include "topo/segments.hpp"

namespace netlab::topo {
namespace {

constexpr std::array kFamilies{Family::V4, Family::V6};

size_t familyIndex(Family family) {
  return family == Family::V4 ? 0 : 1;
}
int familyNumber(Family family) {
  return static_cast<int>(family);
}

std::string reference(const Where& where, const DiagnosticSink& sink) {
  return fmt::format("{} (line {})", where.path, sink.lineOf(where.offset));
}

// The subnet of a segment in one family, and where it was decided.
struct Subnet {
  IpPrefix prefix;
  Where where;
};

// An address written in the topology, with the owner named in messages.
struct WrittenAddress {
  IpAddress address;
  std::string owner;  // "r1:eth0" or "r1's loopback"
  Where where;
};

class Addresser {
 public:
  Addresser(Lab& lab, const TopologySpec& topology, DiagnosticSink& sink)
      : lab_(lab), addressing_(topology.addressing), links_(topology.links), sink_(sink) {}

  void run();

 private:
  bool enabled(Family family) const {
    return addressing_.enabled && (family == Family::V4 ? addressing_.ipv4 : addressing_.ipv6);
  }
  void collectLinkPrefixes(size_t segment);
  void checkExplicitAddresses(size_t segment);
  void checkAddress(size_t segment, AddressSpec& address);
  void takeExplicitLoopbacks();
  void checkRepeats();
  void checkOverlaps();
  void reserveExplicit();
  void allocateSubnet(size_t segment, Family family);
  void allocateLoopbacks(DraftNode& node);
  void numberSegment(size_t segment, Family family);

  Lab& lab_;
  const AddressingSpec& addressing_;
  const std::vector<LinkSpec>& links_;
  DiagnosticSink& sink_;
  std::vector<Segment> segments_;
  std::vector<std::array<std::optional<Subnet>, 2>> subnets_;  // per segment, per family
  std::vector<WrittenAddress> written_;
  AddressSpace taken_;         // subnets and addresses no pool may hand out again
  std::set<IpAddress> hosts_;  // addresses on interfaces and loopbacks
};

void Addresser::collectLinkPrefixes(size_t segment) {
  for (size_t link : segments_[segment].links) {
    for (const AddressSpec& prefix : links_[link].prefixes) {
      auto& subnet = subnets_[segment][familyIndex(prefix.prefix.address.family)];
      if (!subnet) {
        subnet = Subnet{prefix.prefix, prefix.where};
      } else if (subnet->prefix != prefix.prefix) {
        sink_.error(prefix.where,
                    fmt::format("this L2 segment already has the prefix {} from {}",
                                toString(subnet->prefix), reference(subnet->where, sink_)),
                    "links joined by a switch share one broadcast domain and one subnet");
      }
    }
  }
}

void Addresser::checkAddress(size_t segment, AddressSpec& address) {
  const Family family = address.prefix.address.family;
  auto& subnet = subnets_[segment][familyIndex(family)];
  if (!address.hasLength) {
    if (!subnet) {
      sink_.error(address.where,
                  fmt::format("`{}` needs a prefix length", toString(address.prefix.address)),
                  "write e.g. \"10.0.0.1/24\", or give the link a `prefix`");
      return;
    }
    address.prefix.length = subnet->prefix.length;
    address.hasLength = true;
  }
  const IpPrefix network = networkOf(address.prefix);
  if (!subnet) {
    subnet = Subnet{network, address.where};
  } else if (network != subnet->prefix) {
    sink_.error(address.where,
                fmt::format("{} is not in this L2 segment's subnet {}", toString(address.prefix),
                            toString(subnet->prefix)),
                fmt::format("the subnet comes from {}", reference(subnet->where, sink_)));
    return;
  }
  if (family == Family::V4 && address.prefix.length < 31) {
    const bool isNetwork = address.prefix.address == network.address;
    if (isNetwork || address.prefix.address == lastAddress(network)) {
      sink_.error(address.where,
                  fmt::format("{} is the {} address of {}", toString(address.prefix.address),
                              isNetwork ? "network" : "broadcast", toString(network)),
                  "use an address between them");
    }
  }
}

void Addresser::checkExplicitAddresses(size_t segment) {
  for (const InterfaceRef& member : segments_[segment].members) {
    DraftNode& node = lab_.nodes[member.node];
    DraftInterface& interface = node.interfaces[member.interface];
    for (AddressSpec& address : interface.explicitAddresses) {
      checkAddress(segment, address);
      written_.push_back({address.prefix.address,
                          fmt::format("{}:{}", node.name, interface.interface.name),
                          address.where});
    }
  }
}

void Addresser::takeExplicitLoopbacks() {
  for (DraftNode& node : lab_.nodes) {
    const auto& loopback = node.settings.loopback;
    if (node.kind == NodeKind::Switch || !loopback) continue;
    for (const AddressSpec& address : loopback->addresses) {
      node.loopbacks.push_back(address.prefix);
      written_.push_back(
          {address.prefix.address, fmt::format("{}'s loopback", node.name), address.where});
    }
  }
}

void Addresser::checkRepeats() {
  std::stable_sort(written_.begin(), written_.end(),
                   [](const auto& a, const auto& b) { return a.where.offset < b.where.offset; });
  std::map<IpAddress, const WrittenAddress*> first;
  for (const WrittenAddress& written : written_) {
    auto [earlier, inserted] = first.emplace(written.address, &written);
    if (inserted) continue;
    sink_.error(written.where,
                fmt::format("address {} of {} is already used by {}", toString(written.address),
                            written.owner, earlier->second->owner),
                fmt::format("see {}", reference(earlier->second->where, sink_)));
  }
}

}  // namespace

namespace {

void Addresser::checkOverlaps() {
  std::vector<const Subnet*> all;
  for (const auto& perFamily : subnets_) {
    for (const auto& subnet : perFamily) {
      if (subnet) all.push_back(&*subnet);
    }
  }
  std::sort(all.begin(), all.end(),
            [](const Subnet* a, const Subnet* b) { return a->prefix < b->prefix; });
  // Sorted by network address, a subnet overlaps an earlier one exactly when it starts
  // before the furthest end seen so far.
  const Subnet* widest = nullptr;
  for (const Subnet* subnet : all) {
    if (widest && widest->prefix.address.family == subnet->prefix.address.family &&
        !(lastAddress(widest->prefix) < subnet->prefix.address)) {
      sink_.error(subnet->where,
                  fmt::format("subnet {} overlaps {}, the subnet of another L2 segment",
                              toString(subnet->prefix), toString(widest->prefix)),
                  fmt::format("that subnet comes from {}", reference(widest->where, sink_)));
      continue;
    }
    if (!widest || lastAddress(widest->prefix) < lastAddress(subnet->prefix)) widest = subnet;
  }
}

void Addresser::reserveExplicit() {
  for (const auto& perFamily : subnets_) {
    for (const auto& subnet : perFamily) {
      if (subnet) taken_.add(subnet->prefix);
    }
  }
  for (const WrittenAddress& written : written_) {
    taken_.add({written.address, static_cast<uint8_t>(written.address.bits())});
    hosts_.insert(written.address);
  }
}

void Addresser::allocateSubnet(size_t segment, Family family) {
  auto& subnet = subnets_[segment][familyIndex(family)];
  const auto& members = segments_[segment].members;
  const size_t unnumbered = std::count_if(members.begin(), members.end(), [&](const auto& m) {
    return lab_.nodes[m.node].interfaces[m.interface].explicitAddresses.empty();
  });
  if (subnet || unnumbered == 0 || !enabled(family)) return;
  const bool p2p = members.size() == 2;
  const PoolSpec& pools = p2p ? addressing_.p2p : addressing_.lan;
  const IpPrefix& pool = family == Family::V4 ? pools.ipv4 : pools.ipv6;
  uint8_t length = family == Family::V4 ? pools.ipv4Length : pools.ipv6Length;
  // A LAN larger than the preferred subnet gets the smallest subnet that holds it.
  while (length > pool.length && usableHosts(family, length) < unnumbered) --length;
  const Where& where = links_[segments_[segment].links.front()].where;
  auto free = taken_.firstFree(pool, length);
  if (!free) {
    sink_.error(where,
                fmt::format("the pool addressing.{}.ipv{} ({}) has no free /{} left",
                            p2p ? "p2p" : "lan", familyNumber(family), toString(pool), length),
                "make the pool larger or give this link a `prefix`");
    return;
  }
  taken_.add(*free);
  subnet = Subnet{*free, where};
}

void Addresser::allocateLoopbacks(DraftNode& node) {
  const auto& loopback = node.settings.loopback;
  const bool automatic =
      loopback ? loopback->mode == LoopbackSpec::Mode::Automatic : node.kind == NodeKind::Router;
  if (node.kind == NodeKind::Switch || !automatic) return;
  for (Family family : kFamilies) {
    if (!enabled(family)) continue;
    const IpPrefix& pool =
        family == Family::V4 ? addressing_.loopbackIpv4 : addressing_.loopbackIpv6;
    const auto bits = static_cast<uint8_t>(pool.address.bits());
    auto free = taken_.firstFree(pool, bits);
    if (!free) {
      sink_.error(node.where,
                  fmt::format("the pool addressing.loopback.ipv{} ({}) has no free address left "
                              "for {}",
                              familyNumber(family), toString(pool), node.name),
                  "make the pool larger");
      continue;
    }
    taken_.add(*free);
    hosts_.insert(free->address);
    node.loopbacks.push_back(*free);
  }
}

void Addresser::numberSegment(size_t segment, Family family) {
  const auto& subnet = subnets_[segment][familyIndex(family)];
  if (!subnet) return;
  const IpPrefix& network = subnet->prefix;
  const bool skipsEnds = family == Family::V6 || network.length < 31;
  uint64_t offset = skipsEnds ? 1 : 0;
  for (const InterfaceRef& member : segments_[segment].members) {
    DraftInterface& interface = lab_.nodes[member.node].interfaces[member.interface];
    if (!interface.explicitAddresses.empty()) continue;
    std::optional<IpAddress> address;
    for (;; ++offset) {
      address = addToAddress(network.address, offset);
      const bool broadcast = family == Family::V4 && network.length < 31 && address &&
                             *address == lastAddress(network);
      if (!address || !contains(network, *address) || broadcast) {
        address.reset();
        break;
      }
      if (!hosts_.contains(*address)) break;
    }
    if (!address) {
      sink_.error(interface.where,
                  fmt::format("no free address left in {} for {}:{}", toString(network),
                              lab_.nodes[member.node].name, interface.interface.name),
                  fmt::format("the subnet comes from {}", reference(subnet->where, sink_)));
      return;
    }
    hosts_.insert(*address);
    interface.interface.addresses.push_back({*address, network.length});
  }
}

void Addresser::run() {
  const size_t errorsBefore = sink_.blockingErrorCount();
  segments_ = findSegments(lab_, links_.size());
  subnets_.resize(segments_.size());
  for (size_t s = 0; s < segments_.size(); ++s) collectLinkPrefixes(s);
  for (size_t s = 0; s < segments_.size(); ++s) checkExplicitAddresses(s);
  takeExplicitLoopbacks();
  checkRepeats();
  checkOverlaps();
  // Allocation around a wrong written address would report its consequences, not new problems.
  if (sink_.blockingErrorCount() != errorsBefore) return;
  reserveExplicit();
  for (Family family : kFamilies) {
    for (size_t s = 0; s < segments_.size(); ++s) allocateSubnet(s, family);
  }
  // The first address of a loopback pool names the pool; it is never a node's.
  for (const IpPrefix* pool : {&addressing_.loopbackIpv4, &addressing_.loopbackIpv6}) {
    taken_.add({pool->address, static_cast<uint8_t>(pool->address.bits())});
  }
  for (DraftNode& node : lab_.nodes) allocateLoopbacks(node);
  for (size_t s = 0; s < segments_.size(); ++s) {
    for (const InterfaceRef& member : segments_[s].members) {
      DraftInterface& interface = lab_.nodes[member.node].interfaces[member.interface];
      for (const AddressSpec& address : interface.explicitAddresses) {
        interface.interface.addresses.push_back(address.prefix);
      }
    }
    for (Family family : kFamilies) numberSegment(s, family);
  }
}

}  // namespace

void assignAddresses(Lab& lab, const TopologySpec& topology, DiagnosticSink& sink) {
  Addresser(lab, topology, sink).run();
}

}  // namespace netlab::topo
