// The wire protocol of SPEC §3, row by row, against a fake transport (publishing from
// outside, publisher streams and the room list: hub_publish_test.cpp).
#include "core/hub.hpp"

#include <gtest/gtest.h>

#include "fakes.hpp"
#include "http/answers.hpp"
#include "hub_fixture.hpp"

using namespace wspush;
using namespace wspush::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* kWelcome = R"({"status":200,"event":"notification","data":"Welcome"})";
constexpr const char* kTime = "2026-11-27T01:02:06.227639Z";

}  // namespace

TEST_F(HubTest, UnknownRoomIsRefusedWith404AndAJsonBody) {
  declare({"/nowtime:ticker"});
  auto const refusal = hub.admit("/nope?x=1");
  ASSERT_TRUE(refusal);
  EXPECT_EQ(status_of(refusal->reason), 404);
  EXPECT_EQ(http_answer(*refusal).body,
            R"({"status":404,"event":"error","data":"unknown room: /nope"})");
  EXPECT_FALSE(hub.admit("/nowtime?since=4"));  // the query is not part of the room
}

TEST_F(HubTest, TickerJoinGetsWelcomeThenTheCurrentTimeWithoutSeq) {
  declare({"/nowtime:ticker"});
  join(1, "/nowtime");
  EXPECT_EQ(texts(1), (std::vector<std::string>{
                          kWelcome, std::string(R"({"status":200,"event":"nowtime","data":")") +
                                        kTime + "\"}"}));
}

TEST_F(HubTest, StartArmsOneTimerPerTickerRoom) {
  declare({"/nowtime:ticker", "/clock:ticker", "/news:feed", "/r:relay"});
  hub.start();
  EXPECT_EQ(timers.running,
            (std::map<std::string, Duration>{{"/clock", 250ms}, {"/nowtime", 250ms}}));
}

TEST_F(HubTest, TicksAreEncodedOncePerRoomWithIncreasingSeq) {
  declare({"/nowtime:ticker"});
  for (SessionId id = 1; id <= 3; ++id) join(id, "/nowtime");
  for (SessionId id = 1; id <= 3; ++id) outbox.take(id);
  hub.tick("/nowtime");
  hub.tick("/nowtime");
  ASSERT_EQ(outbox.broadcasts.size(), 2u);  // one encoding per tick, whatever the members
  for (SessionId id = 1; id <= 3; ++id) {
    auto const got = texts(id);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0],
              std::string(R"({"status":200,"event":"nowtime","data":")") + kTime + R"(","seq":1})");
    EXPECT_EQ(parse(got[1])["seq"].GetUint64(), 2u);
  }
}

TEST_F(HubTest, TickOfAnEmptyRoomEncodesNothing) {
  declare({"/nowtime:ticker"});
  hub.tick("/nowtime");
  EXPECT_TRUE(outbox.broadcasts.empty());
  join(1, "/nowtime");
  outbox.take(1);
  hub.tick("/nowtime");
  EXPECT_EQ(parse(texts(1).at(0))["seq"].GetUint64(), 1u);
}

// The bye itself (bye event, close 1000 after the linger) is said by the member's loop
// (shard_test.cpp); the Hub's part is that the member leaves its room.
TEST_F(HubTest, AMemberThatSaidByeGetsNoMoreRoomTraffic) {
  declare({"/nowtime:ticker"});
  join(1, "/nowtime");
  join(2, "/nowtime");
  outbox.take(1);
  outbox.take(2);
  hub.leave_room(1);
  EXPECT_EQ(outbox.members[registry.find("/nowtime")->id()].count(1), 0u);
  hub.tick("/nowtime");
  EXPECT_TRUE(texts(1).empty());  // no room traffic after the bye
  EXPECT_EQ(texts(2).size(), 1u);
  EXPECT_EQ(registry.find("/nowtime")->members(), 1u);
  hub.leave(1);
  hub.leave(1);  // idempotent
  EXPECT_EQ(hub.sessions(), 1u);
}

TEST_F(HubTest, RelayPublishReachesEveryMemberIncludingTheSender) {
  declare({"/r:relay", "/other:relay"});
  join(1, "/r");
  join(2, "/r");
  join(3, "/other");
  for (SessionId id = 1; id <= 3; ++id) outbox.take(id);
  hub.publish_from_member(2, std::nullopt, R"({"n":1})");
  hub.publish_from_member(1, std::nullopt, R"("two")");
  std::vector<std::string> const expected{
      R"({"status":200,"event":"message","data":{"n":1},"seq":1})",
      R"({"status":200,"event":"message","data":"two","seq":2})"};
  EXPECT_EQ(texts(1), expected);
  EXPECT_EQ(texts(2), expected);
  EXPECT_TRUE(texts(3).empty());
  EXPECT_EQ(outbox.broadcasts.size(), 2u);
}

// What a member's frame asks for is decided on its loop (client_protocol_test.cpp,
// shard_test.cpp): a publish outside a relay room never reaches the Hub, and one that
// does on a stale view publishes nothing.
TEST_F(HubTest, APublishFromAMemberOutsideARelayRoomPublishesNothing) {
  declare({"/nowtime:ticker", "/news:feed"});
  join(1, "/nowtime");
  join(2, "/news");
  hub.publish_from_member(1, std::nullopt, "1");
  hub.publish_from_member(2, std::nullopt, "1");
  EXPECT_TRUE(outbox.broadcasts.empty());
}

// Echo rooms speak no protocol of their own (the echo itself: shard_test.cpp).
TEST_F(HubTest, AnEchoRoomGreetsNobody) {
  declare({"/echo:echo"});
  join(1, "/echo");
  EXPECT_TRUE(outbox.take(1).empty());  // no welcome: conformance suites see only echoes
  EXPECT_TRUE(outbox.closes.empty());
}

