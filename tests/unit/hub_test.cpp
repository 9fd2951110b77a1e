// The wire protocol of SPEC §3, row by row, against a fake transport.
#include "core/hub.hpp"

#include <gtest/gtest.h>

#include "fakes.hpp"

using namespace wspush;
using namespace wspush::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* kWelcome = R"({"status":200,"event":"notification","data":"Welcome"})";
constexpr const char* kTime = "2026-11-27T01:02:06.227639Z";

class HubTest : public ::testing::Test {
 protected:
  void declare(std::initializer_list<const char*> specs) {
    for (auto text : specs) ASSERT_EQ(registry.declare(*parse_room_spec(text).spec), "");
  }

  std::vector<std::string> texts(SessionId id) {
    std::vector<std::string> out;
    for (auto& f : outbox.take(id)) {
      EXPECT_EQ(f.opcode, Opcode::text);
      out.push_back(f.data);
    }
    return out;
  }

  // The in-memory broker answers at once; these give its answers back as values.
  PublishResult publish(std::string_view path, std::string_view event, std::string_view json) {
    PublishResult out{0, "no answer", 0, 0};
    hub.publish(path, event, json, [&out](PublishResult const& r) { out = r; });
    return out;
  }
  Refusal http_publish(std::string_view resource, std::string_view body) {
    Refusal out{0, "no answer"};
    hub.http_publish(resource, body, [&out](Refusal const& r) { out = r; });
    return out;
  }

  RoomRegistry registry;
  InMemoryBroker broker{7};
  FakeOutbox outbox;
  FakeTimers timers;
  FixedClock clock;
  Hub hub{registry, broker, outbox, timers, clock, HubOptions{250ms}};
};

}  // namespace

TEST_F(HubTest, UnknownRoomIsRefusedWith404AndAJsonBody) {
  declare({"/nowtime:ticker"});
  auto const refusal = hub.admit("/nope?x=1");
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->http_status, 404);
  EXPECT_EQ(refusal->body, R"({"status":404,"event":"error","data":"unknown room: /nope"})");
  EXPECT_FALSE(hub.admit("/nowtime?since=4"));  // the query is not part of the room
}

TEST_F(HubTest, TickerJoinGetsWelcomeThenTheCurrentTimeWithoutSeq) {
  declare({"/nowtime:ticker"});
  hub.join(1, "/nowtime");
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
  for (SessionId id = 1; id <= 3; ++id) hub.join(id, "/nowtime");
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
  hub.join(1, "/nowtime");
  outbox.take(1);
  hub.tick("/nowtime");
  EXPECT_EQ(parse(texts(1).at(0))["seq"].GetUint64(), 1u);
}

TEST_F(HubTest, CloseEventSendsByeStopsTrafficAndClosesNormally) {
  declare({"/nowtime:ticker"});
  hub.join(1, "/nowtime");
  hub.join(2, "/nowtime");
  outbox.take(1);
  outbox.take(2);
  hub.on_text(1, R"({"event":"close"})");
  EXPECT_EQ(texts(1), (std::vector<std::string>{R"({"status":200,"event":"bye","data":"bye"})"}));
  ASSERT_TRUE(outbox.closes.count(1));
  EXPECT_EQ(outbox.closes[1].code, 1000);
  hub.tick("/nowtime");
  EXPECT_TRUE(texts(1).empty());  // no room traffic after the bye
  EXPECT_EQ(texts(2).size(), 1u);
  EXPECT_EQ(outbox.closes[1].linger, kByeLinger);
  hub.on_text(1, R"({"event":"close"})");  // the reference client's second close
  EXPECT_TRUE(texts(1).empty());           // gets no answer, but ends the linger
  EXPECT_EQ(outbox.closes[1].linger, Duration::zero());
  EXPECT_EQ(outbox.closes[1].code, 1000);
  hub.leave(1);
  hub.leave(1);  // idempotent
  EXPECT_EQ(hub.sessions(), 1u);
}

TEST_F(HubTest, PingGetsPongWithTheTime) {
  declare({"/nowtime:ticker"});
  hub.join(1, "/nowtime");
  outbox.take(1);
  hub.on_text(1, R"({"event":"ping"})");
  EXPECT_EQ(texts(1),
            (std::vector<std::string>{std::string(R"({"status":200,"event":"pong","data":")") +
                                      kTime + "\"}"}));
}

