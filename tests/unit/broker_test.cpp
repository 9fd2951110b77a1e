// The broker seam, through the Broker interface, on its in-memory implementation.
#include "core/broker.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "common/frame.hpp"

using namespace wspush;

namespace {

struct RecordingSink final : BrokerSink {
  struct Got {
    std::string room;
    std::uint64_t seq;
    std::string payload;
    Payload framed;
  };
  void on_published(std::string const& room, std::uint64_t seq, Payload const& framed) override {
    got.push_back({room, seq, std::string(frame_payload(*framed)), framed});
  }
  void on_stream_ready(std::string const&) override {}
  std::vector<Got> got;
};

std::vector<PublishAck> publish_n(Broker& broker, std::string const& room, int n) {
  std::vector<PublishAck> acks;
  for (int i = 1; i <= n; ++i) {
    broker.publish(room, "message", std::to_string(i),
                   [&acks](PublishAck const& a) { acks.push_back(a); });
  }
  return acks;
}

}  // namespace

TEST(Broker, NumbersFramesOnceAndHandsEachMessageToTheSinkInOrder) {
  InMemoryBroker memory(42);
  Broker& broker = memory;
  RecordingSink sink;
  broker.set_sink(sink);
  broker.open_stream("/news", 10, StreamScope::cluster);
  broker.open_stream("/other", 10, StreamScope::cluster);
  auto const acks = publish_n(broker, "/news", 3);
  broker.publish("/other", "e", R"({"x":1})", nullptr);
  ASSERT_EQ(acks.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(acks[i].refusal);
    EXPECT_EQ(acks[i].seq, static_cast<std::uint64_t>(i + 1));
  }
  ASSERT_EQ(sink.got.size(), 4u);
  EXPECT_EQ(sink.got[0].payload, R"({"status":200,"event":"message","data":1,"seq":1})");
  EXPECT_EQ(sink.got[2].seq, 3u);
  // Each room has its own seq.
  EXPECT_EQ(sink.got[3].room, "/other");
  EXPECT_EQ(sink.got[3].payload, R"({"status":200,"event":"e","data":{"x":1},"seq":1})");
  // A text frame, ready to write.
  EXPECT_EQ((*sink.got[0].framed)[0], '\x81');
}

TEST(Broker, HistoryAfterNIsTheSameFramedBuffersBounded) {
  InMemoryBroker broker(1);
  RecordingSink sink;
  broker.set_sink(sink);
  broker.open_stream("/news", 3, StreamScope::cluster);
  publish_n(broker, "/news", 5);
  History::Replay const r = broker.replay_after("/news", 3);
  EXPECT_TRUE(r.complete);
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[0], sink.got[3].framed);  // not a copy: the broadcast's own bytes
  EXPECT_EQ(r.messages[1], sink.got[4].framed);
  History::Replay const old = broker.replay_after("/news", 1);
  EXPECT_FALSE(old.complete);  // seq 2 is no longer held
  EXPECT_EQ(old.messages.size(), 3u);
  StreamState const st = broker.state("/news");
  EXPECT_EQ(st.last_seq, 5u);
  EXPECT_EQ(st.first_seq, std::optional<std::uint64_t>(3));
  EXPECT_EQ(st.size, 3u);
  EXPECT_EQ(st.capacity, 3u);
  EXPECT_EQ(st.epoch, 1u);
}

TEST(Broker, UnknownStreamsRefuseAndReopeningKeepsData) {
  InMemoryBroker broker(1);
  RecordingSink sink;
  broker.set_sink(sink);
  PublishAck ack;
  broker.publish("/nope", "message", "1", [&ack](PublishAck const& a) { ack = a; });
  ASSERT_TRUE(ack.refusal);
  EXPECT_EQ(status_of(ack.refusal->reason), 404);
  EXPECT_TRUE(sink.got.empty());
  broker.open_stream("/news", 5, StreamScope::cluster);
  publish_n(broker, "/news", 2);
  broker.open_stream("/news", 5, StreamScope::cluster);  // idempotent
  EXPECT_EQ(broker.state("/news").last_seq, 2u);
  broker.drop_stream("/news");
  EXPECT_EQ(broker.state("/news").last_seq, 0u);
}

