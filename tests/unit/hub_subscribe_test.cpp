// Many rooms on one connection (SPEC §3.1), in the Hub: subscribe and unsubscribe, per
// room resume, family patterns, refusals that name the room.
#include <gtest/gtest.h>

#include "core/hub.hpp"
#include "hub_fixture.hpp"

using namespace wspush;
using namespace wspush::test;
using namespace std::chrono_literals;

namespace {

class HubSubscribeTest : public HubTest {
 protected:
  void SetUp() override {
    declare({"/news:feed", "/r:relay", "/nowtime:ticker", "/echo:echo", "/chat/*:relay"});
    hub.start();
  }
  void subscribe(SessionId id, std::string room, std::optional<std::uint64_t> since = {},
                 std::optional<std::uint64_t> epoch = {}) {
    hub.subscribe(id, SubscribeRequest{std::move(room), since, epoch});
  }
  // The parsed messages `id` got since the last look.
  std::vector<rapidjson::Document> got(SessionId id) {
    std::vector<rapidjson::Document> out;
    for (std::string const& t : texts(id)) out.push_back(parse(t));
    return out;
  }
};

std::string room_of(rapidjson::Document const& d) {
  return d.HasMember("room") ? d["room"].GetString() : "";
}

}  // namespace

TEST_F(HubSubscribeTest, AConnectionToTheRootIsInNoRoomUntilItSubscribes) {
  EXPECT_FALSE(hub.admit("/"));
  join(1, "/");
  EXPECT_EQ(texts(1),
            std::vector<std::string>{R"({"status":200,"event":"notification","data":"Welcome"})"});
  publish("/news", "message", "1");
  EXPECT_TRUE(texts(1).empty());
  subscribe(1, "/news");
  auto m = got(1);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_STREQ(m[0]["event"].GetString(), "subscribed");
  EXPECT_EQ(room_of(m[0]), "/news");
  EXPECT_EQ(m[0]["data"]["last_seq"].GetUint64(), 1u);
  EXPECT_EQ(m[0]["data"]["epoch"].GetUint64(), 7u);
  publish("/news", "message", "2");
  EXPECT_EQ(texts(1), std::vector<std::string>{
                          R"({"status":200,"event":"message","data":2,"seq":2,"room":"/news"})"});
  EXPECT_EQ(registry.find("/news")->members(), 1u);
}

TEST_F(HubSubscribeTest, TheUrlsRoomKeepsItsEnvelopeAndASubscribedRoomNamesItself) {
  join(1, "/news");
  subscribe(1, "/r");
  outbox.take(1);
  publish("/news", "message", "1");
  publish("/r", "message", "2");
  EXPECT_EQ(texts(1), (std::vector<std::string>{
                          R"({"status":200,"event":"message","data":1,"seq":1})",
                          R"({"status":200,"event":"message","data":2,"seq":1,"room":"/r"})"}));
  EXPECT_EQ(outbox.broadcasts.size(), 2u);  // one encoding per broadcast, and one tagged copy
}

TEST_F(HubSubscribeTest, SinceResumesARoomWithNoGapAndNoDuplicate) {
  for (int i = 1; i <= 5; ++i) publish("/news", "message", std::to_string(i));
  join(1, "/");
  outbox.take(1);
  subscribe(1, "/news", 3, 7);
  auto m = got(1);
  ASSERT_EQ(m.size(), 4u);
  EXPECT_STREQ(m[0]["event"].GetString(), "subscribed");
  EXPECT_STREQ(m[1]["event"].GetString(), "recovery");
  EXPECT_TRUE(m[1]["data"]["recovered"].GetBool());
  EXPECT_EQ(room_of(m[1]), "/news");
  EXPECT_EQ(m[2]["seq"].GetUint64(), 4u);
  EXPECT_EQ(room_of(m[2]), "/news");
  EXPECT_EQ(m[3]["seq"].GetUint64(), 5u);
  publish("/news", "message", "6");
  EXPECT_EQ(got(1)[0]["seq"].GetUint64(), 6u);
  // Another epoch: the stream is not the one the client saw.
  join(2, "/");
  outbox.take(2);
  subscribe(2, "/news", 3, 6);
  m = got(2);
  ASSERT_GE(m.size(), 2u);
  EXPECT_FALSE(m[1]["data"]["recovered"].GetBool());
}