TEST_F(HubTest, RelayPublishReachesEveryMemberIncludingTheSender) {
  declare({"/r:relay", "/other:relay"});
  hub.join(1, "/r");
  hub.join(2, "/r");
  hub.join(3, "/other");
  for (SessionId id = 1; id <= 3; ++id) outbox.take(id);
  hub.on_text(2, R"({"event":"publish","data":{"n":1}})");
  hub.on_text(1, R"({"event":"publish","data":"two"})");
  std::vector<std::string> const expected{
      R"({"status":200,"event":"message","data":{"n":1},"seq":1})",
      R"({"status":200,"event":"message","data":"two","seq":2})"};
  EXPECT_EQ(texts(1), expected);
  EXPECT_EQ(texts(2), expected);
  EXPECT_TRUE(texts(3).empty());
  EXPECT_EQ(outbox.broadcasts.size(), 2u);
}

TEST_F(HubTest, PublishOutsideARelayRoomIs403AndTheConnectionStays) {
  declare({"/nowtime:ticker", "/news:feed"});
  for (auto path : {"/nowtime", "/news"}) {
    SessionId const id = path[1] == 'n' && path[2] == 'o' ? 1 : 2;
    hub.join(id, path);
    outbox.take(id);
    hub.on_text(id, R"({"event":"publish","data":1})");
    auto const got = texts(id);
    ASSERT_EQ(got.size(), 1u) << path;
    auto const doc = parse(got[0]);
    EXPECT_EQ(doc["status"].GetInt(), 403);
    EXPECT_STREQ(doc["event"].GetString(), "error");
    EXPECT_NE(std::string(doc["data"].GetString()).find("relay"), std::string::npos);
    EXPECT_FALSE(outbox.closes.count(id));
  }
  EXPECT_TRUE(outbox.broadcasts.empty());
}

TEST_F(HubTest, BadInputIs400AndTheConnectionStays) {
  declare({"/r:relay"});
  hub.join(1, "/r");
  outbox.take(1);
  for (auto text : {"nope", "{}", R"({"event":"dance"})", R"({"event":"publish"})", "[]"}) {
    hub.on_text(1, text);
    auto const got = texts(1);
    ASSERT_EQ(got.size(), 1u) << text;
    auto const doc = parse(got[0]);
    EXPECT_EQ(doc["status"].GetInt(), 400) << text;
    EXPECT_STREQ(doc["event"].GetString(), "error");
    EXPECT_TRUE(doc["data"].IsString());
  }
  hub.on_binary(1, std::string("\x00\x01", 2));
  EXPECT_EQ(parse(texts(1).at(0))["status"].GetInt(), 400);
  EXPECT_TRUE(outbox.closes.empty());
  hub.on_text(1, R"({"event":"publish","data":1})");  // still a working member
  EXPECT_EQ(parse(texts(1).at(0))["seq"].GetUint64(), 1u);
}

TEST_F(HubTest, EchoRoomReturnsFramesUnchangedWithoutEnvelope) {
  declare({"/echo:echo"});
  hub.join(1, "/echo");
  EXPECT_TRUE(outbox.take(1).empty());  // no welcome: conformance suites see only echoes
  hub.on_text(1, R"({"event":"close"})");
  hub.on_binary(1, std::string("\x00\xff", 2));
  auto const got = outbox.take(1);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].opcode, Opcode::text);
  EXPECT_EQ(got[0].data, R"({"event":"close"})");
  EXPECT_EQ(got[1].opcode, Opcode::binary);
  EXPECT_EQ(got[1].data, std::string("\x00\xff", 2));
  EXPECT_TRUE(outbox.closes.empty());
}

TEST_F(HubTest, FamilyRoomsAreCreatedOnJoinAndDroppedWhenEmpty) {
  declare({"/clock/*:ticker", "/chat/*:relay"});
  EXPECT_FALSE(hub.admit("/clock/utc"));
  hub.join(1, "/clock/utc");
  hub.join(2, "/clock/utc");
  EXPECT_EQ(timers.running.count("/clock/utc"), 1u);
  EXPECT_EQ(timers.starts, 1);
  EXPECT_EQ(parse(texts(1).at(1))["event"], "utc");
  hub.leave(1);
  EXPECT_EQ(timers.running.count("/clock/utc"), 1u);
  hub.leave(2);
  EXPECT_EQ(timers.running.count("/clock/utc"), 0u);
  EXPECT_EQ(registry.find("/clock/utc"), nullptr);

  hub.join(3, "/chat/a");
  hub.join(4, "/chat/b");
  outbox.take(3);
  outbox.take(4);
  hub.on_text(3, R"({"event":"publish","data":1})");
  EXPECT_EQ(texts(3).size(), 1u);
  EXPECT_TRUE(texts(4).empty());  // sibling rooms are separate
}