namespace {

// A journal that keeps what it is given and says it is kept when told to.
struct HeldJournal final : Journal {
  Stored load(std::string const& room, std::size_t) override {
    // Two messages published 1000 and 2000 ms after the epoch.
    return room == "/kept"
               ? Stored{7,
                        {{6, 1000, R"({"status":200,"event":"message","data":6,"seq":6})"},
                         {7, 2000, R"({"status":200,"event":"message","data":7,"seq":7})"}}}
               : Stored{};
  }
  std::uint64_t epoch() const override { return 99; }
  void write(std::string const& room, std::uint64_t seq, std::int64_t ms, std::string, std::size_t,
             std::string const& key, std::function<void(std::string const&)> kept) override {
    held.emplace_back(seq, std::move(kept));
    if (!key.empty()) written_keys.push_back(Key{ms, room, key, seq});
  }
  std::vector<Key> keys(std::int64_t since_ms) override {
    std::vector<Key> out;
    for (Key const& k : stored_keys) {
      if (k.ms >= since_ms) out.push_back(k);
    }
    return out;
  }
  void trim(std::string const& room, std::uint64_t seq) override { trims.emplace_back(room, seq); }
  void erase(std::string const& room, std::uint64_t epoch) override {
    erased.emplace_back(room, epoch);
  }
  void keep_all(std::string const& error = "") {
    auto batch = std::move(held);
    held.clear();
    for (auto& [seq, kept] : batch) kept(error);
  }
  std::vector<std::pair<std::uint64_t, std::function<void(std::string const&)>>> held;
  std::vector<std::pair<std::string, std::uint64_t>> trims;
  std::vector<std::pair<std::string, std::uint64_t>> erased;
  std::vector<Key> written_keys;
  std::vector<Key> stored_keys;
};

}  // namespace

TEST(Broker, WithAJournalStartsFromItAndPublishesOnlyWhatItKept) {
  HeldJournal journal;
  InMemoryBroker broker(journal);
  RecordingSink sink;
  broker.set_sink(sink);
  broker.open_stream("/kept", 10, StreamScope::node);
  EXPECT_EQ(broker.state("/kept").last_seq, 7u);
  EXPECT_EQ(broker.state("/kept").epoch, 99u);
  EXPECT_EQ(broker.replay_after("/kept", 5).messages.size(), 2u);
  std::vector<PublishAck> acks;
  for (char const* data : {"8", "9"}) {
    broker.publish("/kept", "message", data, [&acks](PublishAck const& a) { acks.push_back(a); });
  }
  // Numbered, not yet kept: no member, history or publisher hears of them.
  EXPECT_TRUE(acks.empty());
  EXPECT_TRUE(sink.got.empty());
  EXPECT_EQ(broker.state("/kept").last_seq, 7u);
  broker.drop_stream("/kept");  // held: its next seq belongs to what is on its way
  journal.keep_all();
  ASSERT_EQ(sink.got.size(), 2u);
  EXPECT_EQ(sink.got[0].seq, 8u);
  ASSERT_EQ(acks.size(), 2u);
  EXPECT_EQ(acks[1].seq, 9u);
  EXPECT_EQ(broker.state("/kept").last_seq, 9u);
  EXPECT_EQ(broker.replay_after("/kept", 7).messages.size(), 2u);
  // A write that fails is refused (503), and nothing is published.
  std::vector<PublishAck> failed;
  broker.publish("/kept", "message", "10", [&failed](PublishAck const& a) { failed.push_back(a); });
  journal.keep_all("MDB_MAP_FULL");
  ASSERT_EQ(failed.size(), 1u);
  ASSERT_TRUE(failed[0].refusal);
  EXPECT_EQ(status_of(failed[0].refusal->reason), 503);
  EXPECT_EQ(sink.got.size(), 2u);
}

TEST(Broker, ExpiredMessagesLeaveTheHistoryAndTheJournal) {
  HeldJournal journal;
  InMemoryBroker broker(journal);
  RecordingSink sink;
  broker.set_sink(sink);
  broker.open_stream("/kept", 10, StreamScope::node);
  broker.expire("/kept", 500, 1600);  // seq 6 (1000 ms) is older than 1100 ms, 7 is not
  EXPECT_EQ(broker.state("/kept").first_seq, std::optional<std::uint64_t>(7));
  ASSERT_EQ(journal.trims.size(), 1u);
  EXPECT_EQ(journal.trims[0], std::make_pair(std::string("/kept"), std::uint64_t{7}));
  broker.expire("/kept", 500, 1600);  // nothing more to expire: no trim
  EXPECT_EQ(journal.trims.size(), 1u);
  broker.expire("/kept", 500, 5000);
  EXPECT_EQ(broker.state("/kept").size, 0u);
  EXPECT_EQ(broker.state("/kept").last_seq, 7u);  // the seq stays
  EXPECT_EQ(journal.trims.back().second, 8u);     // everything up to it goes
  History::Replay const r = broker.replay_after("/kept", 5);
  EXPECT_FALSE(r.complete);
  EXPECT_TRUE(r.messages.empty());
}

