// Requests are checked as bytes: what the kernel will read, attribute by attribute.
#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sys/socket.h>

#include <map>
#include <string>

#include "base/error.hpp"
#include "netlink/requests.hpp"

namespace netlab::netlink {
namespace {

using Attributes = std::map<int, const nlattr*>;

Attributes attributesOf(const nlmsghdr* message, size_t headerSize) {
  Attributes found;
  mnl_attr_parse(
      message, static_cast<unsigned>(headerSize),
      [](const nlattr* attribute, void* out) {
        (*static_cast<Attributes*>(out))[mnl_attr_get_type(attribute)] = attribute;
        return MNL_CB_OK;
      },
      &found);
  return found;
}

Attributes nested(const nlattr* nest) {
  Attributes found;
  mnl_attr_parse_nested(
      nest,
      [](const nlattr* attribute, void* out) {
        (*static_cast<Attributes*>(out))[mnl_attr_get_type(attribute)] = attribute;
        return MNL_CB_OK;
      },
      &found);
  return found;
}

const nlmsghdr* messageAt(const RequestBatch& batch, size_t index) {
  return reinterpret_cast<const nlmsghdr*>(batch.bytes().data() + batch.requests()[index].offset);
}

TEST(RequestBatch, VethPairCarriesBothEndsWithTheirNamespaces) {
  RequestBatch batch(7);
  LinkEnd local{"eth0", 2, {2, 0, 0, 0, 0, 1}, 9000, 11, 0, true};
  LinkEnd peer{"eth3", 5, {2, 0, 0, 0, 0, 2}, 9000, 12, 0, false};
  batch.newVethPair(local, peer, "veth r1:eth0 <-> r2:eth3");

  ASSERT_EQ(batch.size(), 1u);
  const nlmsghdr* message = messageAt(batch, 0);
  EXPECT_EQ(message->nlmsg_type, RTM_NEWLINK);
  EXPECT_EQ(message->nlmsg_seq, 7u);
  EXPECT_EQ(message->nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
  const auto* info = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(message));
  EXPECT_EQ(info->ifi_index, 2);
  EXPECT_EQ(info->ifi_flags & IFF_UP, IFF_UP);

  Attributes top = attributesOf(message, sizeof(ifinfomsg));
  EXPECT_STREQ(mnl_attr_get_str(top.at(IFLA_IFNAME)), "eth0");
  EXPECT_EQ(mnl_attr_get_u32(top.at(IFLA_MTU)), 9000u);
  EXPECT_EQ(mnl_attr_get_u32(top.at(IFLA_NET_NS_FD)), 11u);
  EXPECT_EQ(top.count(IFLA_MASTER), 0u);

  Attributes linkInfo = nested(top.at(IFLA_LINKINFO));
  EXPECT_STREQ(mnl_attr_get_str(linkInfo.at(IFLA_INFO_KIND)), "veth");
  Attributes data = nested(linkInfo.at(IFLA_INFO_DATA));
  const nlattr* peerNest = data.at(VETH_INFO_PEER);
  // The peer is a whole link message: its ifinfomsg, then its attributes.
  const auto* peerInfo = static_cast<const ifinfomsg*>(mnl_attr_get_payload(peerNest));
  EXPECT_EQ(peerInfo->ifi_index, 5);
  EXPECT_EQ(peerInfo->ifi_flags & IFF_UP, 0u)
      << "the kernel cannot open a peer before its pair exists";
  Attributes peerAttributes;
  const auto* first = reinterpret_cast<const nlattr*>(
      static_cast<const char*>(mnl_attr_get_payload(peerNest)) + MNL_ALIGN(sizeof(ifinfomsg)));
  size_t length = mnl_attr_get_payload_len(peerNest) - MNL_ALIGN(sizeof(ifinfomsg));
  for (const nlattr* attribute = first; mnl_attr_ok(attribute, static_cast<int>(length));
       attribute = mnl_attr_next(attribute)) {
    length -= MNL_ALIGN(attribute->nla_len);
    peerAttributes[mnl_attr_get_type(attribute)] = attribute;
  }
  EXPECT_STREQ(mnl_attr_get_str(peerAttributes.at(IFLA_IFNAME)), "eth3");
  EXPECT_EQ(mnl_attr_get_u32(peerAttributes.at(IFLA_NET_NS_FD)), 12u);
  const auto* mac =
      static_cast<const uint8_t*>(mnl_attr_get_payload(peerAttributes.at(IFLA_ADDRESS)));
  EXPECT_EQ(mac[5], 2);
}

TEST(RequestBatch, SwitchPortIsEnslavedAtCreation) {
  RequestBatch batch;
  batch.newVethPair({"eth0", 3, {}, 1500, 4, 2, true}, {"eth0", 2, {}, 1500, 5, 0, true}, "port");
  Attributes top = attributesOf(messageAt(batch, 0), sizeof(ifinfomsg));
  EXPECT_EQ(mnl_attr_get_u32(top.at(IFLA_MASTER)), 2u);
  EXPECT_EQ(top.count(IFLA_ADDRESS), 0u) << "an all-zero MAC means: let the kernel choose";
}

TEST(RequestBatch, Ipv6AddressSkipsDuplicateAddressDetection) {
  RequestBatch batch;
  auto address = parsePrefix("fd00::1/64");
  ASSERT_TRUE(address);
  batch.newAddress(3, *address, "eth1 address");
  const nlmsghdr* message = messageAt(batch, 0);
  const auto* header = static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(message));
  EXPECT_EQ(header->ifa_family, AF_INET6);
  EXPECT_EQ(header->ifa_prefixlen, 64);
  EXPECT_EQ(header->ifa_index, 3u);
  Attributes attributes = attributesOf(message, sizeof(ifaddrmsg));
  EXPECT_EQ(mnl_attr_get_u32(attributes.at(IFA_FLAGS)) & IFA_F_NODAD, IFA_F_NODAD);
  EXPECT_EQ(attributes.count(IFA_BROADCAST), 0u);
}

TEST(RequestBatch, Ipv4AddressGetsItsBroadcast) {
  RequestBatch batch;
  batch.newAddress(2, *parsePrefix("10.1.2.3/24"), "eth0 address");
  Attributes attributes = attributesOf(messageAt(batch, 0), sizeof(ifaddrmsg));
  const auto* broadcast =
      static_cast<const uint8_t*>(mnl_attr_get_payload(attributes.at(IFA_BROADCAST)));
  EXPECT_EQ(broadcast[3], 255);
  EXPECT_EQ(broadcast[2], 2);
}

TEST(RequestBatch, RouteWithoutGatewayIsOnLink) {
  RequestBatch batch;
  RouteSpec route;
  route.destination = *parsePrefix("10.9.0.0/16");
  route.oifindex = 4;
  route.metric = 20;
  batch.newRoute(route, "r1 route");
  const nlmsghdr* message = messageAt(batch, 0);
  const auto* header = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(message));
  EXPECT_EQ(header->rtm_scope, RT_SCOPE_LINK);
  EXPECT_EQ(header->rtm_dst_len, 16);
  EXPECT_EQ(header->rtm_protocol, RTPROT_STATIC);
  Attributes attributes = attributesOf(message, sizeof(rtmsg));
  EXPECT_EQ(mnl_attr_get_u32(attributes.at(RTA_OIF)), 4u);
  EXPECT_EQ(mnl_attr_get_u32(attributes.at(RTA_PRIORITY)), 20u);
  EXPECT_EQ(attributes.count(RTA_GATEWAY), 0u);
}

