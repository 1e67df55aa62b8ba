// Replies are parsed from hand-built buffers, as the kernel would send them.
#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cstring>
#include <vector>

#include "base/error.hpp"
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

// A message under construction in a buffer big enough for any test.
class Built {
 public:
  explicit Built(uint16_t type) : buffer_(MNL_SOCKET_BUFFER_SIZE) {
    header_ = mnl_nlmsg_put_header(buffer_.data());
    header_->nlmsg_type = type;
  }
  nlmsghdr* header() { return header_; }
  template <typename T>
  T* fixed() {
    return static_cast<T*>(mnl_nlmsg_put_extra_header(header_, sizeof(T)));
  }
  // Bytes as they would sit in a datagram: exactly nlmsg_len of them.
  std::vector<uint8_t> bytes() const {
    return {buffer_.begin(), buffer_.begin() + header_->nlmsg_len};
  }

 private:
  std::vector<uint8_t> buffer_;
  nlmsghdr* header_;
};

Built linkMessage(const char* name) {
  Built message(RTM_NEWLINK);
  message.fixed<ifinfomsg>()->ifi_index = 4;
  mnl_attr_put_strz(message.header(), IFLA_IFNAME, name);
  return message;
}

std::vector<uint32_t> sequencesIn(const std::vector<uint8_t>& datagram) {
  std::vector<uint32_t> sequences;
  forEachMessage(datagram, [&](const nlmsghdr& message) {
    sequences.push_back(message.nlmsg_seq);
    return true;
  });
  return sequences;
}

TEST(Reply, MessageRunningPastTheDatagramIsAnError) {
  auto datagram = errorMessage(0, 1, nullptr);
  auto second = errorMessage(0, 2, nullptr);
  datagram.insert(datagram.end(), second.begin(), second.end());
  datagram.resize(datagram.size() - 4);  // the datagram was cut inside the second message
  EXPECT_THROW(sequencesIn(datagram), Error);
}

TEST(Reply, MessageShorterThanItsHeaderIsAnError) {
  auto datagram = errorMessage(0, 1, nullptr);
  reinterpret_cast<nlmsghdr*>(datagram.data())->nlmsg_len = 8;
  EXPECT_THROW(sequencesIn(datagram), Error);
}

TEST(Reply, BytesLeftAfterTheLastMessageAreAnError) {
  auto datagram = errorMessage(0, 1, nullptr);
  datagram.resize(datagram.size() + 8, 0);
  EXPECT_THROW(sequencesIn(datagram), Error);
}

TEST(Reply, ExtendedAckTextWithoutItsNulIsNotRead) {
  auto buffer = errorMessage(EINVAL, 3, "abc");
  auto* header = reinterpret_cast<nlmsghdr*>(buffer.data());
  // The attribute "abc\0" becomes "abcX": the NUL a NUL_STRING must end with is gone.
  buffer[header->nlmsg_len - 1] = 'X';
  Ack ack = parseAck(*header);
  EXPECT_EQ(ack.error, EINVAL) << "the errno still stands";
  EXPECT_TRUE(ack.extackMessage.empty()) << ack.extackMessage;
}

TEST(Reply, DoneCarriesTheErrnoThatCutADumpShort) {
  Built done(NLMSG_DONE);
  *done.fixed<int>() = -EMSGSIZE;
  EXPECT_EQ(parseDone(*done.header()).error, EMSGSIZE);
  Built clean(NLMSG_DONE);
  *clean.fixed<int>() = 0;
  EXPECT_EQ(parseDone(*clean.header()).error, 0);
}

TEST(Reply, ShortIntegerAttributeRejectsTheLink) {
  Built message = linkMessage("eth0");
  uint16_t twoBytes = 1500;
  mnl_attr_put(message.header(), IFLA_MTU, sizeof twoBytes, &twoBytes);  // a u32 is 4 bytes
  EXPECT_FALSE(parseLink(*message.header()));
}

TEST(Reply, AttributeRunningPastTheMessageRejectsTheLink) {
  Built message = linkMessage("eth0");
  mnl_attr_put_u32(message.header(), IFLA_MTU, 1500);
  // The last attribute claims more bytes than the message has left.
  auto* mtu = reinterpret_cast<nlattr*>(reinterpret_cast<uint8_t*>(message.header()) +
                                        message.header()->nlmsg_len - MNL_ALIGN(8));
  mtu->nla_len = 64;
  EXPECT_FALSE(parseLink(*message.header()));
}

TEST(Reply, NameWithoutItsNulRejectsTheLink) {
  Built message(RTM_NEWLINK);
  message.fixed<ifinfomsg>();
  mnl_attr_put(message.header(), IFLA_IFNAME, 4, "eth0");
  EXPECT_FALSE(parseLink(*message.header()));
}

