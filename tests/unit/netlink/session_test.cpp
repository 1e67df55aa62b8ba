// The Session's receive path without a kernel: a scripted transport answers each request with
// hand-made datagrams, and the socket reads are tried on a local datagram socket pair.
#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cstring>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "base/fd.hpp"
#include "netlink/session.hpp"

namespace netlab::netlink {
namespace {

constexpr uint32_t kPort = 4242;

// Netlink messages appended one after another into one datagram.
class DatagramBuilder {
 public:
  DatagramBuilder& link(uint32_t sequence, const char* name, uint16_t flags = 0,
                        uint32_t port = kPort) {
    nlmsghdr* header = start(RTM_NEWLINK, sequence, flags | NLM_F_MULTI, port);
    static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(header, sizeof(ifinfomsg)))->ifi_index = 2;
    mnl_attr_put_strz(header, IFLA_IFNAME, name);
    return finish(header);
  }
  DatagramBuilder& done(uint32_t sequence, uint16_t flags = 0, int error = 0) {
    nlmsghdr* header = start(NLMSG_DONE, sequence, flags | NLM_F_MULTI, kPort);
    *static_cast<int*>(mnl_nlmsg_put_extra_header(header, sizeof(int))) = error;
    return finish(header);
  }
  DatagramBuilder& ack(uint32_t sequence, int error, uint32_t port = kPort) {
    nlmsghdr* header = start(NLMSG_ERROR, sequence, NLM_F_CAPPED, port);
    auto* payload = static_cast<nlmsgerr*>(mnl_nlmsg_put_extra_header(header, sizeof(nlmsgerr)));
    payload->error = -error;
    payload->msg.nlmsg_seq = sequence;
    return finish(header);
  }
  std::vector<uint8_t> bytes() const { return bytes_; }

 private:
  nlmsghdr* start(uint16_t type, uint32_t sequence, uint16_t flags, uint32_t port) {
    scratch_.assign(MNL_SOCKET_BUFFER_SIZE, 0);
    nlmsghdr* header = mnl_nlmsg_put_header(scratch_.data());
    header->nlmsg_type = type;
    header->nlmsg_seq = sequence;
    header->nlmsg_flags = flags;
    header->nlmsg_pid = port;
    return header;
  }
  DatagramBuilder& finish(const nlmsghdr* header) {
    bytes_.insert(bytes_.end(), scratch_.begin(), scratch_.begin() + header->nlmsg_len);
    return *this;
  }

  std::vector<uint8_t> bytes_;
  std::vector<uint8_t> scratch_;
};

// Answers each request sent with whatever respond queues, from the kernel unless told otherwise.
class ScriptedTransport final : public Transport {
 public:
  using Responder = std::function<void(const nlmsghdr& request, ScriptedTransport& transport)>;
  explicit ScriptedTransport(Responder respond) : respond_(std::move(respond)) {}

  void queue(std::vector<uint8_t> datagram, std::optional<uint32_t> sender = 0u) {
    queued_.push_back({std::move(datagram), sender});
  }
  const std::vector<nlmsghdr>& requests() const { return requests_; }

  void send(std::span<const uint8_t> datagram, const std::string&) override {
    forEachMessage(datagram, [&](const nlmsghdr& request) {
      requests_.push_back(request);
      respond_(request, *this);
      return true;
    });
  }
  Datagram receive() override {
    if (queued_.empty()) throw std::logic_error("the script has no reply left: a receive hangs");
    current_ = std::move(queued_.front());
    queued_.pop_front();
    return {current_.bytes, current_.sender};
  }
  bool waitReadable(std::chrono::milliseconds) override { return !queued_.empty(); }
  void joinGroup(unsigned) override {}

