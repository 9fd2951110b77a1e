// Publishing into the Hub from outside (the HTTP API and publisher streams, SPEC §4),
// the room list, and the per-room slow-consumer counts.
#include <gtest/gtest.h>

#include "core/hub.hpp"
#include "hub_fixture.hpp"

using namespace wspush;
using namespace wspush::test;
using namespace std::chrono_literals;

TEST_F(HubTest, PublishFromOutsideReportsDeliveredAndSeq) {
  declare({"/news:feed", "/nowtime:ticker", "/e:echo", "/chat/*:relay"});
  join(1, "/news");
  join(2, "/news");
  auto const r = publish("/news", "alert", R"({"x":1})");
  EXPECT_EQ(status(r), 200);
  EXPECT_EQ(r.delivered, 2u);
  EXPECT_EQ(r.seq, 1u);
  EXPECT_EQ(texts(1).back(), R"({"status":200,"event":"alert","data":{"x":1},"seq":1})");
  EXPECT_EQ(status(publish("/nope", "message", "1")), 404);
  EXPECT_EQ(status(publish("/nowtime", "message", "1")), 403);
  EXPECT_EQ(status(publish("/e", "message", "1")), 403);
  // A family room is created by a publish and kept for its history.
  auto const fam = publish("/chat/new", "message", "1");
  EXPECT_EQ(status(fam), 200);
  EXPECT_EQ(fam.delivered, 0u);
  ASSERT_NE(registry.find("/chat/new"), nullptr);
  join(3, "/chat/new?since=0");
  EXPECT_EQ(parse(texts(3).back())["data"].GetInt(), 1);
  hub.leave(3);
  EXPECT_NE(registry.find("/chat/new"), nullptr);  // still holds history
}

TEST_F(HubTest, RoomsListsRoomsAndFamilies) {
  declare({"/news:feed", "/chat/*:relay"});
  join(1, "/news");
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
  join(1, "/logs");
  outbox.take(1);
  EXPECT_FALSE(hub.admit_publisher("/api/publish?room=%2Flogs&event=line"));
  hub.join_publisher(7, "/api/publish?room=%2Flogs&event=line");
  hub.publish_from_stream(7, R"({"n": 1})");
  hub.publish_from_stream(7, "not json");
  hub.publish_from_stream(7, R"("two")");
  auto const acks = texts(7);
  ASSERT_EQ(acks.size(), 3u);
  EXPECT_EQ(acks[0], R"({"status":200,"event":"published","data":{"delivered":1,"seq":1}})");
  EXPECT_EQ(parse(acks[1])["status"].GetInt(), 400);
  EXPECT_EQ(acks[2], R"({"status":200,"event":"published","data":{"delivered":1,"seq":2}})");
  EXPECT_EQ(texts(1),
            (std::vector<std::string>{R"({"status":200,"event":"line","data":{"n":1},"seq":1})",
                                      R"({"status":200,"event":"line","data":"two","seq":2})"}));
}

TEST_F(HubTest, PublisherStreamRefusals) {
  declare({"/logs:feed", "/nowtime:ticker"});
  EXPECT_EQ(status_of(hub.admit_publisher("/api/publish")->reason), 400);
  EXPECT_EQ(status_of(hub.admit_publisher("/api/publish?room=/nope")->reason), 404);
  EXPECT_EQ(status_of(hub.admit_publisher("/api/publish?room=/nowtime")->reason), 403);
  EXPECT_EQ(status_of(hub.admit_publisher("/api/publish?room=%zz")->reason), 400);
}

TEST(PercentDecode, DecodesAndRefusesMalformedEscapes) {
  EXPECT_EQ(percent_decode("%2Fa%20b+c"), std::optional<std::string>("/a b c"));
  EXPECT_EQ(percent_decode("%2"), std::nullopt);
  EXPECT_EQ(percent_decode("%g0"), std::nullopt);
  EXPECT_EQ(query_param("/x?a=1&room=%2Fr&b", "room"), std::optional<std::string_view>("%2Fr"));
  EXPECT_EQ(query_param("/x?a=1&b", "b"), std::optional<std::string_view>(""));
  EXPECT_EQ(query_param("/x", "b"), std::nullopt);
  // A room is the path before the query or the fragment, whichever comes first.
  EXPECT_EQ(room_path_of("/news?since=3#x"), "/news");
  EXPECT_EQ(room_path_of("/news#a?b"), "/news");
  EXPECT_EQ(room_path_of("/news"), "/news");
  EXPECT_EQ(room_path_of("?x"), "");
}

// The loops count what slow members missed (pacer_test.cpp) into the room's counters;
// the room list reports them with the room's policy.
TEST_F(HubTest, TheRoomListReportsWhatSlowMembersMissedWithThePolicy) {
  declare({"/news:feed", "/nowtime:ticker"});
  join(1, "/news");
  join(3, "/nowtime");
  registry.find("/news")->counters()->loop(0).disconnected.add();
  registry.find("/nowtime")->counters()->loop(0).dropped.add(2);
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
  join(1, "/news");
  auto const ok = http_publish("/api/publish?room=%2Fnews&event=up", R"( {"a": 1} )");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, R"({"delivered":1,"seq":1})");
  EXPECT_EQ(texts(1).back(), R"({"status":200,"event":"up","data":{"a":1},"seq":1})");
  EXPECT_EQ(http_publish("/api/publish?room=/news", "{").status, 400);
  EXPECT_EQ(http_publish("/api/publish", "1").status, 400);
  EXPECT_EQ(http_publish("/api/publish?room=/nope", "1").status, 404);
  auto const ticker = http_publish("/api/publish?room=/nowtime", "1");
  EXPECT_EQ(ticker.status, 403);
  EXPECT_EQ(parse(ticker.body)["status"].GetInt(), 403);
}
