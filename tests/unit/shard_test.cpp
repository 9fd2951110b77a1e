// The real Shard with a real Hub (an in-memory broker): sessions over in-memory streams,
// driven by hand. What a session says is decided on its loop (client_protocol.hpp) and
// answered there or by the Hub; a session's way in is one pass.
#include "server/loop/shard.hpp"

#include <gtest/gtest.h>

#include "client_frame.hpp"
#include "fakes.hpp"
#include "memory_stream.hpp"
#include "server/loop/fanout.hpp"

using namespace wspush;
using namespace wspush::test;
using namespace std::chrono_literals;

namespace {

struct Owner final : ShardOwner {
  void on_session_closed(std::string const*) override { ++closed; }
  int closed = 0;
};

struct Client {
  MemoryStream* stream = nullptr;
  std::string unread;  // what the server wrote and the test has not looked at
};

class ShardTest : public ::testing::Test {
 protected:
  ShardTest() {
    for (auto spec : {"/r:relay", "/news:feed", "/echo:echo", "/nowtime:ticker"}) {
      EXPECT_EQ(registry.declare(*parse_room_spec(spec).spec), "");
    }
    shards.push_back(
        std::make_unique<Shard>(0, 1, shared, limits, SendPath::sendmsg, metrics.loop(0), owner));
    shared.attach(hub);
    hub.start();
  }
  // Every client leaves (end of stream): sessions end, and nothing they hold is leaked.
  ~ShardTest() override {
    for (Client& c : clients) {
      c.stream->eof = true;
      if (c.stream->read_waiter)
        std::exchange(c.stream->read_waiter, nullptr)(ByteStream::Ready::ready);
    }
    run();
  }

  Shard& shard() { return *shards.front(); }
  void run() {
    shard().io().restart();
    shard().io().poll();
  }

  // A client whose handshake for `resource` was accepted; its 101 read and dropped.
  std::size_t connect(std::string resource, bool publisher = false) {
    auto owned = std::make_unique<MemoryStream>();
    clients.push_back(Client{owned.get(), {}});
    shard().accept(Upgrade{std::move(owned),
                           "127.0.0.1",
                           std::move(resource),
                           Grant{},
                           kResponse,
                           {},
                           false,
                           false,
                           false},
                   &peer, publisher);
    run();
    std::string& out = clients.back().stream->output;
    EXPECT_EQ(out.rfind(kResponse, 0), 0u);  // the 101 before anything else
    out.erase(0, kResponse.size());
    return clients.size() - 1;
  }
  void say(std::size_t client, std::uint8_t opcode, std::string_view payload) {
    clients[client].stream->feed(masked(opcode, payload));
    run();
  }
  std::vector<ServerFrame> frames(std::size_t client) {
    Client& c = clients[client];
    c.unread += std::exchange(c.stream->output, {});
    return take_server_frames(c.unread);
  }
  std::vector<std::string> texts(std::size_t client) {
    std::vector<std::string> out;
    for (ServerFrame const& f : frames(client)) {
      EXPECT_EQ(f.opcode, 0x1);
      out.push_back(f.payload);
    }
    return out;
  }
  void publish(std::string_view room, std::string_view json) {
    shared.run([&](Hub& h) {
      h.publish(room, "message", json, [](PublishResult const& r) { EXPECT_FALSE(r.refusal); });
    });
  }

  static inline std::string const kResponse = "HTTP/1.1 101 Switching Protocols\r\n\r\n";
  ConnectionLimits limits{1024,
                          1 << 20,
                          std::chrono::seconds(5),
                          std::chrono::seconds(5),
                          Duration::zero(),
                          std::chrono::seconds(10),
                          Duration::zero(),
                          true};
  Metrics metrics{1};
  Owner owner;
  std::string const peer = "127.0.0.1";
  RoomRegistry registry;
  InMemoryBroker broker{7};
  std::vector<std::unique_ptr<Shard>> shards;
  Fanout fanout{shards};
  FakeTimers timers;
  FixedClock clock;
  Hub hub{registry, broker, fanout, timers, clock, HubOptions{250ms, 0, 0, 128}};
  SharedHub shared;
  std::vector<Client> clients;
};

std::string const kWelcome = R"({"status":200,"event":"notification","data":"Welcome"})";

}  // namespace