TEST(Broker, AKeySeenInTheRoomAnswersTheFirstSeqAndPublishesNothing) {
  InMemoryBroker broker(1);
  broker.keep_keys(60000, 100);
  RecordingSink sink;
  broker.set_sink(sink);
  broker.open_stream("/news", 10, StreamScope::node);
  broker.open_stream("/other", 10, StreamScope::node);
  std::vector<PublishAck> acks;
  auto record = [&acks](PublishAck const& a) { acks.push_back(a); };
  broker.publish("/news", "message", "1", record, "k");
  broker.publish("/news", "message", "2", record, "k");   // a retry: not published
  broker.publish("/news", "message", "3", record, "k2");  // another key
  broker.publish("/other", "message", "4", record, "k");  // the same key, another room
  broker.publish("/news", "message", "5", record);        // no key
  ASSERT_EQ(acks.size(), 5u);
  EXPECT_EQ(acks[0].seq, 1u);
  EXPECT_FALSE(acks[0].duplicate);
  EXPECT_EQ(acks[1].seq, 1u);
  EXPECT_TRUE(acks[1].duplicate);
  EXPECT_EQ(acks[2].seq, 2u);
  EXPECT_EQ(acks[3].seq, 1u);
  EXPECT_FALSE(acks[3].duplicate);
  EXPECT_EQ(acks[4].seq, 3u);
  EXPECT_EQ(sink.got.size(), 4u);
  // A refused publish forgets its key: the retry publishes.
  broker.publish("/nope", "message", "6", record, "k3");
  broker.open_stream("/nope", 10, StreamScope::node);
  broker.publish("/nope", "message", "6", record, "k3");
  EXPECT_TRUE(acks[5].refusal);
  EXPECT_EQ(acks[6].seq, 1u);
  EXPECT_FALSE(acks[6].duplicate);
}

TEST(Broker, ARepeatWhileTheFirstIsOnItsWayGetsItsAnswerAndKeysComeBackFromTheJournal) {
  HeldJournal journal;
  journal.stored_keys.push_back(Journal::Key{wall_clock_ms(), "/kept", "before", 7});
  InMemoryBroker broker(journal);
  broker.keep_keys(60000, 100);
  RecordingSink sink;
  broker.set_sink(sink);
  broker.open_stream("/kept", 10, StreamScope::node);
  std::vector<PublishAck> acks;
  auto record = [&acks](PublishAck const& a) { acks.push_back(a); };
  broker.publish("/kept", "message", "1", record, "before");  // kept before the restart
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].seq, 7u);
  EXPECT_TRUE(acks[0].duplicate);
  broker.publish("/kept", "message", "8", record, "new");
  broker.publish("/kept", "message", "8", record, "new");  // on its way: waits
  EXPECT_EQ(acks.size(), 1u);
  EXPECT_EQ(journal.held.size(), 1u);  // written once
  ASSERT_EQ(journal.written_keys.size(), 1u);
  EXPECT_EQ(journal.written_keys[0].key, "new");
  journal.keep_all();
  ASSERT_EQ(acks.size(), 3u);
  EXPECT_EQ(acks[1].seq, 8u);
  EXPECT_FALSE(acks[1].duplicate);
  EXPECT_EQ(acks[2].seq, 8u);
  EXPECT_TRUE(acks[2].duplicate);
  EXPECT_EQ(sink.got.size(), 1u);
}

TEST(IdempotencyKeys, ForgetKeysPastTheWindowAndTheOldestBeyondTheCap) {
  IdempotencyKeys keys(1000, 3);
  IdempotencyKeys::Done none;
  PublishAck ok;
  ok.seq = 1;
  EXPECT_TRUE(keys.begin("/r", "a", 0, none));
  keys.finish("/r", "a", ok);
  EXPECT_FALSE(keys.begin("/r", "a", 999, none));
  EXPECT_TRUE(keys.begin("/r", "a", 1001, none));  // past the window: a new publish
  keys.finish("/r", "a", ok);
  for (char const* k : {"b", "c", "d"}) {
    EXPECT_TRUE(keys.begin("/r", k, 1100, none));
    keys.finish("/r", k, ok);
  }
  EXPECT_TRUE(keys.begin("/r", "e", 1100, none));  // the cap: "a" goes early
  keys.finish("/r", "e", ok);
  EXPECT_LE(keys.size(), 4u);
  EXPECT_TRUE(keys.begin("/r", "a", 1200, none));
}