 private:
  struct Queued {
    std::vector<uint8_t> bytes;
    std::optional<uint32_t> sender;
  };
  Responder respond_;
  std::deque<Queued> queued_;
  Queued current_;
  std::vector<nlmsghdr> requests_;
};

struct Scripted {
  ScriptedTransport* transport;
  Session session;
};

Scripted scripted(ScriptedTransport::Responder respond) {
  auto transport = std::make_unique<ScriptedTransport>(std::move(respond));
  ScriptedTransport* raw = transport.get();
  return {raw, Session(std::move(transport), kPort)};
}

std::vector<std::string> names(const std::vector<LinkInfo>& links) {
  std::vector<std::string> result;
  for (const auto& link : links) result.push_back(link.name);
  return result;
}

TEST(SessionReceive, InterruptedDumpIsAskedForAgain) {
  int attempts = 0;
  auto [transport, session] = scripted([&](const nlmsghdr& request, ScriptedTransport& t) {
    uint32_t seq = request.nlmsg_seq;
    if (++attempts == 1) {
      // The kernel saw its tables change mid-dump: what came may be incomplete.
      t.queue(DatagramBuilder().link(seq, "stale").bytes());
      t.queue(
          DatagramBuilder().link(seq, "half", NLM_F_DUMP_INTR).done(seq, NLM_F_DUMP_INTR).bytes());
    } else {
      t.queue(DatagramBuilder().link(seq, "lo").link(seq, "eth0").done(seq).bytes());
    }
  });
  EXPECT_EQ(names(session.dumpLinks()), (std::vector<std::string>{"lo", "eth0"}));
  ASSERT_EQ(transport->requests().size(), 2u);
  EXPECT_NE(transport->requests()[0].nlmsg_seq, transport->requests()[1].nlmsg_seq)
      << "a new attempt must not take the old one's late replies for its own";
}

TEST(SessionReceive, DumpKeptBeingInterruptedIsAnError) {
  auto [transport, session] = scripted([](const nlmsghdr& request, ScriptedTransport& t) {
    t.queue(DatagramBuilder()
                .link(request.nlmsg_seq, "eth0")
                .done(request.nlmsg_seq, NLM_F_DUMP_INTR)
                .bytes());
  });
  try {
    session.dumpLinks();
    FAIL() << "an always interrupted dump was accepted";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("interrupted"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("RTM_GETLINK"), std::string::npos) << error.what();
  }
  EXPECT_EQ(transport->requests().size(), static_cast<size_t>(Session::kMaxDumpAttempts));
}

TEST(SessionReceive, DumpEndingInAnErrorThrowsItsErrno) {
  auto [transport, session] = scripted([](const nlmsghdr& request, ScriptedTransport& t) {
    t.queue(DatagramBuilder()
                .link(request.nlmsg_seq, "eth0")
                .done(request.nlmsg_seq, 0, -EMSGSIZE)
                .bytes());
  });
  try {
    session.dumpLinks();
    FAIL() << "a dump cut short was taken for a whole one";
  } catch (const NetlinkError& error) {
    EXPECT_EQ(error.errnoValue(), EMSGSIZE);
  }
}

TEST(SessionReceive, DumpSkipsRepliesThatAreNotItsOwn) {
  auto [transport, session] = scripted([](const nlmsghdr& request, ScriptedTransport& t) {
    uint32_t seq = request.nlmsg_seq;
    t.queue(DatagramBuilder()
                .link(seq + 1, "other-sequence")
                .link(seq, "other-port", 0, kPort + 1)
                .bytes());
    t.queue(DatagramBuilder().link(seq, "from-a-process").done(seq).bytes(), 777u);
    t.queue(DatagramBuilder().link(seq, "not-netlink").done(seq).bytes(), std::nullopt);
    t.queue(DatagramBuilder().link(seq, "eth0").done(seq).bytes());
  });
  EXPECT_EQ(names(session.dumpLinks()), (std::vector<std::string>{"eth0"}));
}

TEST(SessionReceive, ALinkAskedForAloneIsItsOwnReply) {
  auto [transport, session] = scripted([](const nlmsghdr& request, ScriptedTransport& t) {
    uint32_t seq = request.nlmsg_seq;
    t.queue(DatagramBuilder().link(seq + 1, "other-sequence").link(seq, "eth0").bytes());
  });
  auto link = session.getLink(2);
  ASSERT_TRUE(link);
  EXPECT_EQ(link->name, "eth0");
  ASSERT_EQ(transport->requests().size(), 1u);
  EXPECT_EQ(transport->requests()[0].nlmsg_flags, NLM_F_REQUEST)
      << "a dump would not bring the link's pending carrier change first";
}

TEST(SessionReceive, ALinkThatIsNotThereIsNoLinkAndOtherRefusalsThrow) {
  int refusal = ENODEV;
  auto [transport, session] = scripted([&](const nlmsghdr& request, ScriptedTransport& t) {
    t.queue(DatagramBuilder().ack(request.nlmsg_seq, refusal).bytes());
  });
  EXPECT_FALSE(session.getLink(7));
  refusal = EPERM;
  try {
    session.getLink(7);
    FAIL() << "a refusal was taken for a missing link";
  } catch (const NetlinkError& error) {
    EXPECT_EQ(error.errnoValue(), EPERM);
    EXPECT_NE(std::string(error.what()).find("ifindex 7"), std::string::npos) << error.what();
  }
}

TEST(SessionReceive, MalformedReplyIsAnError) {
  auto [transport, session] = scripted([](const nlmsghdr& request, ScriptedTransport& t) {
    auto datagram =
        DatagramBuilder().link(request.nlmsg_seq, "eth0").done(request.nlmsg_seq).bytes();
    reinterpret_cast<nlmsghdr*>(datagram.data())->nlmsg_len = 4096;  // past the datagram
    t.queue(datagram);
  });
  EXPECT_THROW(session.dumpLinks(), Error);
}

TEST(SessionReceive, AckFromAnotherSenderPortOrSequenceIsIgnored) {
  auto [transport, session] = scripted([](const nlmsghdr& request, ScriptedTransport& t) {
    uint32_t seq = request.nlmsg_seq;
    t.queue(DatagramBuilder().ack(seq, 0).bytes(), 999u);  // another process, posing as the kernel
    t.queue(DatagramBuilder().ack(seq, 0, kPort + 1).ack(seq + 7, 0).bytes());
    t.queue(DatagramBuilder().ack(seq, EEXIST).bytes());  // the kernel's answer
  });
  RequestBatch batch;
  batch.setLinkUp(2, true, "eth0 up");
  try {
    session.execute(batch);
    FAIL() << "a success that was not the kernel's stood in for its refusal";
  } catch (const NetlinkError& error) {
    EXPECT_EQ(error.errnoValue(), EEXIST);
    EXPECT_NE(std::string(error.what()).find("RTM_SETLINK eth0 up"), std::string::npos);
  }
}

TEST(SessionReceive, RepeatedAckCountsOnce) {
  auto [transport, session] = scripted([](const nlmsghdr& request, ScriptedTransport& t) {
    if (request.nlmsg_seq == 1) t.queue(DatagramBuilder().ack(1, 0).ack(1, 0).bytes());
    if (request.nlmsg_seq == 2) t.queue(DatagramBuilder().ack(2, ENODEV).bytes());
  });
  RequestBatch batch;
  batch.setLinkUp(2, true, "eth0 up");
  batch.setLinkUp(3, true, "eth1 up");
  try {
    session.execute(batch);
    FAIL() << "a repeated ack stood in for the second request's";
  } catch (const NetlinkError& error) {
    EXPECT_EQ(error.errnoValue(), ENODEV);
    EXPECT_NE(std::string(error.what()).find("eth1 up"), std::string::npos);
  }
}

struct SocketPair {
  Fd reader, writer;
};

SocketPair datagramPair() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, fds) < 0)
    throw SystemError("socketpair", "test");
  return {Fd(fds[0]), Fd(fds[1])};
}