TEST(RequestBatch, DefaultRouteHasNoDestinationAttribute) {
  RequestBatch batch;
  RouteSpec route;
  route.destination = *parsePrefix("0.0.0.0/0");
  route.gateway = parseAddress("10.0.0.1");
  batch.newRoute(route, "default");
  Attributes attributes = attributesOf(messageAt(batch, 0), sizeof(rtmsg));
  EXPECT_EQ(attributes.count(RTA_DST), 0u);
  EXPECT_EQ(attributes.count(RTA_GATEWAY), 1u);
}

TEST(RequestBatch, Ipv4ForwardingIsADevconfValueOfTheLink) {
  RequestBatch batch;
  batch.setIpv4Forwarding(17, true, "r1:eth0 forwarding");
  const nlmsghdr* message = messageAt(batch, 0);
  EXPECT_EQ(message->nlmsg_type, RTM_SETLINK);
  const auto* info = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(message));
  EXPECT_EQ(info->ifi_index, 17);
  EXPECT_EQ(info->ifi_change, 0u);
  Attributes afSpec = nested(attributesOf(message, sizeof(ifinfomsg)).at(IFLA_AF_SPEC));
  Attributes inet = nested(afSpec.at(AF_INET));
  Attributes conf = nested(inet.at(IFLA_INET_CONF));
  ASSERT_EQ(conf.size(), 1u);
  EXPECT_EQ(mnl_attr_get_u32(conf.at(IPV4_DEVCONF_FORWARDING)), 1u);
}

