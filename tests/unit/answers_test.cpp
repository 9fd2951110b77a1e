// A refusal said as HTTP (http/answers.hpp) and as the protocol's error event.
#include "http/answers.hpp"

#include <gtest/gtest.h>

#include <set>

using namespace wspush;
using namespace std::chrono_literals;

using Headers = std::vector<std::pair<std::string, std::string>>;

TEST(Refusal, EveryReasonHasItsOwnNameAndAnErrorStatus) {
  std::set<std::string_view> names;
  for (int r = 0; r <= static_cast<int>(Reason::broker_unavailable); ++r) {
    Reason const reason = static_cast<Reason>(r);
    EXPECT_TRUE(names.insert(to_string(reason)).second) << to_string(reason);
    EXPECT_GE(status_of(reason), 400) << to_string(reason);
    EXPECT_LT(status_of(reason), 600) << to_string(reason);
  }
  EXPECT_EQ(error_event(Refusal{Reason::unknown_room, "unknown room: /x"}),
            R"({"status":404,"event":"error","data":"unknown room: /x"})");
}

TEST(HttpAnswer, ARefusalIsItsStatusItsEventAndTheHeadersItsReasonCallsFor) {
  HttpAnswer const room = http_answer(Refusal{Reason::unknown_room, "unknown room: /x"});
  EXPECT_EQ(room.status, 404);
  EXPECT_EQ(room.body, R"({"status":404,"event":"error","data":"unknown room: /x"})");
  EXPECT_EQ(room.headers, Headers{});
  EXPECT_EQ(room.content_type, "application/json");
  // Retry-After in whole seconds, rounded up, at least 1.
  EXPECT_EQ(http_answer(Refusal{Reason::handshake_rate, "busy", 1200ms}).headers,
            (Headers{{"Retry-After", "2"}}));
  EXPECT_EQ(http_answer(Refusal{Reason::room_limit, "full", 10ms}).headers,
            (Headers{{"Retry-After", "1"}}));
  EXPECT_EQ(http_answer(Refusal{Reason::token_expired, "expired"}).headers,
            (Headers{{"WWW-Authenticate", "Bearer"}}));
  EXPECT_EQ(http_answer(Refusal{Reason::api_unauthorized, "key"}).headers,
            (Headers{{"WWW-Authenticate", "Bearer"}}));
  EXPECT_EQ(http_answer(Refusal{Reason::token_room, "not yours"}).headers, Headers{});  // 403
  EXPECT_EQ(http_answer(Refusal{Reason::method, "GET"}).headers, (Headers{{"Allow", "GET"}}));
}

TEST(HttpAnswer, APublishIsItsDeliveriesAndSeqOrItsRefusal) {
  HttpAnswer const ok = http_answer(PublishResult{std::nullopt, 3, 17});
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, R"({"delivered":3,"seq":17})");
  HttpAnswer const down =
      http_answer(PublishResult{Refusal{Reason::broker_unavailable, "redis is down"}});
  EXPECT_EQ(down.status, 503);
  EXPECT_EQ(down.body, R"({"status":503,"event":"error","data":"redis is down"})");
}