TEST_F(HubTest, FamilyRoomsAreCreatedOnJoinAndDroppedWhenEmpty) {
  declare({"/clock/*:ticker", "/chat/*:relay"});
  EXPECT_FALSE(hub.admit("/clock/utc"));
  join(1, "/clock/utc");
  join(2, "/clock/utc");
  EXPECT_EQ(timers.running.count("/clock/utc"), 1u);
  EXPECT_EQ(timers.starts, 1);
  EXPECT_EQ(parse(texts(1).at(1))["event"], "utc");
  hub.leave(1);
  EXPECT_EQ(timers.running.count("/clock/utc"), 1u);
  hub.leave(2);
  EXPECT_EQ(timers.running.count("/clock/utc"), 0u);
  EXPECT_EQ(registry.find("/clock/utc"), nullptr);

  join(3, "/chat/a");
  join(4, "/chat/b");
  outbox.take(3);
  outbox.take(4);
  hub.publish_from_member(3, std::nullopt, "1");
  EXPECT_EQ(texts(3).size(), 1u);
  EXPECT_TRUE(texts(4).empty());  // sibling rooms are separate
}

TEST_F(HubTest, LeavingInAnyOrderKeepsMembershipConsistent) {
  declare({"/r:relay"});
  for (SessionId id = 1; id <= 5; ++id) join(id, "/r");
  hub.leave(1);
  hub.leave(4);
  hub.leave(2);
  for (SessionId id = 1; id <= 5; ++id) outbox.take(id);
  hub.publish_from_member(3, std::nullopt, "0");
  EXPECT_EQ(texts(3).size(), 1u);
  EXPECT_EQ(texts(5).size(), 1u);
  for (SessionId id : {1, 2, 4}) EXPECT_TRUE(texts(id).empty());
  EXPECT_EQ(registry.find("/r")->members(), 2u);
}

TEST_F(HubTest, SinceReplaysRetainedMessagesAfterARecoveryEvent) {
  declare({"/news:feed"});
  for (int i = 1; i <= 5; ++i) publish("/news", "message", std::to_string(i));
  join(1, "/news?since=3");
  auto const got = texts(1);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0], kWelcome);
  EXPECT_EQ(got[1], R"({"status":200,"event":"recovery","data":{"recovered":true,"since":3,)"
                    R"("epoch":7,"first_seq":1,"last_seq":5,"replayed":2}})");
  EXPECT_EQ(got[2], R"({"status":200,"event":"message","data":4,"seq":4})");
  EXPECT_EQ(got[3], R"({"status":200,"event":"message","data":5,"seq":5})");
}

TEST_F(HubTest, ReplayUsesTheBroadcastBytesNotCopies) {
  declare({"/news:feed"});
  join(9, "/news");
  publish("/news", "message", "1");
  join(1, "/news?since=0");
  // The replayed payload is the very buffer that was broadcast.
  ASSERT_EQ(outbox.broadcasts.size(), 1u);
  ASSERT_EQ(outbox.replayed[1].size(), 1u);
  EXPECT_EQ(outbox.replayed[1][0], outbox.broadcasts[0]);
}

TEST_F(HubTest, SinceOlderThanTheHistoryIsToldRecoveredFalse) {
  RoomSpec spec = *parse_room_spec("/news:feed").spec;
  spec.history = 2;
  ASSERT_EQ(registry.declare(spec), "");
  for (int i = 1; i <= 5; ++i) publish("/news", "message", std::to_string(i));
  join(1, "/news?since=1");
  auto const got = texts(1);
  ASSERT_EQ(got.size(), 4u);
  auto const recovery = parse(got[1]);
  EXPECT_STREQ(recovery["event"].GetString(), "recovery");
  EXPECT_FALSE(recovery["data"]["recovered"].GetBool());
  EXPECT_EQ(recovery["data"]["first_seq"].GetUint64(), 4u);
  EXPECT_EQ(parse(got[2])["seq"].GetUint64(), 4u);
  EXPECT_EQ(parse(got[3])["seq"].GetUint64(), 5u);
}

TEST_F(HubTest, JoinPointHasNoGapNoDuplicateWhilePublishesInterleave) {
  // Joins and publishes interleave in every order the Hub's thread can see them:
  // each joiner must see exactly since+1 .. last, replay then live, once each.
  declare({"/news:feed"});
  SessionId next = 1;
  std::vector<std::pair<SessionId, std::uint64_t>> joiners;
  for (int round = 0; round < 50; ++round) {
    publish("/news", "message", std::to_string(round));
    if (round % 3 == 0) {
      std::uint64_t const since = round / 2;
      join(next, "/news?since=" + std::to_string(since));
      joiners.emplace_back(next++, since);
    }
  }
  for (auto const& [id, since] : joiners) {
    std::vector<std::uint64_t> seqs;
    for (auto const& text : texts(id)) {
      auto const doc = parse(text);
      if (doc.HasMember("seq")) seqs.push_back(doc["seq"].GetUint64());
    }
    std::vector<std::uint64_t> expected;
    for (std::uint64_t s = since + 1; s <= 50; ++s) expected.push_back(s);
    EXPECT_EQ(seqs, expected) << "joiner " << id << " since " << since;
  }
}

TEST_F(HubTest, MalformedSinceIsRefusedWith400) {
  declare({"/news:feed"});
  for (auto bad :
       {"/news?since=", "/news?since=-1", "/news?since=abc", "/news?since=99999999999999999999"}) {
    auto const refusal = hub.admit(bad);
    ASSERT_TRUE(refusal) << bad;
    EXPECT_EQ(status_of(refusal->reason), 400) << bad;
  }
  EXPECT_FALSE(hub.admit("/news?x=1&since=18446744073709551615"));
}