TEST_F(HubTest, LeavingInAnyOrderKeepsMembershipConsistent) {
  declare({"/r:relay"});
  for (SessionId id = 1; id <= 5; ++id) hub.join(id, "/r");
  hub.leave(1);
  hub.leave(4);
  hub.leave(2);
  for (SessionId id = 1; id <= 5; ++id) outbox.take(id);
  hub.on_text(3, R"({"event":"publish","data":0})");
  EXPECT_EQ(texts(3).size(), 1u);
  EXPECT_EQ(texts(5).size(), 1u);
  for (SessionId id : {1, 2, 4}) EXPECT_TRUE(texts(id).empty());
  EXPECT_EQ(registry.find("/r")->members(), 2u);
}

TEST_F(HubTest, SinceReplaysRetainedMessagesAfterARecoveryEvent) {
  declare({"/news:feed"});
  for (int i = 1; i <= 5; ++i) publish("/news", "message", std::to_string(i));
  hub.join(1, "/news?since=3");
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
  hub.join(9, "/news");
  publish("/news", "message", "1");
  hub.join(1, "/news?since=0");
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
  hub.join(1, "/news?since=1");
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
      hub.join(next, "/news?since=" + std::to_string(since));
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
    EXPECT_EQ(refusal->http_status, 400) << bad;
  }
  EXPECT_FALSE(hub.admit("/news?x=1&since=18446744073709551615"));
}

