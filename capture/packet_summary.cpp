#include "capture/packet_summary.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>

#include <cstdint>
#include <cstring>
#include <optional>

#include "base/ip.hpp"
#include "base/mac.hpp"

namespace netlab::capture {
namespace {

constexpr uint16_t kEtherTypeIpv4 = 0x0800;
constexpr uint16_t kEtherTypeArp = 0x0806;
constexpr uint16_t kEtherTypeVlan = 0x8100;
constexpr uint16_t kEtherTypeIpv6 = 0x86DD;
constexpr uint8_t kProtocolOspf = 89;
constexpr uint8_t kProtocolVrrp = 112;
constexpr size_t kEthernetHeader = 14;
constexpr size_t kIpv6Header = 40;

// The frame's bytes with bounds: a read past what was captured finds nothing.
class Bytes {
 public:
  explicit Bytes(std::string_view data) : data_(data) {}
  size_t size() const { return data_.size(); }
  std::optional<uint8_t> u8(size_t at) const {
    if (at >= data_.size()) return std::nullopt;
    return static_cast<uint8_t>(data_[at]);
  }
  std::optional<uint16_t> u16(size_t at) const {
    if (at + 2 > data_.size()) return std::nullopt;
    return static_cast<uint16_t>(uint8_t(data_[at]) << 8 | uint8_t(data_[at + 1]));
  }
  std::optional<uint32_t> u32(size_t at) const {
    auto high = u16(at), low = u16(at + 2);
    if (!high || !low) return std::nullopt;
    return uint32_t{*high} << 16 | *low;
  }
  std::optional<std::string_view> span(size_t at, size_t length) const {
    if (at + length > data_.size()) return std::nullopt;
    return data_.substr(at, length);
  }
  Bytes from(size_t at) const { return Bytes(at >= data_.size() ? "" : data_.substr(at)); }

