// The Hub with a broker whose streams are shared (SPEC §8): joins wait for a stream
// that is not read yet, ?epoch= tells a gone stream from the one a client knew, and a
// reused session id is a new session.
#include <gtest/gtest.h>

#include "core/hub.hpp"
#include "fakes.hpp"

using namespace wspush;
using namespace wspush::test;
using namespace std::chrono_literals;

namespace {

// The in-memory broker, with streams that are not ready until the test says so.
class SlowBroker final : public Broker {
 public:
  void set_sink(BrokerSink& sink) override {
    sink_ = &sink;
    memory_.set_sink(sink);
  }
  void open_stream(std::string const& room, std::size_t history, StreamScope scope) override {
    memory_.open_stream(room, history, scope);
    if (scope == StreamScope::node) ready_.insert(room);
  }
  bool ready(std::string const& room) const override { return ready_.count(room) > 0; }
  void drop_stream(std::string const& room) override { memory_.drop_stream(room); }
  void delete_stream(std::string const& room,
                     std::function<void(std::optional<Refusal> const&)> done) override {
    memory_.delete_stream(room, std::move(done));
  }
  void publish(std::string const& room, std::string_view event, std::string_view data,
               std::function<void(PublishAck const&)> done, std::string const& key = {}) override {
    memory_.publish(room, event, data, std::move(done), key);
  }
  void keep_deflated(std::string const& room, std::uint64_t seq, Payload deflated) override {
    memory_.keep_deflated(room, seq, std::move(deflated));
  }
  History::Replay replay_after(std::string const& room, std::uint64_t since) const override {
    return memory_.replay_after(room, since);
  }
  StreamState state(std::string const& room) const override { return memory_.state(room); }
  void expire(std::string const& room, std::int64_t ttl_ms, std::int64_t now_ms) override {
    memory_.expire(room, ttl_ms, now_ms);
  }

  void make_ready(std::string const& room) {
    ready_.insert(room);
    sink_->on_stream_ready(room);
  }

 private:
  InMemoryBroker memory_{7};
  BrokerSink* sink_ = nullptr;
  std::set<std::string> ready_;
};

class HubStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(registry.declare(*parse_room_spec("/news:feed").spec), "");
    ASSERT_EQ(registry.declare(*parse_room_spec("/nowtime:ticker").spec), "");
    hub.start();
  }
  void join(SessionId id, std::string_view resource) {
    if (auto j = hub.join(id, resource)) outbox.join(id, std::move(*j));
  }
  std::vector<std::string> texts(SessionId id) {
    std::vector<std::string> out;
    for (auto& f : outbox.take(id)) out.push_back(f.data);
    return out;
  }
  void publish(int n) {
    for (int i = 1; i <= n; ++i) {
      hub.publish("/news", "message", std::to_string(i),
                  [](PublishResult const& r) { EXPECT_FALSE(r.refusal); });
    }
  }

  RoomRegistry registry;
  SlowBroker broker;
  FakeOutbox outbox;
  FakeTimers timers;
  FixedClock clock;
  Hub hub{registry, broker, outbox, timers, clock, HubOptions{250ms, 0, 0, 128}};
};

}  // namespace

TEST_F(HubStreamTest, AJoinWaitsForItsStreamThenGetsWelcomeRecoveryAndReplayInOrder) {
  publish(3);
  join(1, "/news?since=1");
  EXPECT_TRUE(texts(1).empty());  // nothing before the stream is known here
  EXPECT_EQ(registry.find("/news")->members(), 1u);
  broker.make_ready("/news");
  auto const got = texts(1);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(parse(got[0])["data"].GetString(), std::string("Welcome"));
  EXPECT_EQ(parse(got[1])["event"].GetString(), std::string("recovery"));
  EXPECT_TRUE(parse(got[1])["data"]["recovered"].GetBool());
  EXPECT_EQ(parse(got[2])["seq"].GetUint64(), 2u);
  EXPECT_EQ(parse(got[3])["seq"].GetUint64(), 3u);
}

TEST_F(HubStreamTest, ASessionThatLeavesWhileWaitingIsNotJoinedLater) {
  join(1, "/news");
  hub.leave(1);
  EXPECT_EQ(registry.find("/news")->members(), 0u);
  broker.make_ready("/news");
  EXPECT_TRUE(texts(1).empty());
  EXPECT_TRUE(outbox.joins.empty());
}

TEST_F(HubStreamTest, TickerRoomsAreThisNodesOwnAndNeverWait) {
  join(1, "/nowtime");
  EXPECT_EQ(texts(1).size(), 2u);  // welcome and the time, at once
}

TEST_F(HubStreamTest, AnotherEpochIsAnsweredRecoveredFalseWithWhatTheStreamHoldsNow) {
  broker.make_ready("/news");
  publish(4);
  join(1, "/news?since=2&epoch=7");  // the stream's own epoch: a normal resume
  auto got = texts(1);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_TRUE(parse(got[1])["data"]["recovered"].GetBool());
  EXPECT_EQ(parse(got[1])["data"]["epoch"].GetUint64(), 7u);
  join(2, "/news?since=2&epoch=6");  // a stream that is gone: nothing is "after 2"
  got = texts(2);
  ASSERT_EQ(got.size(), 6u);
  EXPECT_FALSE(parse(got[1])["data"]["recovered"].GetBool());
  EXPECT_EQ(parse(got[2])["seq"].GetUint64(), 1u);
  EXPECT_EQ(parse(got[5])["seq"].GetUint64(), 4u);
}

TEST_F(HubStreamTest, AMalformedEpochIsRefusedAtTheHandshake) {
  auto const refusal = hub.admit("/news?since=2&epoch=x");
  ASSERT_TRUE(refusal);
  EXPECT_EQ(status_of(refusal->reason), 400);
}

// Sessions are kept by id, and shards reuse ids: a reused id starts afresh (a member,
// not the publisher it was), and the count follows joins and leaves.
TEST_F(HubStreamTest, AReusedIdIsANewSessionAndTheCountFollows) {
  broker.make_ready("/news");
  hub.join_publisher(40, "/api/publish?room=%2Fnews&event=line");
  join(3, "/news");
  EXPECT_EQ(hub.sessions(), 2u);
  hub.leave(40);
  hub.leave(40);  // idempotent
  hub.leave(99);  // never seen
  EXPECT_EQ(hub.sessions(), 1u);
  outbox.take(3);
  join(40, "/news");
  EXPECT_EQ(hub.sessions(), 2u);
  EXPECT_EQ(registry.find("/news")->members(), 2u);
  texts(40);
  hub.publish_from_stream(40, "1");  // a member now: its frames are no events to publish
  EXPECT_TRUE(texts(40).empty());
  EXPECT_TRUE(texts(3).empty());
}
