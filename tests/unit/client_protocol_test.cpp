// What a session's frame asks for (SPEC §3), decided in one place on the session's own
// loop, row by row of the protocol table.
#include "core/client_protocol.hpp"

#include <gtest/gtest.h>

#include "fakes.hpp"

using namespace wspush;
using namespace wspush::test;
using Kind = ClientAction::Kind;

namespace {
FixedClock const kClock;
std::string const kRoom = "/r";
std::string const kNews = "/news";
FrameContext in(SessionRole role, RoomKind kind = RoomKind::feed,
                std::string const* path = &kRoom) {
  return FrameContext{role, kind, path};
}
ClientAction member(RoomKind kind, std::string_view text, std::string const& path = kRoom) {
  return decide_client_text(in(SessionRole::member, kind, &path), text, kClock);
}
}  // namespace

TEST(ClientProtocol, PingGetsPongWithTheTime) {
  auto const pong = member(RoomKind::feed, R"({"event":"ping"})");
  EXPECT_EQ(pong.kind, Kind::reply);
  EXPECT_EQ(pong.text, R"({"status":200,"event":"pong","data":"2026-11-27T01:02:06.227639Z"})");
}

TEST(ClientProtocol, BadInputIs400AndTheConnectionStays) {
  for (auto text : {"nope", "{", "{}", R"({"event":"dance"})", R"({"event":"publish"})", "[]"}) {
    auto const bad = member(RoomKind::relay, text);
    EXPECT_EQ(bad.kind, Kind::reply) << text;
    auto const doc = parse(bad.text);
    EXPECT_EQ(doc["status"].GetInt(), 400) << text;
    EXPECT_STREQ(doc["event"].GetString(), "error");
    EXPECT_TRUE(doc["data"].IsString());
  }
  auto const binary = decide_client_binary(in(SessionRole::member, RoomKind::relay));
  EXPECT_EQ(binary.kind, Kind::reply);
  EXPECT_EQ(parse(binary.text)["status"].GetInt(), 400);
}

TEST(ClientProtocol, PublishOutsideARelayRoomIs403) {
  for (RoomKind kind : {RoomKind::feed, RoomKind::ticker}) {
    auto const refused = member(kind, R"({"event":"publish","data":1})", kNews);
    EXPECT_EQ(refused.kind, Kind::reply);
    auto const doc = parse(refused.text);
    EXPECT_EQ(doc["status"].GetInt(), 403);
    EXPECT_STREQ(doc["event"].GetString(), "error");
    EXPECT_NE(refused.text.find("/news is a " + std::string(to_string(kind)) + " room"),
              std::string::npos);
    EXPECT_NE(refused.text.find("relay"), std::string::npos);
  }
}

TEST(ClientProtocol, RelayPublishesAndByesGoToTheHub) {
  auto const pub = member(RoomKind::relay, R"({"event":"publish","data":{"a": [1, 2]}})");
  EXPECT_EQ(pub.kind, Kind::publish);
  EXPECT_EQ(pub.text, R"({"a":[1,2]})");  // compact
  EXPECT_EQ(member(RoomKind::ticker, R"({"event":"close"})").kind, Kind::bye);
  EXPECT_EQ(bye_event(), R"({"status":200,"event":"bye","data":"bye"})");
}

TEST(ClientProtocol, EchoRoomsSendEveryFrameBackUnread) {
  EXPECT_EQ(member(RoomKind::echo, R"({"event":"close"})").kind, Kind::echo);
  EXPECT_EQ(member(RoomKind::echo, "not json").kind, Kind::echo);
  EXPECT_EQ(decide_client_binary(in(SessionRole::member, RoomKind::echo)).kind, Kind::echo);
}

