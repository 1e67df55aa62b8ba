// How a plan becomes kernel requests, without a kernel.
#include <gtest/gtest.h>
#include <linux/rtnetlink.h>

#include "base/error.hpp"
#include "nsmgr/wiring.hpp"

namespace netlab::nsmgr {
namespace {

topo::Interface interface(std::string name, std::string peerNode, std::string peerInterface,
                          std::vector<std::string> addresses = {}) {
  topo::Interface result;
  result.name = std::move(name);
  result.peerNode = std::move(peerNode);
  result.peerInterface = std::move(peerInterface);
  for (const auto& address : addresses) result.addresses.push_back(*parsePrefix(address));
  return result;
}

topo::Node node(std::string name, topo::NodeKind kind) {
  topo::Node result;
  result.name = std::move(name);
  result.kind = kind;
  return result;
}

// h1 -- s1 -- h2, and h1 -- r1 point-to-point with IPv6.
topo::Plan smallLab() {
  topo::Plan plan;
  plan.name = "wiring";
  topo::Node h1 = node("h1", topo::NodeKind::Host);
  h1.interfaces = {interface("eth0", "s1", "eth0", {"10.0.0.1/24"}),
                   interface("eth1", "r1", "eth0", {"fd00::1/64"})};
  topo::Node h2 = node("h2", topo::NodeKind::Host);
  h2.interfaces = {interface("eth0", "s1", "eth1", {"10.0.0.2/24"})};
  h2.routes = {{*parsePrefix("0.0.0.0/0"), parseAddress("10.0.0.1"), "eth0", 10}};
  topo::Node s1 = node("s1", topo::NodeKind::Switch);
  s1.interfaces = {interface("eth0", "h1", "eth0"), interface("eth1", "h2", "eth0")};
  topo::Node r1 = node("r1", topo::NodeKind::Router);
  r1.interfaces = {interface("eth0", "h1", "eth1", {"fd00::2/64"})};
  plan.nodes = {h1, h2, s1, r1};
  return plan;
}

TEST(Wiring, EachVethPairOnceWithTheSwitchPortAsMainEnd) {
  topo::Plan plan = smallLab();
  Wiring wiring(plan);
  ASSERT_EQ(wiring.vethPairs().size(), 3u);
  const VethPair& first = wiring.vethPairs()[0];
  EXPECT_EQ(first.local.node, 2u) << "the switch port is the main end";
  EXPECT_EQ(first.peer.node, 0u);
  EXPECT_EQ(wiring.describe(first), "veth s1:eth0 <-> h1:eth0");
  netlink::LinkEnd port = wiring.linkEnd(first.local);
  EXPECT_EQ(port.masterIfindex, kBridgeIfindex);
  EXPECT_EQ(port.ifindex, kFirstInterfaceIfindex + 3) << "numbered across the lab: h1 has 2, h2 1";
  EXPECT_NE(wiring.ifindexOf(first.local), wiring.ifindexOf(first.peer));
}

std::vector<std::string> descriptionsOf(const netlink::RequestBatch& batch) {
  std::vector<std::string> descriptions;
  for (const auto& request : batch.requests()) descriptions.push_back(request.description);
  return descriptions;
}

TEST(Wiring, LinksAreBornDownAndRaisedFromInsideAfterChoosingLinkLocal) {
  topo::Plan plan = smallLab();
  Wiring wiring(plan);
  for (size_t node = 0; node < plan.nodes.size(); ++node) {
    for (size_t i = 0; i < plan.nodes[node].interfaces.size(); ++i) {
      EXPECT_FALSE(wiring.linkEnd({node, i}).up) << "node " << node << " interface " << i;
    }
  }
  EXPECT_TRUE(wiring.carriesIpv6(0));
  EXPECT_FALSE(wiring.carriesIpv6(1));
  EXPECT_EQ(descriptionsOf(wiring.nodeConfiguration(0)),
            (std::vector<std::string>{
                "h1:lo up", "h1:eth0 addrgenmode none", "h1:eth0 up", "h1:eth1 addrgenmode eui64",
                "h1:eth1 up", "h1:eth0 address 10.0.0.1/24", "h1:eth1 address fd00::1/64"}));
}

TEST(Wiring, SwitchRaisesItsBridgeWithoutLinkLocal) {
  topo::Plan plan = smallLab();
  Wiring wiring(plan);
  EXPECT_EQ(descriptionsOf(wiring.nodeConfiguration(2)),
            (std::vector<std::string>{"s1:lo up", "s1:br0 addrgenmode none", "s1:br0 up",
                                      "s1:eth0 addrgenmode none", "s1:eth0 up",
                                      "s1:eth1 addrgenmode none", "s1:eth1 up"}));
}

TEST(Wiring, RoutesNameTheirDeviceByIfindex) {
  topo::Plan plan = smallLab();
  Wiring wiring(plan);
  netlink::RequestBatch batch = wiring.nodeConfiguration(1);
  const auto& last = batch.requests().back();
  EXPECT_EQ(last.description, "h2 route 0.0.0.0/0 via 10.0.0.1 dev eth0");
  const auto* header = reinterpret_cast<const nlmsghdr*>(batch.bytes().data() + last.offset);
  EXPECT_EQ(header->nlmsg_type, RTM_NEWROUTE);
}

TEST(Wiring, AStartedNodeReplacesWhatItsNamespaceKept) {
  topo::Plan plan = smallLab();
  Wiring wiring(plan);
  netlink::RequestBatch batch = wiring.nodeConfiguration(1, netlink::Existing::Replace);
  for (const auto& request : batch.requests()) {
    const auto* header = reinterpret_cast<const nlmsghdr*>(batch.bytes().data() + request.offset);
    if (header->nlmsg_type != RTM_NEWADDR && header->nlmsg_type != RTM_NEWROUTE) continue;
    EXPECT_TRUE(header->nlmsg_flags & NLM_F_REPLACE) << request.description;
    EXPECT_FALSE(header->nlmsg_flags & NLM_F_EXCL) << request.description;
  }
}

TEST(Wiring, AnEndMadeAgainIsConfiguredAsUpConfiguredIt) {
  topo::Plan plan = smallLab();
  Wiring wiring(plan);
  EXPECT_EQ(descriptionsOf(wiring.endConfiguration({1, 0})),
            (std::vector<std::string>{"h2:eth0 addrgenmode none", "h2:eth0 up",
                                      "h2:eth0 address 10.0.0.2/24",
                                      "h2 route 0.0.0.0/0 via 10.0.0.1 dev eth0"}));
  EXPECT_EQ(descriptionsOf(wiring.endConfiguration({2, 1})),
            (std::vector<std::string>{"s1:eth1 addrgenmode none", "s1:eth1 up"}))
      << "a switch port born enslaved";
}

TEST(Wiring, ARunningLabsInterfacesKeepTheirRecordedIfindexes) {
  topo::Plan plan = smallLab();
  // As `apply` records them: r1's interface added after the others, numbered above them all.
  std::vector<NodeRuntime> recorded = {{"h1", 0, 0, {{"eth0", 16}, {"eth1", 40}}},
                                       {"h2", 0, 0, {{"eth0", 18}}},
                                       {"s1", 0, 0, {{"eth1", 20}, {"eth0", 19}}},
                                       {"r1", 0, 0, {{"eth0", 41}}}};
  Wiring wiring(plan, recorded);
  EXPECT_EQ(wiring.ifindexOf({0, 1}), 40u);
  EXPECT_EQ(wiring.ifindexOf({2, 0}), 19u) << "by name, not by position in the record";
  EXPECT_EQ(wiring.linkEnd({3, 0}).ifindex, 41u);
  recorded[3].interfaces.clear();
  EXPECT_THROW(Wiring(plan, recorded), Error) << "an interface without a record";
}

TEST(Wiring, UnknownPeerIsRefused) {
  topo::Plan plan = smallLab();
  plan.nodes[3].interfaces[0].peerInterface = "eth9";
  EXPECT_THROW(Wiring{plan}, Error);
}

}  // namespace
}  // namespace netlab::nsmgr
