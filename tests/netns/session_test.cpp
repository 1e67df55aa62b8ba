// Real netlink in real namespaces. Each test does its namespace work on a thread of its own:
// network namespaces are per thread, so the test binary's own never changes.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <linux/if.h>

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
    batch.newVethPair({"a", 5, {}, 1500, -1, 0, false}, {"b", 6, {}, 1500, -1, 0, false}, "veth a <-> b");
    batch.newVethPair({"a", 7, {}, 1500, -1, 0, false}, {"c", 8, {}, 1500, -1, 0, false}, "veth a <-> c");
    try {
      session.execute(batch);
      FAIL() << "a second device named a was accepted";
    } catch (const netlink::NetlinkError& error) {
      EXPECT_EQ(error.errnoValue(), EEXIST);
      EXPECT_NE(std::string(error.what()).find("RTM_NEWLINK veth a <-> c: File exists"), std::string::npos)
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
  });
}

}  // namespace
}  // namespace netlab