TEST(ClientProtocol, WhatASessionIsDecidesFirst) {
  std::string const ping = R"({"event":"ping"})";
  // Waiting for its room's stream: nothing it says is read yet.
  EXPECT_EQ(decide_client_text(in(SessionRole::waiting, RoomKind::feed), ping, kClock).kind,
            Kind::ignore);
  EXPECT_EQ(decide_client_binary(in(SessionRole::waiting, RoomKind::feed)).kind, Kind::ignore);
  // After the bye, anything (the reference client's second close) ends the linger.
  EXPECT_EQ(decide_client_text(in(SessionRole::leaving, RoomKind::feed), ping, kClock).kind,
            Kind::end_linger);
  EXPECT_EQ(decide_client_binary(in(SessionRole::leaving, RoomKind::feed)).kind, Kind::end_linger);
  // A publish stream: every text frame is an event, whatever it says; binary is 400.
  auto const stream = decide_client_text(in(SessionRole::publisher, RoomKind::feed), ping, kClock);
  EXPECT_EQ(stream.kind, Kind::stream);
  EXPECT_EQ(stream.text, ping);
  auto const binary = decide_client_binary(in(SessionRole::publisher, RoomKind::feed));
  EXPECT_EQ(binary.kind, Kind::reply);
  EXPECT_NE(binary.text.find("a publish stream takes JSON text frames"), std::string::npos);
}

TEST(ClientProtocol, SubscribesUnsubscribesAndPublishesByNameGoToTheHub) {
  auto const sub =
      member(RoomKind::feed, R"({"event":"subscribe","room":"/a","since":4,"epoch":9})");
  EXPECT_EQ(sub.kind, Kind::subscribe);
  EXPECT_EQ(sub.room, std::optional<std::string>("/a"));
  EXPECT_EQ(sub.since, std::optional<std::uint64_t>(4));
  EXPECT_EQ(sub.epoch, std::optional<std::uint64_t>(9));
  auto const pattern = member(RoomKind::feed, R"({"event":"subscribe","room":"/chat/*"})");
  EXPECT_EQ(pattern.kind, Kind::subscribe);
  EXPECT_FALSE(pattern.since);
  auto const unsub = member(RoomKind::feed, R"({"event":"unsubscribe","room":"/a","since":1})");
  EXPECT_EQ(unsub.kind, Kind::unsubscribe);
  EXPECT_EQ(unsub.room, std::optional<std::string>("/a"));
  // A publish that names another room is the Hub's to check, whatever the URL's room is.
  auto const named = member(RoomKind::feed, R"({"event":"publish","room":"/a","data":[1]})");
  EXPECT_EQ(named.kind, Kind::publish);
  EXPECT_EQ(named.room, std::optional<std::string>("/a"));
  EXPECT_EQ(named.text, "[1]");
  // Naming the URL's own room is publishing into it, checked here.
  auto const own = member(RoomKind::feed, R"({"event":"publish","room":"/r","data":1})");
  EXPECT_EQ(parse(own.text)["status"].GetInt(), 403);
  for (auto bad : {R"({"event":"subscribe"})", R"({"event":"subscribe","room":"a"})",
                   R"({"event":"subscribe","room":7})", R"({"event":"unsubscribe"})",
                   R"({"event":"subscribe","room":"/a","since":-1})",
                   R"({"event":"subscribe","room":"/a","epoch":"x"})"}) {
    auto const refused = member(RoomKind::feed, bad);
    EXPECT_EQ(refused.kind, Kind::reply) << bad;
    EXPECT_EQ(parse(refused.text)["status"].GetInt(), 400) << bad;
  }
}

TEST(ClientProtocol, AConnectionToTheRootHasNoRoomOfItsOwn) {
  FrameContext const root = in(SessionRole::member, RoomKind::feed, nullptr);
  auto const pub = decide_client_text(root, R"({"event":"publish","data":1})", kClock);
  EXPECT_EQ(pub.kind, Kind::reply);
  EXPECT_EQ(parse(pub.text)["status"].GetInt(), 400);
  EXPECT_NE(pub.text.find("which room"), std::string::npos);
  EXPECT_EQ(decide_client_text(root, R"({"event":"ping"})", kClock).kind, Kind::reply);
  EXPECT_EQ(decide_client_text(root, R"({"event":"close"})", kClock).kind, Kind::bye);
  EXPECT_EQ(decide_client_binary(root).kind, Kind::reply);  // no echo room: 400
}