TEST(RequestBatch, SequenceNumbersFollowRequestsAndFindMatchesThem) {
  RequestBatch batch(100);
  batch.setLinkUp(1, true, "lo up");
  batch.setAddrGenMode(2, IN6_ADDR_GEN_MODE_EUI64, "eth0 addrgenmode");
  batch.setMaster(3, 2, "eth1 master");
  ASSERT_EQ(batch.size(), 3u);
  EXPECT_EQ(batch.find(101)->description, "eth0 addrgenmode");
  EXPECT_EQ(batch.find(99), nullptr);
  EXPECT_EQ(batch.find(103), nullptr);
  EXPECT_EQ(messageAt(batch, 2)->nlmsg_seq, 102u);
  EXPECT_EQ(messageTypeName(messageAt(batch, 0)->nlmsg_type), "RTM_SETLINK");
}

TEST(RequestBatch, DeleteLinkNamesItByIfindexOnly) {
  RequestBatch batch;
  batch.deleteLink(42, "r1:eth2 delete");
  const nlmsghdr* message = messageAt(batch, 0);
  EXPECT_EQ(messageTypeName(message->nlmsg_type), "RTM_DELLINK");
  EXPECT_EQ(static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(message))->ifi_index, 42);
  EXPECT_TRUE(attributesOf(message, sizeof(ifinfomsg)).empty());
}

TEST(RequestBatch, DeleteAddressNamesTheAddressOnItsIfindex) {
  RequestBatch batch;
  batch.deleteAddress(17, *parsePrefix("10.0.0.1/30"), "h1:eth0 address 10.0.0.1/30 delete");
  const nlmsghdr* message = messageAt(batch, 0);
  EXPECT_EQ(messageTypeName(message->nlmsg_type), "RTM_DELADDR");
  const auto* header = static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(message));
  EXPECT_EQ(header->ifa_index, 17u);
  EXPECT_EQ(header->ifa_prefixlen, 30);
  EXPECT_EQ(header->ifa_family, AF_INET);
  Attributes attributes = attributesOf(message, sizeof(ifaddrmsg));
  EXPECT_EQ(attributes.count(IFA_LOCAL), 1u);
  EXPECT_EQ(attributes.count(IFA_BROADCAST), 0u);
}

// The words of the error a request raises while it is built, or "" if it builds.
template <typename Build>
std::string buildError(Build build) {
  try {
    build();
  } catch (const Error& error) {
    return error.what();
  }
  return "";
}