TEST_F(ShardTest, AMemberIsAnsweredOnItsLoopAndStays) {
  auto const c = connect("/news");
  EXPECT_EQ(texts(c), std::vector<std::string>{kWelcome});
  say(c, 0x1, R"({"event":"ping"})");
  auto got = texts(c);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(parse(got[0])["event"], "pong");
  say(c, 0x1, "nope");
  say(c, 0x2, std::string("\x00\x01", 2));
  say(c, 0x1, R"({"event":"publish","data":1})");  // a feed room: 403
  got = texts(c);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(parse(got[0])["status"].GetInt(), 400);
  EXPECT_EQ(parse(got[1])["status"].GetInt(), 400);
  EXPECT_EQ(parse(got[2])["status"].GetInt(), 403);
  publish("/news", "1");
  run();
  EXPECT_EQ(texts(c),
            std::vector<std::string>{R"({"status":200,"event":"message","data":1,"seq":1})"});
  EXPECT_EQ(metrics.loop(0).frames_received.get(), 4u);
}

TEST_F(ShardTest, ARelayPublishReachesEveryMemberIncludingTheSender) {
  auto const a = connect("/r");
  auto const b = connect("/r");
  auto const other = connect("/news");
  texts(a), texts(b), texts(other);
  say(b, 0x1, R"({"event":"publish","data":{"n":1}})");
  say(a, 0x1, R"({"event":"publish","data":"two"})");
  std::vector<std::string> const expected{
      R"({"status":200,"event":"message","data":{"n":1},"seq":1})",
      R"({"status":200,"event":"message","data":"two","seq":2})"};
  EXPECT_EQ(texts(a), expected);
  EXPECT_EQ(texts(b), expected);
  EXPECT_TRUE(texts(other).empty());
}

TEST_F(ShardTest, ByeStopsRoomTrafficThenClosesNormallyAfterTheLingerOrTheNextFrame) {
  auto const a = connect("/nowtime");
  auto const b = connect("/nowtime");
  texts(a), texts(b);
  say(a, 0x1, R"({"event":"close"})");
  EXPECT_EQ(texts(a), std::vector<std::string>{R"({"status":200,"event":"bye","data":"bye"})"});
  shared.run([](Hub& h) { h.tick("/nowtime"); });
  run();
  EXPECT_TRUE(frames(a).empty());  // no room traffic after the bye, and no close yet
  EXPECT_EQ(texts(b).size(), 1u);
  say(a, 0x1, R"({"event":"close"})");  // the reference client's second close
  auto const closing = frames(a);       // gets no answer, but ends the linger
  ASSERT_EQ(closing.size(), 1u);
  EXPECT_EQ(closing[0].opcode, 0x8);
  EXPECT_EQ(closing[0].payload.substr(0, 2), std::string("\x03\xe8", 2));  // 1000
  EXPECT_EQ(closing[0].payload.substr(2), "bye");
  // Without a second frame, the linger ends by itself.
  say(b, 0x1, R"({"event":"close"})");
  texts(b);
  shard().io().restart();
  shard().io().run_for(kByeLinger + 500ms);
  auto const later = frames(b);
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].opcode, 0x8);
}

TEST_F(ShardTest, AnEchoRoomSendsEveryFrameBackUnchangedWithoutEnvelope) {
  auto const c = connect("/echo");
  EXPECT_TRUE(frames(c).empty());  // no welcome: conformance suites see only echoes
  say(c, 0x1, R"({"event":"close"})");
  say(c, 0x2, std::string("\x00\xff", 2));
  auto const got = frames(c);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].opcode, 0x1);
  EXPECT_EQ(got[0].payload, R"({"event":"close"})");
  EXPECT_EQ(got[1].opcode, 0x2);
  EXPECT_EQ(got[1].payload, std::string("\x00\xff", 2));
}

TEST_F(ShardTest, APublishStreamAcksEveryEventAndRefusesBinary) {
  auto const member = connect("/news");
  auto const stream = connect("/api/publish?room=%2Fnews&event=line", /*publisher=*/true);
  texts(member);
  EXPECT_TRUE(frames(stream).empty());  // no welcome: it is no member
  say(stream, 0x1, R"({"n": 1})");
  say(stream, 0x2, "x");
  auto const acks = texts(stream);
  ASSERT_EQ(acks.size(), 2u);
  EXPECT_EQ(acks[0], R"({"status":200,"event":"published","data":{"delivered":1,"seq":1}})");
  EXPECT_EQ(parse(acks[1])["status"].GetInt(), 400);
  EXPECT_EQ(texts(member),
            std::vector<std::string>{R"({"status":200,"event":"line","data":{"n":1},"seq":1})"});
}

