// Replies are parsed from hand-built buffers, as the kernel would send them.
#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>

#include <cstring>
#include <vector>

#include "netlink/reply.hpp"

namespace netlab::netlink {
namespace {

std::vector<uint8_t> errorMessage(int error, uint32_t sequence, const char* extack) {
  std::vector<uint8_t> buffer(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* header = mnl_nlmsg_put_header(buffer.data());
  header->nlmsg_type = NLMSG_ERROR;
  header->nlmsg_seq = sequence;
  header->nlmsg_flags = NLM_F_CAPPED | (extack ? NLM_F_ACK_TLVS : 0);
  auto* payload = static_cast<nlmsgerr*>(mnl_nlmsg_put_extra_header(header, sizeof(nlmsgerr)));
  payload->error = -error;
  payload->msg.nlmsg_len = 200;  // the request's length; capped, so only its header is echoed
  payload->msg.nlmsg_seq = sequence;
  if (extack) mnl_attr_put_strz(header, NLMSGERR_ATTR_MSG, extack);
  buffer.resize(header->nlmsg_len);
  return buffer;
}

TEST(Reply, NegativeErrorIsAFailureWithItsExtendedAck) {
  auto buffer = errorMessage(EEXIST, 42, "Device already exists");
  Ack ack = parseAck(*reinterpret_cast<const nlmsghdr*>(buffer.data()));
  EXPECT_EQ(ack.sequence, 42u);
  EXPECT_EQ(ack.error, EEXIST);
  EXPECT_EQ(ack.extackMessage, "Device already exists");
}

TEST(Reply, ZeroErrorIsAnAcknowledgement) {
  auto buffer = errorMessage(0, 7, nullptr);
  Ack ack = parseAck(*reinterpret_cast<const nlmsghdr*>(buffer.data()));
  EXPECT_EQ(ack.error, 0);
  EXPECT_TRUE(ack.extackMessage.empty());
}

TEST(Reply, TruncatedErrorIsAProtocolError) {
  nlmsghdr header{};
  header.nlmsg_len = sizeof header;
  header.nlmsg_type = NLMSG_ERROR;
  EXPECT_EQ(parseAck(header).error, EPROTO);
}

TEST(Reply, ForEachMessageWalksADatagram) {
  auto first = errorMessage(0, 1, nullptr);
  auto second = errorMessage(ENODEV, 2, "no such device");
  std::vector<uint8_t> datagram = first;
  datagram.insert(datagram.end(), second.begin(), second.end());
  std::vector<uint32_t> sequences;
  forEachMessage(datagram, [&](const nlmsghdr& message) {
    sequences.push_back(message.nlmsg_seq);
    return true;
  });
  EXPECT_EQ(sequences, (std::vector<uint32_t>{1, 2}));
}

TEST(Reply, LinkMessageParsesNameStateAndMac) {
  std::vector<uint8_t> buffer(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* header = mnl_nlmsg_put_header(buffer.data());
  header->nlmsg_type = RTM_NEWLINK;
  auto* info = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(header, sizeof(ifinfomsg)));
  info->ifi_index = 3;
  info->ifi_flags = IFF_UP;
  mnl_attr_put_strz(header, IFLA_IFNAME, "eth1");
  mnl_attr_put_u8(header, IFLA_OPERSTATE, IF_OPER_UP);
  mnl_attr_put_u32(header, IFLA_MTU, 1400);
  uint8_t mac[6] = {2, 1, 2, 3, 4, 5};
  mnl_attr_put(header, IFLA_ADDRESS, sizeof mac, mac);
  auto link = parseLink(*header);
  ASSERT_TRUE(link);
  EXPECT_EQ(link->ifindex, 3u);
  EXPECT_EQ(link->name, "eth1");
  EXPECT_EQ(operStateName(link->operState), "up");
  EXPECT_EQ(link->mtu, 1400u);
  EXPECT_EQ(toString(*link->mac), "02:01:02:03:04:05");
}

}  // namespace
}  // namespace netlab::netlink
