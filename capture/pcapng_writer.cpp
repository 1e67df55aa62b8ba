#include "capture/pcapng_writer.hpp"

#include <cerrno>
#include <cstring>

#include "base/error.hpp"
#include "base/fd.hpp"
#include "base/version.hpp"

namespace netlab::capture {
namespace {

// Block types and option codes of the pcapng draft, written in the host's byte order (the
// section header's magic tells readers which).
constexpr uint32_t kSectionHeaderBlock = 0x0A0D0D0A;
constexpr uint32_t kInterfaceDescriptionBlock = 0x00000001;
constexpr uint32_t kEnhancedPacketBlock = 0x00000006;
constexpr uint32_t kByteOrderMagic = 0x1A2B3C4D;
constexpr uint16_t kOptionEnd = 0;
constexpr uint16_t kSectionUserApplication = 4;
constexpr uint16_t kInterfaceName = 2;
constexpr uint16_t kInterfaceDescription = 3;
constexpr uint16_t kInterfaceTimestampResolution = 9;
// if_tsresol: timestamps in units of 10^-9 s.
constexpr char kNanoseconds = 9;
// Buffered packets are written once this much is waiting, and at every flush.
constexpr size_t kFlushBytes = 256 * 1024;

size_t paddedLength(size_t length) {
  return (length + 3) & ~size_t{3};
}

}  // namespace

PcapngWriter::PcapngWriter(int fd, const std::string& what)
    : PcapngWriter([fd, what](std::string_view bytes) { writeAll(fd, bytes, what); }) {}

PcapngWriter::PcapngWriter(Output output) : output_(std::move(output)) {
  beginBlock(kSectionHeaderBlock);
  putU32(kByteOrderMagic);
  putU16(1);           // major version
  putU16(0);           // minor version
  putU32(0xFFFFFFFF);  // section length, 64 bits: unknown, as a live stream's is
  putU32(0xFFFFFFFF);
  putOption(kSectionUserApplication, "netlab " NETLAB_VERSION);
  putU32(kOptionEnd);
  endBlock();
}

uint32_t PcapngWriter::addInterface(const std::string& name, const std::string& description,
                                    uint16_t linkType, uint32_t snapLength) {
  beginBlock(kInterfaceDescriptionBlock);
  putU16(linkType);
  putU16(0);  // reserved
  putU32(snapLength);
  putOption(kInterfaceName, name);
  putOption(kInterfaceDescription, description);
  putOption(kInterfaceTimestampResolution, std::string_view(&kNanoseconds, 1));
  putU32(kOptionEnd);
  endBlock();
  return interfaces_++;
}

void PcapngWriter::addPacket(uint32_t interface, uint64_t timestampNs, std::string_view data,
                             uint32_t originalLength) {
  beginBlock(kEnhancedPacketBlock);
  putU32(interface);
  putU32(static_cast<uint32_t>(timestampNs >> 32));
  putU32(static_cast<uint32_t>(timestampNs));
  putU32(static_cast<uint32_t>(data.size()));
  putU32(originalLength);
  putBytes(data);
  endBlock();
  if (buffer_.size() >= kFlushBytes) flush();
}

void PcapngWriter::flush() {
  if (buffer_.empty()) return;
  output_(buffer_);
  buffer_.clear();
}

void PcapngWriter::putU16(uint16_t value) {
  buffer_.append(reinterpret_cast<const char*>(&value), sizeof value);
}

void PcapngWriter::putU32(uint32_t value) {
  buffer_.append(reinterpret_cast<const char*>(&value), sizeof value);
}

// The bytes, then zeros up to a 32-bit boundary.
void PcapngWriter::putBytes(std::string_view bytes) {
  buffer_.append(bytes);
  buffer_.append(paddedLength(bytes.size()) - bytes.size(), '\0');
}

void PcapngWriter::putOption(uint16_t code, std::string_view value) {
  putU16(code);
  putU16(static_cast<uint16_t>(value.size()));
  putBytes(value);
}

// A block is its type, its total length, its body and its total length again; the length is
// filled in by endBlock.
void PcapngWriter::beginBlock(uint32_t type) {
  blockStart_ = buffer_.size();
  putU32(type);
  putU32(0);
}

void PcapngWriter::endBlock() {
  const auto total = static_cast<uint32_t>(buffer_.size() - blockStart_ + sizeof(uint32_t));
  std::memcpy(buffer_.data() + blockStart_ + sizeof(uint32_t), &total, sizeof total);
  putU32(total);
}

}  // namespace netlab::capture