TEST(Reply, ShortStatisticsRejectTheLink) {
  Built message = linkMessage("eth0");
  uint64_t counters[2] = {1, 2};  // rx_packets and tx_packets only
  mnl_attr_put(message.header(), IFLA_STATS64, sizeof counters, counters);
  EXPECT_FALSE(parseLink(*message.header()));
}

TEST(Reply, MalformedLinkInfoRejectsTheLink) {
  Built message = linkMessage("veth0");
  nlattr* info = mnl_attr_nest_start(message.header(), IFLA_LINKINFO);
  mnl_attr_put(message.header(), IFLA_INFO_KIND, 4, "veth");  // no NUL
  mnl_attr_nest_end(message.header(), info);
  EXPECT_FALSE(parseLink(*message.header()));
}

TEST(Reply, NonEthernetAddressIsNoMacButKeepsTheLink) {
  Built message = linkMessage("gre0");
  uint8_t ipv4[4] = {10, 0, 0, 1};
  mnl_attr_put(message.header(), IFLA_ADDRESS, sizeof ipv4, ipv4);
  nlattr* info = mnl_attr_nest_start(message.header(), IFLA_LINKINFO);
  mnl_attr_put_strz(message.header(), IFLA_INFO_KIND, "gre");
  mnl_attr_nest_end(message.header(), info);
  auto link = parseLink(*message.header());
  ASSERT_TRUE(link);
  EXPECT_FALSE(link->mac);
  EXPECT_EQ(link->kind, "gre");
}

Built addressMessage(uint8_t family, uint8_t prefixLength) {
  Built message(RTM_NEWADDR);
  auto* header = message.fixed<ifaddrmsg>();
  header->ifa_family = family;
  header->ifa_prefixlen = prefixLength;
  header->ifa_index = 7;
  return message;
}

TEST(Reply, Ipv4AddressPrefersTheLocalAddress) {
  Built message = addressMessage(AF_INET, 30);
  uint8_t peer[4] = {10, 0, 0, 2};
  uint8_t local[4] = {10, 0, 0, 1};
  mnl_attr_put(message.header(), IFA_ADDRESS, sizeof peer, peer);
  mnl_attr_put(message.header(), IFA_LOCAL, sizeof local, local);
  auto address = parseAddress(*message.header());
  ASSERT_TRUE(address);
  EXPECT_EQ(address->ifindex, 7u);
  EXPECT_EQ(toString(address->address), "10.0.0.1/30");
}

TEST(Reply, Ipv6AddressReadsFromItsAddressAttribute) {
  Built message = addressMessage(AF_INET6, 64);
  IpAddress expected = *netlab::parseAddress("fd00:1::5");
  mnl_attr_put(message.header(), IFA_ADDRESS, 16, expected.bytes.data());
  auto address = parseAddress(*message.header());
  ASSERT_TRUE(address);
  EXPECT_EQ(toString(address->address), "fd00:1::5/64");
}

TEST(Reply, AddressOfTheWrongSizeOrPrefixIsRejected) {
  Built shortV6 = addressMessage(AF_INET6, 64);
  uint8_t four[4] = {10, 0, 0, 1};
  mnl_attr_put(shortV6.header(), IFA_ADDRESS, sizeof four, four);
  EXPECT_FALSE(parseAddress(*shortV6.header()));

  Built longPrefix = addressMessage(AF_INET, 33);
  mnl_attr_put(longPrefix.header(), IFA_LOCAL, sizeof four, four);
  EXPECT_FALSE(parseAddress(*longPrefix.header()));

  // A bad attribute is rejected even when another one could have been read instead.
  Built badLocal = addressMessage(AF_INET, 24);
  mnl_attr_put(badLocal.header(), IFA_ADDRESS, sizeof four, four);
  mnl_attr_put(badLocal.header(), IFA_LOCAL, 3, four);
  EXPECT_FALSE(parseAddress(*badLocal.header()));
}

Built routeMessage(uint8_t family, uint8_t destinationLength) {
  Built message(RTM_NEWROUTE);
  auto* header = message.fixed<rtmsg>();
  header->rtm_family = family;
  header->rtm_dst_len = destinationLength;
  header->rtm_table = RT_TABLE_MAIN;
  header->rtm_type = RTN_UNICAST;
  header->rtm_protocol = RTPROT_STATIC;
  return message;
}

void putAddress(Built& message, uint16_t type, const char* text) {
  IpAddress address = *netlab::parseAddress(text);
  mnl_attr_put(message.header(), type, address.size(), address.bytes.data());
}