TEST_F(HubSubscribeTest, APatternFollowsEveryRoomOfItsFamilyExistingAndFutureEachWithItsSeq) {
  publish("/chat/a", "message", "1");
  join(1, "/");
  outbox.take(1);
  subscribe(1, "/chat/*");
  auto m = got(1);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_STREQ(m[0]["event"].GetString(), "subscribed");
  EXPECT_EQ(room_of(m[0]), "/chat/*");
  publish("/chat/a", "message", "2");
  publish("/chat/b", "message", "3");  // a room made after the subscription
  publish("/chat/b", "message", "4");
  m = got(1);
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(room_of(m[0]), "/chat/a");
  EXPECT_EQ(m[0]["seq"].GetUint64(), 2u);
  EXPECT_EQ(room_of(m[1]), "/chat/b");
  EXPECT_EQ(m[1]["seq"].GetUint64(), 1u);
  EXPECT_EQ(m[2]["seq"].GetUint64(), 2u);
  publish("/news", "message", "5");
  EXPECT_TRUE(texts(1).empty());  // not of the family
}

TEST_F(HubSubscribeTest, AMessageReachesAConnectionOnceHoweverManySubscriptionsCoverItsRoom) {
  join(1, "/chat/a");
  subscribe(1, "/chat/*");
  subscribe(1, "/chat/b");
  outbox.take(1);
  publish("/chat/a", "message", "1");  // the URL's room: as ever, once, no room named
  publish("/chat/b", "message", "2");  // named and covered by the pattern: once
  EXPECT_EQ(texts(1),
            (std::vector<std::string>{
                R"({"status":200,"event":"message","data":1,"seq":1})",
                R"({"status":200,"event":"message","data":2,"seq":1,"room":"/chat/b"})"}));
  // Unsubscribing the pattern leaves the room named on its own.
  hub.unsubscribe(1, "/chat/*");
  EXPECT_STREQ(got(1).at(0)["event"].GetString(), "unsubscribed");
  publish("/chat/b", "message", "3");
  publish("/chat/c", "message", "4");
  auto m = got(1);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(room_of(m[0]), "/chat/b");
}

TEST_F(HubSubscribeTest, UnsubscribeStopsTheRoomAndSaysSo) {
  join(1, "/");
  subscribe(1, "/news");
  outbox.take(1);
  hub.unsubscribe(1, "/news");
  auto m = got(1);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_STREQ(m[0]["event"].GetString(), "unsubscribed");
  EXPECT_EQ(room_of(m[0]), "/news");
  publish("/news", "message", "1");
  EXPECT_TRUE(texts(1).empty());
  EXPECT_EQ(registry.find("/news")->members(), 0u);
  hub.unsubscribe(1, "/news");
  m = got(1);
  EXPECT_EQ(m.at(0)["status"].GetInt(), 404);
  EXPECT_EQ(room_of(m[0]), "/news");
}

TEST_F(HubSubscribeTest, RefusalsNameTheRoomAndTheConnectionStays) {
  join(1, "/news");
  struct Case {
    std::string room;
    std::optional<std::uint64_t> since;
    int status;
  };
  for (Case const& c : std::vector<Case>{{"/nope", {}, 404},
                                         {"/nope/*", {}, 404},
                                         {"/news", {}, 409},  // the URL's own room
                                         {"/echo", {}, 403},
                                         {"/chat/*", 3, 400}}) {
    outbox.take(1);
    subscribe(1, c.room, c.since);
    auto m = got(1);
    ASSERT_EQ(m.size(), 1u) << c.room;
    EXPECT_STREQ(m[0]["event"].GetString(), "error");
    EXPECT_EQ(m[0]["status"].GetInt(), c.status) << c.room;
    EXPECT_EQ(room_of(m[0]), c.room);
  }
  subscribe(1, "/r");
  outbox.take(1);
  subscribe(1, "/r");
  EXPECT_EQ(got(1).at(0)["status"].GetInt(), 409);
  EXPECT_TRUE(outbox.closes.empty());
}

