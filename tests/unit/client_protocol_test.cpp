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
ClientAction member(RoomKind kind, std::string_view text, std::string const& path = "/r") {
  return decide_client_text(SessionRole::member, kind, path, text, kClock);
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
  auto const binary = decide_client_binary(SessionRole::member, RoomKind::relay);
  EXPECT_EQ(binary.kind, Kind::reply);
  EXPECT_EQ(parse(binary.text)["status"].GetInt(), 400);
}

TEST(ClientProtocol, PublishOutsideARelayRoomIs403) {
  for (RoomKind kind : {RoomKind::feed, RoomKind::ticker}) {
    auto const refused = member(kind, R"({"event":"publish","data":1})", "/news");
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
  EXPECT_EQ(decide_client_binary(SessionRole::member, RoomKind::echo).kind, Kind::echo);
}

TEST(ClientProtocol, WhatASessionIsDecidesFirst) {
  std::string const ping = R"({"event":"ping"})";
  // Waiting for its room's stream: nothing it says is read yet.
  EXPECT_EQ(decide_client_text(SessionRole::waiting, RoomKind::feed, "/r", ping, kClock).kind,
            Kind::ignore);
  EXPECT_EQ(decide_client_binary(SessionRole::waiting, RoomKind::feed).kind, Kind::ignore);
  // After the bye, anything (the reference client's second close) ends the linger.
  EXPECT_EQ(decide_client_text(SessionRole::leaving, RoomKind::feed, "/r", ping, kClock).kind,
            Kind::end_linger);
  EXPECT_EQ(decide_client_binary(SessionRole::leaving, RoomKind::feed).kind, Kind::end_linger);
  // A publish stream: every text frame is an event, whatever it says; binary is 400.
  auto const stream = decide_client_text(SessionRole::publisher, RoomKind::feed, "", ping, kClock);
  EXPECT_EQ(stream.kind, Kind::stream);
  EXPECT_EQ(stream.text, ping);
  auto const binary = decide_client_binary(SessionRole::publisher, RoomKind::feed);
  EXPECT_EQ(binary.kind, Kind::reply);
  EXPECT_NE(binary.text.find("a publish stream takes JSON text frames"), std::string::npos);
}
