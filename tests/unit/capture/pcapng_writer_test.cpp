// The pcapng stream as bytes: blocks framed by their lengths, 32-bit padding, the interface
// names and nanosecond resolution, read back the way a reader walks the file.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "base/fd.hpp"
#include "capture/pcapng_writer.hpp"

namespace netlab::capture {
namespace {

struct Block {
  uint32_t type;
  std::string body;
};

uint32_t u32At(const std::string& bytes, size_t offset) {
  uint32_t value = 0;
  std::memcpy(&value, bytes.data() + offset, sizeof value);
  return value;
}

std::vector<Block> blocksOf(const std::string& bytes) {
  std::vector<Block> blocks;
  size_t offset = 0;
  while (offset < bytes.size()) {
    const uint32_t length = u32At(bytes, offset + 4);
    EXPECT_EQ(length % 4, 0u);
    EXPECT_LE(offset + length, bytes.size());
    EXPECT_EQ(u32At(bytes, offset + length - 4), length) << "a block ends with its length";
    blocks.push_back({u32At(bytes, offset), bytes.substr(offset + 8, length - 12)});
    offset += length;
  }
  return blocks;
}

std::string written(const std::function<void(PcapngWriter&)>& write) {
  Fd memory(::memfd_create("pcapng", MFD_CLOEXEC));
  PcapngWriter writer(memory.get(), "memory");
  write(writer);
  writer.flush();
  ::lseek(memory.get(), 0, SEEK_SET);
  return readAll(memory.get(), "memory");
}

TEST(PcapngWriter, SectionInterfacesAndPackets) {
  const std::string bytes = written([](PcapngWriter& writer) {
    EXPECT_EQ(writer.addInterface("r1:eth0", "lab demo, r1:eth0", 1, 65535), 0u);
    EXPECT_EQ(writer.addInterface("r2:eth1", "lab demo, r2:eth1", 1, 65535), 1u);
    writer.addPacket(1, 0x0000000123456789ull, std::string("\x01\x02\x03\x04\x05", 5), 60);
  });
  const auto blocks = blocksOf(bytes);
  ASSERT_EQ(blocks.size(), 4u);
  EXPECT_EQ(blocks[0].type, 0x0A0D0D0Au);
  EXPECT_EQ(u32At(blocks[0].body, 0), 0x1A2B3C4Du);
  EXPECT_EQ(blocks[1].type, 1u);
  EXPECT_NE(blocks[1].body.find("r1:eth0"), std::string::npos);
  // if_tsresol: 9, nanoseconds.
  EXPECT_NE(blocks[1].body.find(std::string("\x09\x00\x01\x00\x09", 5)), std::string::npos);
  EXPECT_EQ(blocks[3].type, 6u);
  const std::string& packet = blocks[3].body;
  EXPECT_EQ(u32At(packet, 0), 1u) << "its interface";
  EXPECT_EQ(u32At(packet, 4), 0x1u) << "timestamp, high word";
  EXPECT_EQ(u32At(packet, 8), 0x23456789u) << "timestamp, low word";
  EXPECT_EQ(u32At(packet, 12), 5u) << "captured";
  EXPECT_EQ(u32At(packet, 16), 60u) << "on the wire";
  EXPECT_EQ(packet.size(), 20u + 8u) << "five bytes padded to eight";
  EXPECT_EQ(packet.substr(20, 5), std::string("\x01\x02\x03\x04\x05", 5));
}

TEST(PcapngWriter, AClosedPipeIsAnErrorWithEpipe) {
  int ends[2];
  ASSERT_EQ(::pipe2(ends, O_CLOEXEC), 0);
  Fd reader(ends[0]);
  Fd writerEnd(ends[1]);
  reader = Fd();
  auto previous = ::signal(SIGPIPE, SIG_IGN);
  PcapngWriter writer(writerEnd.get(), "a pipe");
  try {
    writer.flush();
    FAIL() << "a write to a pipe without a reader succeeded";
  } catch (const Error& error) {
    EXPECT_EQ(error.errnoValue(), EPIPE);
  }
  ::signal(SIGPIPE, previous);
}

}  // namespace
}  // namespace netlab::capture