TEST_F(HubTest, PublishFromOutsideReportsDeliveredAndSeq) {
  declare({"/news:feed", "/nowtime:ticker", "/e:echo", "/chat/*:relay"});
  hub.join(1, "/news");
  hub.join(2, "/news");
  auto const r = publish("/news", "alert", R"({"x":1})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.delivered, 2u);
  EXPECT_EQ(r.seq, 1u);
  EXPECT_EQ(texts(1).back(), R"({"status":200,"event":"alert","data":{"x":1},"seq":1})");
  EXPECT_EQ(publish("/nope", "message", "1").status, 404);
  EXPECT_EQ(publish("/nowtime", "message", "1").status, 403);
  EXPECT_EQ(publish("/e", "message", "1").status, 403);
  // A family room is created by a publish and kept for its history.
  auto const fam = publish("/chat/new", "message", "1");
  EXPECT_EQ(fam.status, 200);
  EXPECT_EQ(fam.delivered, 0u);
  ASSERT_NE(registry.find("/chat/new"), nullptr);
  hub.join(3, "/chat/new?since=0");
  EXPECT_EQ(parse(texts(3).back())["data"].GetInt(), 1);
  hub.leave(3);
  EXPECT_NE(registry.find("/chat/new"), nullptr);  // still holds history
}

TEST_F(HubTest, RoomsListsRoomsAndFamilies) {
  declare({"/news:feed", "/chat/*:relay"});
  hub.join(1, "/news");
  publish("/news", "message", "1");
  auto const rooms = hub.rooms();
  ASSERT_EQ(rooms.size(), 2u);
  EXPECT_EQ(rooms[0].path, "/chat/*");
  EXPECT_TRUE(rooms[0].family);
  EXPECT_EQ(rooms[1].path, "/news");
  EXPECT_EQ(rooms[1].members, 1u);
  EXPECT_EQ(rooms[1].last_seq, 1u);
  EXPECT_EQ(rooms[1].history, 1u);
  EXPECT_EQ(rooms[1].history_capacity, 100u);
}

TEST_F(HubTest, PublisherStreamPublishesEachFrameAndAcksInOrder) {
  declare({"/logs:feed", "/nowtime:ticker"});
  hub.join(1, "/logs");
  outbox.take(1);
  EXPECT_FALSE(hub.admit_publisher("/api/publish?room=%2Flogs&event=line"));
  hub.join_publisher(7, "/api/publish?room=%2Flogs&event=line");
  hub.on_text(7, R"({"n": 1})");
  hub.on_text(7, "not json");
  hub.on_text(7, R"("two")");
  hub.on_binary(7, "x");
  auto const acks = texts(7);
  ASSERT_EQ(acks.size(), 4u);
  EXPECT_EQ(acks[0], R"({"status":200,"event":"published","data":{"delivered":1,"seq":1}})");
  EXPECT_EQ(parse(acks[1])["status"].GetInt(), 400);
  EXPECT_EQ(acks[2], R"({"status":200,"event":"published","data":{"delivered":1,"seq":2}})");
  EXPECT_EQ(parse(acks[3])["status"].GetInt(), 400);
  EXPECT_EQ(texts(1),
            (std::vector<std::string>{R"({"status":200,"event":"line","data":{"n":1},"seq":1})",
                                      R"({"status":200,"event":"line","data":"two","seq":2})"}));
}

TEST_F(HubTest, PublisherStreamRefusals) {
  declare({"/logs:feed", "/nowtime:ticker"});
  EXPECT_EQ(hub.admit_publisher("/api/publish")->http_status, 400);
  EXPECT_EQ(hub.admit_publisher("/api/publish?room=/nope")->http_status, 404);
  EXPECT_EQ(hub.admit_publisher("/api/publish?room=/nowtime")->http_status, 403);
  EXPECT_EQ(hub.admit_publisher("/api/publish?room=%zz")->http_status, 400);
}

TEST(PercentDecode, DecodesAndRefusesMalformedEscapes) {
  EXPECT_EQ(percent_decode("%2Fa%20b+c"), std::optional<std::string>("/a b c"));
  EXPECT_EQ(percent_decode("%2"), std::nullopt);
  EXPECT_EQ(percent_decode("%g0"), std::nullopt);
  EXPECT_EQ(query_param("/x?a=1&room=%2Fr&b", "room"), std::optional<std::string_view>("%2Fr"));
  EXPECT_EQ(query_param("/x?a=1&b", "b"), std::optional<std::string_view>(""));
  EXPECT_EQ(query_param("/x", "b"), std::nullopt);
}

TEST_F(HubTest, SlowMembersAreCountedPerRoomByPolicy) {
  declare({"/news:feed", "/nowtime:ticker"});
  hub.join(1, "/news");
  hub.join(2, "/news");
  hub.join(3, "/nowtime");
  outbox.slow = {2, 3};
  publish("/news", "message", "1");
  hub.tick("/nowtime");
  hub.tick("/nowtime");
  auto const rooms = hub.rooms();
  auto const find = [&](const char* path) {
    return *std::find_if(rooms.begin(), rooms.end(),
                         [&](RoomInfo const& r) { return r.path == path; });
  };
  EXPECT_EQ(find("/news").slow_consumer, SlowConsumerPolicy::disconnect);
  EXPECT_EQ(find("/news").disconnected, 1u);
  EXPECT_EQ(find("/news").dropped, 0u);
  EXPECT_EQ(find("/nowtime").slow_consumer, SlowConsumerPolicy::latest);
  EXPECT_EQ(find("/nowtime").dropped, 2u);
  EXPECT_NE(encode_rooms(rooms).find(R"("slow_consumer":"latest","dropped":2,"disconnected":0)"),
            std::string::npos);
}

TEST_F(HubTest, HttpPublishAnswers) {
  declare({"/news:feed", "/nowtime:ticker"});
  hub.join(1, "/news");
  auto const ok = http_publish("/api/publish?room=%2Fnews&event=up", R"( {"a": 1} )");
  EXPECT_EQ(ok.http_status, 200);
  EXPECT_EQ(ok.body, R"({"delivered":1,"seq":1})");
  EXPECT_EQ(texts(1).back(), R"({"status":200,"event":"up","data":{"a":1},"seq":1})");
  EXPECT_EQ(http_publish("/api/publish?room=/news", "{").http_status, 400);
  EXPECT_EQ(http_publish("/api/publish", "1").http_status, 400);
  EXPECT_EQ(http_publish("/api/publish?room=/nope", "1").http_status, 404);
  auto const ticker = http_publish("/api/publish?room=/nowtime", "1");
  EXPECT_EQ(ticker.http_status, 403);
  EXPECT_EQ(parse(ticker.body)["status"].GetInt(), 403);
}