TEST_F(HubSubscribeTest, AConnectionHoldsAtMostMaxSubscriptions) {
  Hub limited{registry, broker, outbox, timers, clock, HubOptions{250ms, 0, 2, 128}};
  if (auto j = limited.join(9, "/")) outbox.join(9, std::move(*j));
  limited.subscribe(9, SubscribeRequest{"/news", {}, {}});
  limited.subscribe(9, SubscribeRequest{"/chat/*", {}, {}});  // a pattern counts one
  outbox.take(9);
  limited.subscribe(9, SubscribeRequest{"/r", {}, {}});
  auto const m = got(9);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0]["status"].GetInt(), 429);
  limited.leave(9);
}

TEST_F(HubSubscribeTest, TheTokensRoomsClaimDecidesEachSubscribe) {
  if (auto j = hub.join(1, "/", std::vector<std::string>{"/news", "/chat/*"})) {
    outbox.join(1, std::move(*j));
  }
  outbox.take(1);
  subscribe(1, "/news");
  subscribe(1, "/chat/x");
  subscribe(1, "/chat/*");
  subscribe(1, "/r");
  auto const m = got(1);
  ASSERT_EQ(m.size(), 4u);
  EXPECT_STREQ(m[0]["event"].GetString(), "subscribed");
  EXPECT_STREQ(m[1]["event"].GetString(), "subscribed");
  EXPECT_STREQ(m[2]["event"].GetString(), "subscribed");
  EXPECT_EQ(m[3]["status"].GetInt(), 403);
  EXPECT_EQ(room_of(m[3]), "/r");
}

TEST_F(HubSubscribeTest, PublishingIntoAFollowedRelayRoom) {
  join(1, "/");
  subscribe(1, "/r");
  subscribe(1, "/news");
  outbox.take(1);
  hub.publish_from_member(1, std::string_view("/r"), "1");
  EXPECT_EQ(got(1).at(0)["seq"].GetUint64(), 1u);
  hub.publish_from_member(1, std::string_view("/news"), "1");    // a feed room
  hub.publish_from_member(1, std::string_view("/chat/q"), "1");  // not followed
  auto const m = got(1);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0]["status"].GetInt(), 403);
  EXPECT_EQ(room_of(m[0]), "/news");
  EXPECT_EQ(m[1]["status"].GetInt(), 404);
  EXPECT_EQ(room_of(m[1]), "/chat/q");
}

TEST_F(HubSubscribeTest, EventsNamesItsRoomsAndResumesThemFromOneToken) {
  for (int i = 1; i <= 3; ++i) publish("/news", "message", std::to_string(i));
  EXPECT_TRUE(hub.admit("/events?room=%2Fnews&room=/nope"));  // 404: one is unknown
  EXPECT_FALSE(hub.admit("/events?room=%2Fnews&room=/chat/*"));
  join(1, "/events?room=%2Fnews&room=/chat/*&resume=2.7%3A%252Fnews");
  hub.subscribe_named(1, "/events?room=%2Fnews&room=/chat/*&resume=2.7%3A%252Fnews");
  auto const m = got(1);
  ASSERT_EQ(m.size(), 5u);  // welcome, subscribed, recovery, 3, subscribed (the pattern)
  EXPECT_STREQ(m[2]["event"].GetString(), "recovery");
  EXPECT_EQ(m[3]["seq"].GetUint64(), 3u);
  EXPECT_EQ(room_of(m[4]), "/chat/*");
}

TEST_F(HubSubscribeTest, LeavingDropsEverySubscription) {
  join(1, "/");
  subscribe(1, "/news");
  subscribe(1, "/chat/*");
  publish("/chat/a", "message", "1");
  EXPECT_EQ(registry.find("/chat/a")->members(), 1u);
  hub.leave(1);
  EXPECT_EQ(registry.find("/news")->members(), 0u);
  EXPECT_EQ(registry.find("/chat/a")->members(), 0u);
  outbox.take(1);
  publish("/chat/b", "message", "2");  // the pattern went with it
  EXPECT_TRUE(texts(1).empty());
  EXPECT_EQ(hub.sessions(), 0u);
}
