// A pcapng stream (draft-ietf-opsawg-pcapng): a section header, an interface description per
// captured interface (named, so Wireshark shows which link a packet crossed) and an enhanced
// packet block per packet, with nanosecond timestamps. libpcap reads pcapng but writes only
// the older pcap format, which has one interface per file and no names.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace netlab::capture {

class PcapngWriter {
 public:
  // Where the bytes go: a file, a pipe, an HTTP response. It throws when they cannot.
  using Output = std::function<void(std::string_view bytes)>;

  explicit PcapngWriter(Output output);
  // Writes to `fd`, which it does not own; `what` names it in errors ("capture.pcapng").
  PcapngWriter(int fd, const std::string& what);

  // The section header; then interfaces and packets in any order, each packet naming an
  // interface added before it. `linkType` is a LINKTYPE_ value (1 for Ethernet).
  uint32_t addInterface(const std::string& name, const std::string& description, uint16_t linkType,
                        uint32_t snapLength);
  void addPacket(uint32_t interface, uint64_t timestampNs, std::string_view data,
                 uint32_t originalLength);

  // Hands what is buffered to the output. A reader at the other end of a pipe that went away
  // is an Error with EPIPE.
  void flush();

 private:
  void putU16(uint16_t value);
  void putU32(uint32_t value);
  void putBytes(std::string_view bytes);
  void putOption(uint16_t code, std::string_view value);
  void beginBlock(uint32_t type);
  void endBlock();

  Output output_;
  std::string buffer_;
  size_t blockStart_ = 0;
  uint32_t interfaces_ = 0;
};

}  // namespace netlab::capture
