// Real netlink in real namespaces. Each test does its namespace work on a thread of its own:
// network namespaces are per thread, so the test binary's own never changes.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>

#include <algorithm>
#include <thread>

#include "netlink/session.hpp"
#include "netns_support.hpp"
#include "nsmgr/namespaces.hpp"

namespace netlab {
namespace {

using netlink::LinkEnd;
using netlink::RequestBatch;
using netlink::Session;

using testing::onOwnThread;

Fd newNamespace() {
  nsmgr::enterScratchNetworkNamespace();
  return openFile("/proc/thread-self/ns/net", O_RDONLY);
}

TEST(Session, VethEndsAreBornInTheirNamespacesUnderTheirNames) {
  onOwnThread([] {
    Fd left = newNamespace();
    Fd right = newNamespace();
    Fd scratch = newNamespace();
    Session session = Session::openInCurrentNamespace();
    RequestBatch batch;
    batch.newVethPair({"eth0", 2, {2, 0, 0, 0, 0, 1}, 1400, left.get(), 0, true},
                      {"eth7", 9, {2, 0, 0, 0, 0, 2}, 1400, right.get(), 0, false}, "veth test");
    session.execute(batch);
    EXPECT_EQ(session.dumpLinks().size(), 1u) << "nothing but lo in the socket's namespace";

    nsmgr::enterNetworkNamespace(right, "right");
    Session inRight = Session::openInCurrentNamespace();
    auto links = inRight.dumpLinks();
    ASSERT_EQ(links.size(), 2u);
    EXPECT_EQ(links[1].name, "eth7");
    EXPECT_EQ(links[1].ifindex, 9u);
    EXPECT_EQ(links[1].mtu, 1400u);
    EXPECT_EQ(toString(*links[1].mac), "02:00:00:00:00:02");
    EXPECT_FALSE(links[1].flags & IFF_UP) << "a peer is born down";
    EXPECT_EQ(links[1].kind, "veth");
  });
}

TEST(Session, KernelRefusalNamesTheRequestAndCarriesErrno) {
  onOwnThread([] {
    Fd scratch = newNamespace();
    Session session = Session::openInCurrentNamespace();
    RequestBatch batch;
    batch.newVethPair({"a", 5, {}, 1500, -1, 0, false}, {"b", 6, {}, 1500, -1, 0, false},
                      "veth a <-> b");
    batch.newVethPair({"a", 7, {}, 1500, -1, 0, false}, {"c", 8, {}, 1500, -1, 0, false},
                      "veth a <-> c");
    try {
      session.execute(batch);
      FAIL() << "a second device named a was accepted";
    } catch (const netlink::NetlinkError& error) {
      EXPECT_EQ(error.errnoValue(), EEXIST);
      EXPECT_NE(std::string(error.what()).find("RTM_NEWLINK veth a <-> c: File exists"),
                std::string::npos)
          << error.what();
    }
    // The socket is clean after a failure: the next batch is acked normally.
    RequestBatch next;
    next.setLinkUp(5, true, "a up");
    session.execute(next);
  });
}

TEST(Session, AddressesAndRoutesReadBack) {
  onOwnThread([] {
    Fd scratch = newNamespace();
    Session session = Session::openInCurrentNamespace();
    RequestBatch batch;
    batch.newVethPair({"x0", 3, {}, 1500, -1, 0, true}, {"x1", 4, {}, 1500, -1, 0, false}, "veth");
    batch.newAddress(3, *parsePrefix("10.5.0.1/24"), "x0 v4");
    batch.newAddress(3, *parsePrefix("fd00:5::1/64"), "x0 v6");
    netlink::RouteSpec route;
    route.destination = *parsePrefix("10.6.0.0/16");
    route.gateway = parseAddress("10.5.0.2");
    batch.newRoute(route, "route");
    session.execute(batch);
    std::vector<std::string> addresses;
    for (const auto& address : session.dumpAddresses()) {
      if (address.ifindex == 3) addresses.push_back(toString(address.address));
    }
    EXPECT_NE(std::find(addresses.begin(), addresses.end(), "10.5.0.1/24"), addresses.end());
    EXPECT_NE(std::find(addresses.begin(), addresses.end(), "fd00:5::1/64"), addresses.end());
    bool routeFound = false;
    for (const auto& read : session.dumpRoutes()) {
      if (toString(read.destination) != "10.6.0.0/16") continue;
      routeFound = true;
      ASSERT_EQ(read.nextHops.size(), 1u);
      ASSERT_TRUE(read.nextHops[0].gateway);
      EXPECT_EQ(toString(*read.nextHops[0].gateway), "10.5.0.2");
      EXPECT_EQ(read.nextHops[0].oifindex, 3u);
      EXPECT_EQ(read.protocol, RTPROT_STATIC);
    }
    EXPECT_TRUE(routeFound) << "the route added is not in the dump";
  });
}

// RequestBatch has no multipath routes; the test builds one as iproute2 does (RTA_MULTIPATH:
// rtnexthop records, each followed by its gateway) and reads back what the kernel encodes.
std::vector<uint8_t> multipathRoute(const char* destination, uint8_t length,
                                    const std::vector<std::pair<int, const char*>>& hops) {
  std::vector<uint8_t> buffer(1024);
  nlmsghdr* header = mnl_nlmsg_put_header(buffer.data());
  header->nlmsg_type = RTM_NEWROUTE;
  header->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL;
  auto* route = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(header, sizeof(rtmsg)));
  route->rtm_family = AF_INET;
  route->rtm_dst_len = length;
  route->rtm_table = RT_TABLE_MAIN;
  route->rtm_protocol = RTPROT_STATIC;
  route->rtm_type = RTN_UNICAST;
  IpAddress address = *parseAddress(destination);
  mnl_attr_put(header, RTA_DST, 4, address.bytes.data());
  nlattr* multipath = mnl_attr_nest_start(header, RTA_MULTIPATH);
  multipath->nla_type = RTA_MULTIPATH;  // not flagged nested: iproute2 sends it plain
  for (const auto& [ifindex, gateway] : hops) {
    auto* hop = static_cast<rtnexthop*>(mnl_nlmsg_get_payload_tail(header));
    *hop = rtnexthop{};
    hop->rtnh_ifindex = ifindex;
    header->nlmsg_len += RTNH_ALIGN(sizeof(rtnexthop));
    IpAddress via = *parseAddress(gateway);
    mnl_attr_put(header, RTA_GATEWAY, 4, via.bytes.data());
    hop->rtnh_len =
        static_cast<unsigned short>(static_cast<uint8_t*>(mnl_nlmsg_get_payload_tail(header)) -
                                    reinterpret_cast<uint8_t*>(hop));
  }
  mnl_attr_nest_end(header, multipath);
  buffer.resize(header->nlmsg_len);
  return buffer;
}

TEST(Session, MultipathRouteReadsBackEveryHop) {
  onOwnThread([] {
    Fd scratch = newNamespace();
    Session session = Session::openInCurrentNamespace();
    RequestBatch batch;
    batch.newVethPair({"a0", 3, {}, 1500, -1, 0, true}, {"a1", 4, {}, 1500, -1, 0, false},
                      "veth a");
    batch.newVethPair({"b0", 5, {}, 1500, -1, 0, true}, {"b1", 6, {}, 1500, -1, 0, false},
                      "veth b");
    batch.newAddress(3, *parsePrefix("10.5.0.1/24"), "a0 v4");
    batch.newAddress(5, *parsePrefix("10.7.0.1/24"), "b0 v4");
    auto route = multipathRoute("10.8.0.0", 16, {{3, "10.5.0.2"}, {5, "10.7.0.2"}});
    batch.appendRaw(route.data(), route.size(), "multipath 10.8.0.0/16");
    session.execute(batch);
    std::vector<netlink::RouteInfo> found;
    for (const auto& read : session.dumpRoutes()) {
      if (toString(read.destination) == "10.8.0.0/16") found.push_back(read);
    }
    ASSERT_EQ(found.size(), 1u);
    ASSERT_EQ(found[0].nextHops.size(), 2u);
    EXPECT_EQ(found[0].nextHops[0].oifindex, 3u);
    EXPECT_EQ(toString(*found[0].nextHops[0].gateway), "10.5.0.2");
    EXPECT_EQ(found[0].nextHops[1].oifindex, 5u);
    EXPECT_EQ(toString(*found[0].nextHops[1].gateway), "10.7.0.2");
  });
}

TEST(Session, ALinkAskedForAloneIsFoundByIfindex) {
  onOwnThread([] {
    Fd scratch = newNamespace();
    Session session = Session::openInCurrentNamespace();
    RequestBatch batch;
    batch.newVethPair({"v0", 20, {}, 1500, -1, 0, true}, {"v1", 21, {}, 1400, -1, 0, false},
                      "veth test");
    session.execute(batch);
    auto link = session.getLink(21);
    ASSERT_TRUE(link);
    EXPECT_EQ(link->name, "v1");
    EXPECT_EQ(link->ifindex, 21u);
    EXPECT_EQ(link->mtu, 1400u);
    EXPECT_EQ(link->kind, "veth");
    auto born = session.getLink(20);
    ASSERT_TRUE(born);
    EXPECT_EQ(born->name, "v0");
    EXPECT_TRUE(born->flags & IFF_UP) << "the end the request made up";
    EXPECT_FALSE(session.getLink(999)) << "no such link: nullopt, not an error";
    EXPECT_EQ(session.dumpLinks().size(), 3u) << "the session still reads dumps whole";
  });
}

// Hundreds of links do not fit in one datagram: the dump spans many, each read whole.
TEST(Session, DumpSpanningManyDatagramsReadsEveryLink) {
  onOwnThread([] {
    Fd scratch = newNamespace();
    Session session = Session::openInCurrentNamespace();
    RequestBatch batch;
    constexpr uint32_t kPairs = 300;
    for (uint32_t i = 0; i < kPairs; ++i) {
      std::string index = std::to_string(i);
      batch.newVethPair({"l" + index, 10 + 2 * i, {}, 1500, -1, 0, false},
                        {"r" + index, 11 + 2 * i, {}, 1500, -1, 0, false}, "veth " + index);
    }
    session.execute(batch);
    auto links = session.dumpLinks();
    EXPECT_EQ(links.size(), 1 + 2 * kPairs);
    std::vector<uint32_t> ifindexes;
    for (const auto& link : links) ifindexes.push_back(link.ifindex);
    std::sort(ifindexes.begin(), ifindexes.end());
    EXPECT_EQ(std::adjacent_find(ifindexes.begin(), ifindexes.end()), ifindexes.end())
        << "a link was read twice";
  });
}

}  // namespace
}  // namespace netlab
