// What a member's frame asks for, decided on the member's own loop.
#include "core/client_protocol.hpp"

#include <gtest/gtest.h>

#include "fakes.hpp"

using namespace wspush;
using namespace wspush::test;

TEST(ClientProtocol, PingInvalidAndForbiddenPublishesAreRepliesToTheSender) {
  FixedClock clock;
  auto const pong = decide_client_text(RoomKind::feed, "/news", R"({"event":"ping"})", clock);
  EXPECT_EQ(pong.kind, ClientAction::Kind::reply);
  EXPECT_EQ(pong.text, R"({"status":200,"event":"pong","data":"2026-11-27T01:02:06.227639Z"})");
  auto const bad = decide_client_text(RoomKind::relay, "/r", "{", clock);
  EXPECT_EQ(bad.kind, ClientAction::Kind::reply);
  EXPECT_EQ(parse(bad.text)["status"].GetInt(), 400);
  auto const feed =
      decide_client_text(RoomKind::feed, "/news", R"({"event":"publish","data":1})", clock);
  EXPECT_EQ(feed.kind, ClientAction::Kind::reply);
  EXPECT_EQ(parse(feed.text)["status"].GetInt(), 403);
  EXPECT_NE(feed.text.find("/news is a feed room"), std::string::npos);
}

TEST(ClientProtocol, RelayPublishesAndClosesGoToTheHub) {
  FixedClock clock;
  auto const pub = decide_client_text(RoomKind::relay, "/r",
                                      R"({"event":"publish","data":{"a": [1, 2]}})", clock);
  EXPECT_EQ(pub.kind, ClientAction::Kind::publish);
  EXPECT_EQ(pub.text, R"({"a":[1,2]})");  // compact
  EXPECT_EQ(decide_client_text(RoomKind::ticker, "/t", R"({"event":"close"})", clock).kind,
            ClientAction::Kind::close);
}