// A broadcast already queued to the loop when a session joins came before its join
// point: the session has it from its replay, not twice; the next one arrives live.
TEST_F(ShardTest, ASessionsWayInIsOnePassWithNoGapAndNoDuplicate) {
  auto const a = connect("/news");
  texts(a);
  publish("/news", "1");  // queued to the loop, not carried out yet
  auto const b = connect("/news?since=0");
  publish("/news", "2");
  run();
  auto const got = texts(b);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0], kWelcome);
  EXPECT_EQ(parse(got[1])["event"], "recovery");
  EXPECT_EQ(parse(got[1])["data"]["replayed"].GetInt(), 1);
  EXPECT_EQ(parse(got[2])["seq"].GetInt(), 1);
  EXPECT_EQ(parse(got[3])["seq"].GetInt(), 2);
  EXPECT_EQ(texts(a).size(), 2u);
}

TEST_F(ShardTest, AClosedSessionLeavesItsRoomAndItsSlotServesTheNext) {
  auto const a = connect("/news");
  clients[a].stream->eof = true;
  std::exchange(clients[a].stream->read_waiter, nullptr)(ByteStream::Ready::ready);
  run();
  EXPECT_EQ(owner.closed, 1);
  EXPECT_EQ(registry.find("/news")->members(), 0u);
  EXPECT_EQ(shared.run([](Hub& h) { return h.sessions(); }), 0u);
  clients.erase(clients.begin());
  auto const b = connect("/news");
  EXPECT_EQ(texts(b), std::vector<std::string>{kWelcome});
  EXPECT_EQ(registry.find("/news")->members(), 1u);
}

// A subscription's replay that does not fit the send buffer goes out as the client
// reads; an unsubscribe in the middle of it stops the rest: what was queued already
// arrives, then `unsubscribed`, then nothing more of the room, live or replayed.
TEST_F(ShardTest, UnsubscribingDuringAPacedReplayStopsTheRestOfIt) {
  std::string const big = "\"" + std::string(100 * 1024, 'x') + "\"";
  for (int i = 0; i < 30; ++i) publish("/news", big);  // 3 MiB of history, 1 MiB buffer
  run();
  auto const c = connect("/");
  EXPECT_EQ(texts(c), std::vector<std::string>{kWelcome});
  MemoryStream& stream = *clients[c].stream;
  stream.accept = 0;  // the client reads nothing for now
  say(c, 0x1, R"({"event":"subscribe","room":"/news","since":0})");
  stream.accept = 300 * 1024;  // it reads a little: the queue has room for a reply
  std::exchange(stream.write_waiter, nullptr)(ByteStream::Ready::ready);
  run();
  say(c, 0x1, R"({"event":"unsubscribe","room":"/news"})");
  publish("/news", "\"after\"");
  run();
  stream.accept = SIZE_MAX;  // it reads everything
  for (int i = 0; i < 100 && stream.write_waiter; ++i) {
    std::exchange(stream.write_waiter, nullptr)(ByteStream::Ready::ready);
    run();
  }
  auto const got = texts(c);
  ASSERT_GE(got.size(), 4u);
  EXPECT_EQ(parse(got[0])["event"], "subscribed");
  EXPECT_EQ(parse(got[1])["event"], "recovery");
  std::uint64_t seq = 0;
  for (std::size_t i = 2; i + 1 < got.size(); ++i) {
    auto const m = parse(got[i]);
    EXPECT_EQ(m["room"], "/news");
    EXPECT_EQ(m["seq"].GetUint64(), ++seq);  // in order, none missing before the stop
  }
  EXPECT_GT(seq, 0u);
  EXPECT_LT(seq, 30u);  // the rest of the replay was not sent
  EXPECT_EQ(parse(got.back())["event"], "unsubscribed");
  EXPECT_FALSE(stream.closed);
  say(c, 0x1, R"({"event":"subscribe","room":"/news"})");  // and it may follow it again
  EXPECT_EQ(parse(texts(c).at(0))["event"], "subscribed");
}