TEST(RequestBatch, NameLongerThanTheKernelHoldsIsRefusedNamingTheRequest) {
  RequestBatch batch;
  batch.setLinkUp(1, true, "lo up");
  std::string error = buildError([&] {
    batch.newVethPair({"eth0", 2, {}, 1500, -1, 0, false},
                      {"sixteen-bytes-xx", 3, {}, 1500, -1, 0, false}, "veth r1:eth0 <-> r2:x");
  });
  EXPECT_NE(error.find("RTM_NEWLINK veth r1:eth0 <-> r2:x"), std::string::npos) << error;
  EXPECT_NE(error.find("IFNAMSIZ"), std::string::npos) << error;
  // Nothing of the failed request is left, and the next one takes the sequence it would have.
  EXPECT_EQ(batch.size(), 1u);
  EXPECT_EQ(batch.bytes().size(), messageAt(batch, 0)->nlmsg_len);
  batch.setLinkUp(2, true, "eth0 up");
  EXPECT_EQ(batch.find(2)->description, "eth0 up");
  EXPECT_EQ(messageAt(batch, 1)->nlmsg_seq, 2u);
}

TEST(RequestBatch, FifteenByteNameFits) {
  RequestBatch batch;
  batch.newBridge({"fifteen-bytes-x", 2, {}, 1500, -1, 0, true}, "bridge");
  Attributes top = attributesOf(messageAt(batch, 0), sizeof(ifinfomsg));
  EXPECT_STREQ(mnl_attr_get_str(top.at(IFLA_IFNAME)), "fifteen-bytes-x");
}

TEST(RequestBatch, HugeNameIsAnErrorNotAnOverflow) {
  RequestBatch batch;
  std::string huge(5000, 'x');
  EXPECT_THROW(batch.newBridge({huge, 2, {}, 1500, -1, 0, true}, "bridge"), Error);
  EXPECT_THROW(batch.newVethPair({"a", 2, {}, 1500, -1, 0, false},
                                 {huge, 3, {}, 1500, -1, 0, false}, "veth"),
               Error);
  EXPECT_TRUE(batch.empty());
  EXPECT_TRUE(batch.bytes().empty());
}

TEST(RequestBatch, EmptyNameOrNameWithANulIsRefused) {
  RequestBatch batch;
  EXPECT_THROW(batch.newBridge({"", 2, {}, 1500, -1, 0, true}, "bridge"), Error);
  EXPECT_THROW(batch.newBridge({std::string("br\0x", 4), 2, {}, 1500, -1, 0, true}, "bridge"),
               Error);
  EXPECT_TRUE(batch.empty());
}

TEST(RequestBatch, RawMessageMustBeTheRequestItsHeaderDescribes) {
  RequestBatch batch;
  uint8_t tooShort[8] = {};
  EXPECT_THROW(batch.appendRaw(tooShort, sizeof tooShort, "qdisc"), Error);

  std::vector<uint8_t> message(64, 0);
  auto* header = reinterpret_cast<nlmsghdr*>(message.data());
  header->nlmsg_type = RTM_NEWQDISC;
  header->nlmsg_len = 200;  // says more than was passed
  std::string error =
      buildError([&] { batch.appendRaw(message.data(), message.size(), "eth0 netem"); });
  EXPECT_NE(error.find("RTM_NEWQDISC eth0 netem"), std::string::npos) << error;

  std::vector<uint8_t> huge(RequestBatch::kMaxRequestBytes + 4, 0);
  reinterpret_cast<nlmsghdr*>(huge.data())->nlmsg_len = static_cast<uint32_t>(huge.size());
  EXPECT_THROW(batch.appendRaw(huge.data(), huge.size(), "huge"), Error);
  EXPECT_TRUE(batch.empty());

  header->nlmsg_len = static_cast<uint32_t>(message.size());
  batch.appendRaw(message.data(), message.size(), "eth0 netem");
  EXPECT_EQ(batch.size(), 1u);
  EXPECT_EQ(messageAt(batch, 0)->nlmsg_flags & NLM_F_ACK, NLM_F_ACK);
}

}  // namespace
}  // namespace netlab::netlink