 private:
  std::string_view data_;
};

std::string addressAt(const Bytes& bytes, size_t at, Family family) {
  auto raw = bytes.span(at, family == Family::V4 ? 4 : 16);
  if (!raw) return "?";
  IpAddress address;
  address.family = family;
  std::memcpy(address.bytes.data(), raw->data(), raw->size());
  return toString(address);
}

std::string macAt(const Bytes& bytes, size_t at) {
  auto raw = bytes.span(at, 6);
  if (!raw) return "?";
  Mac mac;
  std::memcpy(mac.data(), raw->data(), mac.size());
  return toString(mac);
}

std::string icmpSummary(const Bytes& icmp) {
  auto type = icmp.u8(0);
  if (!type) return "ICMP";
  switch (*type) {
    case 0:
      return fmt::format("ICMP echo reply, id {}, seq {}", icmp.u16(4).value_or(0),
                         icmp.u16(6).value_or(0));
    case 8:
      return fmt::format("ICMP echo request, id {}, seq {}", icmp.u16(4).value_or(0),
                         icmp.u16(6).value_or(0));
    case 3:
      return fmt::format("ICMP unreachable, code {}", icmp.u8(1).value_or(0));
    case 11:
      return "ICMP time exceeded";
    default:
      return fmt::format("ICMP type {}", *type);
  }
}

std::string icmpv6Summary(const Bytes& icmp) {
  auto type = icmp.u8(0);
  if (!type) return "ICMP6";
  switch (*type) {
    case 128:
      return fmt::format("ICMP6 echo request, id {}, seq {}", icmp.u16(4).value_or(0),
                         icmp.u16(6).value_or(0));
    case 129:
      return fmt::format("ICMP6 echo reply, id {}, seq {}", icmp.u16(4).value_or(0),
                         icmp.u16(6).value_or(0));
    case 133:
      return "ICMP6 router solicitation";
    case 134:
      return "ICMP6 router advertisement";
    case 135:
      return "ICMP6 neighbor solicitation, who has " + addressAt(icmp, 8, Family::V6);
    case 136:
      return "ICMP6 neighbor advertisement, tgt is " + addressAt(icmp, 8, Family::V6);
    case 143:
      return "ICMP6 multicast listener report v2";
    case 1:
      return fmt::format("ICMP6 unreachable, code {}", icmp.u8(1).value_or(0));
    case 3:
      return "ICMP6 time exceeded";
    default:
      return fmt::format("ICMP6 type {}", *type);
  }
}

std::string ospfSummary(const Bytes& ospf, const char* version) {
  static constexpr const char* kTypes[] = {"?",          "Hello",     "Database Description",
                                           "LS Request", "LS Update", "LS Ack"};
  auto type = ospf.u8(1).value_or(0);
  return fmt::format("{} {}", version, type < std::size(kTypes) ? kTypes[type] : "?");
}

std::string tcpFlags(uint8_t flags) {
  std::string text;
  static constexpr std::pair<uint8_t, char> kFlags[] = {
      {0x02, 'S'}, {0x01, 'F'}, {0x04, 'R'}, {0x08, 'P'}, {0x10, '.'}};
  for (auto [bit, letter] : kFlags) {
    if (flags & bit) text += letter;
  }
  return text.empty() ? "none" : text;
}

// What an IP packet carries, with ports where it has them.
std::string transportSummary(uint8_t protocol, const Bytes& payload, bool ipv6) {
  switch (protocol) {
    case IPPROTO_ICMP:
      return icmpSummary(payload);
    case IPPROTO_ICMPV6:
      return icmpv6Summary(payload);
    case IPPROTO_TCP:
      return fmt::format("TCP {} > {} [{}]", payload.u16(0).value_or(0), payload.u16(2).value_or(0),
                         tcpFlags(payload.u8(13).value_or(0)));
    case IPPROTO_UDP:
      return fmt::format("UDP {} > {}", payload.u16(0).value_or(0), payload.u16(2).value_or(0));
    case kProtocolOspf:
      return ospfSummary(payload, ipv6 ? "OSPFv3" : "OSPFv2");
    case kProtocolVrrp:
      return "VRRP";
    default:
      return fmt::format("IP protocol {}", protocol);
  }
}

std::string ipv4Summary(const Bytes& packet) {
  auto versionAndLength = packet.u8(0);
  auto protocol = packet.u8(9);
  if (!versionAndLength || !protocol) return "IPv4 (truncated)";
  const size_t headerLength = size_t{*versionAndLength & 0x0Fu} * 4;
  return fmt::format("{} > {} {}", addressAt(packet, 12, Family::V4),
                     addressAt(packet, 16, Family::V4),
                     transportSummary(*protocol, packet.from(headerLength), false));
}

// Hop-by-hop options (a multicast listener report has one) are skipped to what they precede.
std::string ipv6Summary(const Bytes& packet) {
  auto next = packet.u8(6);
  if (!next) return "IPv6 (truncated)";
  size_t offset = kIpv6Header;
  if (*next == IPPROTO_HOPOPTS) {
    auto length = packet.u8(offset + 1);
    next = packet.u8(offset);
    if (!next || !length) return "IPv6 (truncated)";
    offset += (size_t{*length} + 1) * 8;
  }
  return fmt::format("{} > {} {}", addressAt(packet, 8, Family::V6),
                     addressAt(packet, 24, Family::V6),
                     transportSummary(*next, packet.from(offset), true));
}

std::string arpSummary(const Bytes& arp) {
  auto operation = arp.u16(6);
  if (!operation) return "ARP (truncated)";
  if (*operation == 1) {
    return fmt::format("ARP who has {} tell {}", addressAt(arp, 24, Family::V4),
                       addressAt(arp, 14, Family::V4));
  }
  if (*operation == 2) {
    return fmt::format("ARP {} is at {}", addressAt(arp, 14, Family::V4), macAt(arp, 8));
  }
  return fmt::format("ARP operation {}", *operation);
}

}  // namespace

std::string summarizeFrame(std::string_view frame) {
  Bytes bytes(frame);
  auto etherType = bytes.u16(12);
  if (!etherType) return fmt::format("frame of {} bytes (truncated)", frame.size());
  size_t offset = kEthernetHeader;
  if (*etherType == kEtherTypeVlan) {
    etherType = bytes.u16(16);
    offset += 4;
    if (!etherType) return "802.1Q (truncated)";
  }
  const Bytes payload = bytes.from(offset);
  switch (*etherType) {
    case kEtherTypeIpv4:
      return ipv4Summary(payload);
    case kEtherTypeIpv6:
      return ipv6Summary(payload);
    case kEtherTypeArp:
      return arpSummary(payload);
    default:
      return fmt::format("{} > {} ethertype 0x{:04x}", macAt(bytes, 6), macAt(bytes, 0),
                         *etherType);
  }
}

}  // namespace netlab::capture