// One rtnexthop with its gateway, as the kernel nests them in RTA_MULTIPATH.
void putHop(std::vector<uint8_t>& hops, int ifindex, const char* gateway) {
  IpAddress address = *netlab::parseAddress(gateway);
  std::vector<uint8_t> hop(RTNH_ALIGN(sizeof(rtnexthop)) + MNL_ALIGN(4 + address.size()), 0);
  auto* header = reinterpret_cast<rtnexthop*>(hop.data());
  header->rtnh_len = static_cast<unsigned short>(hop.size());
  header->rtnh_ifindex = ifindex;
  auto* attribute = reinterpret_cast<nlattr*>(hop.data() + RTNH_ALIGN(sizeof(rtnexthop)));
  attribute->nla_type = RTA_GATEWAY;
  attribute->nla_len = static_cast<uint16_t>(4 + address.size());
  std::memcpy(attribute + 1, address.bytes.data(), address.size());
  hops.insert(hops.end(), hop.begin(), hop.end());
}

TEST(Reply, RouteWithOneGateway) {
  Built message = routeMessage(AF_INET, 16);
  putAddress(message, RTA_DST, "10.6.0.0");
  putAddress(message, RTA_GATEWAY, "10.5.0.2");
  mnl_attr_put_u32(message.header(), RTA_OIF, 3);
  auto route = parseRoute(*message.header());
  ASSERT_TRUE(route);
  EXPECT_EQ(toString(route->destination), "10.6.0.0/16");
  ASSERT_EQ(route->nextHops.size(), 1u);
  EXPECT_EQ(toString(*route->nextHops[0].gateway), "10.5.0.2");
  EXPECT_EQ(route->nextHops[0].oifindex, 3u);
}

TEST(Reply, MultipathRouteListsEveryHop) {
  Built message = routeMessage(AF_INET6, 0);
  std::vector<uint8_t> hops;
  putHop(hops, 2, "fe80::1");
  putHop(hops, 3, "fe80::2");
  mnl_attr_put(message.header(), RTA_MULTIPATH, hops.size(), hops.data());
  auto route = parseRoute(*message.header());
  ASSERT_TRUE(route);
  EXPECT_EQ(toString(route->destination), "::/0");
  ASSERT_EQ(route->nextHops.size(), 2u);
  EXPECT_EQ(route->nextHops[0].oifindex, 2u);
  EXPECT_EQ(toString(*route->nextHops[0].gateway), "fe80::1");
  EXPECT_EQ(route->nextHops[1].oifindex, 3u);
  EXPECT_EQ(toString(*route->nextHops[1].gateway), "fe80::2");
}

TEST(Reply, MultipathHopRunningPastItsAttributeRejectsTheRoute) {
  Built message = routeMessage(AF_INET, 0);
  std::vector<uint8_t> hops;
  putHop(hops, 2, "10.0.0.1");
  putHop(hops, 3, "10.0.0.2");
  // The second hop claims more than the attribute holds.
  reinterpret_cast<rtnexthop*>(hops.data() + hops.size() / 2)->rtnh_len = 200;
  mnl_attr_put(message.header(), RTA_MULTIPATH, hops.size(), hops.data());
  EXPECT_FALSE(parseRoute(*message.header()));
}

TEST(Reply, MultipathGatewayOfTheWrongSizeRejectsTheRoute) {
  Built message = routeMessage(AF_INET6, 0);
  std::vector<uint8_t> hops;
  putHop(hops, 2, "10.0.0.1");  // 4 bytes in an IPv6 route
  mnl_attr_put(message.header(), RTA_MULTIPATH, hops.size(), hops.data());
  EXPECT_FALSE(parseRoute(*message.header()));
}

TEST(Reply, EmptyMultipathRejectsTheRoute) {
  Built message = routeMessage(AF_INET, 0);
  mnl_attr_put(message.header(), RTA_MULTIPATH, 0, nullptr);
  EXPECT_FALSE(parseRoute(*message.header()));
}

TEST(Reply, ShortRouteAttributesRejectTheRoute) {
  Built shortOif = routeMessage(AF_INET, 0);
  putAddress(shortOif, RTA_GATEWAY, "10.0.0.1");
  uint8_t oneByte = 3;
  mnl_attr_put(shortOif.header(), RTA_OIF, 1, &oneByte);
  EXPECT_FALSE(parseRoute(*shortOif.header()));

  Built shortGateway = routeMessage(AF_INET6, 0);
  putAddress(shortGateway, RTA_GATEWAY, "10.0.0.1");
  EXPECT_FALSE(parseRoute(*shortGateway.header()));

  Built shortTable = routeMessage(AF_INET, 0);
  uint16_t table = RT_TABLE_MAIN;
  mnl_attr_put(shortTable.header(), RTA_TABLE, sizeof table, &table);
  EXPECT_FALSE(parseRoute(*shortTable.header()));
}

}  // namespace
}  // namespace netlab::netlink