TEST(SocketReceive, DatagramLargerThanTheBufferIsReadWhole) {
  SocketPair pair = datagramPair();
  std::vector<uint8_t> sent(100 * 1024);
  for (size_t i = 0; i < sent.size(); ++i) sent[i] = static_cast<uint8_t>(i * 7);
  ASSERT_EQ(::send(pair.writer.get(), sent.data(), sent.size(), 0),
            static_cast<ssize_t>(sent.size()));
  std::vector<uint8_t> buffer(32 * 1024);
  Datagram datagram = receiveWhole(pair.reader.get(), buffer);
  ASSERT_EQ(datagram.bytes.size(), sent.size());
  EXPECT_TRUE(std::equal(sent.begin(), sent.end(), datagram.bytes.begin()));
  EXPECT_FALSE(datagram.senderPort) << "not a netlink sender";
}

TEST(SocketReceive, TruncatedDatagramIsAnError) {
  SocketPair pair = datagramPair();
  std::vector<uint8_t> sent(2000, 1);
  ASSERT_EQ(::send(pair.writer.get(), sent.data(), sent.size(), 0), 2000);
  std::vector<uint8_t> buffer(1000);
  try {
    receiveInto(pair.reader.get(), buffer);
    FAIL() << "a truncated datagram was handed on";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("MSG_TRUNC"), std::string::npos) << error.what();
  }
}

// A kernel without a qdisc says only "Specified qdisc kind is unknown"; the error names what it
// lacks, and nothing else gets the hint.
TEST(NetlinkError, AMissingQdiscKindNamesTheKernelOption) {
  NetlinkError netem("RTM_NEWQDISC netem 1: root on a:eth0", ENOENT,
                     "Specified qdisc kind is unknown");
  EXPECT_NE(std::string(netem.what()).find("(CONFIG_NET_SCH_NETEM, module sch_netem)"),
            std::string::npos)
      << netem.what();
  NetlinkError tbf("RTM_NEWQDISC tbf 1: root on a:eth0", ENOENT, "");
  EXPECT_NE(std::string(tbf.what()).find("CONFIG_NET_SCH_TBF"), std::string::npos);
  NetlinkError other("RTM_NEWQDISC netem 1: root on a:eth0", ENOENT, "Qdisc not found");
  EXPECT_EQ(std::string(other.what()).find("CONFIG_"), std::string::npos);
  NetlinkError link("RTM_NEWLINK veth a:eth0", ENOENT, "Specified qdisc kind is unknown");
  EXPECT_EQ(std::string(link.what()).find("CONFIG_"), std::string::npos);
}

}  // namespace
}  // namespace netlab::netlink
