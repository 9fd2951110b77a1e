// The loop's periodic look at its sessions (server/loop/keepalive.hpp).
#include "server/loop/keepalive.hpp"

#include <gtest/gtest.h>

#include "common/frame_reader.hpp"
#include "fake_member.hpp"

using namespace wspush;
using namespace wspush::test;
using namespace std::chrono_literals;

namespace {
ConnectionLimits limits(Duration ping, Duration pong, Duration idle) {
  ConnectionLimits l;
  l.ping_interval = ping;
  l.pong_timeout = pong;
  l.idle_timeout = idle;
  return l;
}
}  // namespace

TEST(KeepaliveSweep, LooksAQuarterOfTheShortestPeriodFrom10msTo1s) {
  LoopCounters counters;
  auto const a = limits(25s, 10s, 0s);
  EXPECT_EQ(KeepaliveSweep(a, counters).period(), 1s);
  auto const b = limits(2s, 400ms, 0s);
  EXPECT_EQ(KeepaliveSweep(b, counters).period(), 100ms);
  auto const c = limits(0s, 1ms, 0s);
  EXPECT_EQ(KeepaliveSweep(c, counters).period(), 10ms);
  auto const d = limits(0s, 10s, 1200ms);
  EXPECT_EQ(KeepaliveSweep(d, counters).period(), 300ms);
}

TEST(KeepaliveSweep, CountsWhatEachLookDid) {
  LoopCounters counters;
  auto const l = limits(25s, 10s, 0s);
  KeepaliveSweep sweep(l, counters);
  FakeMember m;
  std::int64_t expires = 0;
  for (auto k :
       {Member::Keepalive::pinged, Member::Keepalive::nothing, Member::Keepalive::ping_timeout,
        Member::Keepalive::idle, Member::Keepalive::pinged}) {
    m.next_keepalive = k;
    sweep.look(m, expires, 1234, 1000);
  }
  EXPECT_EQ(m.last_look_ms, 1234u);
  EXPECT_EQ(counters.pings_sent.get(), 2u);
  EXPECT_EQ(counters.ping_timeouts.get(), 1u);
  EXPECT_EQ(counters.idle_timeouts.get(), 1u);
  EXPECT_EQ(counters.tokens_expired.get(), 0u);
}

TEST(KeepaliveSweep, AnExpiredTokenClosesWith1008Once) {
  LoopCounters counters;
  auto const l = limits(25s, 10s, 0s);
  KeepaliveSweep sweep(l, counters);
  FakeMember m;
  std::int64_t expires = 2000;
  sweep.look(m, expires, 0, 1999);
  EXPECT_TRUE(m.is_open);
  sweep.look(m, expires, 0, 2000);
  EXPECT_EQ(m.close_code, kClosePolicy);
  EXPECT_EQ(m.close_reason, "token expired");
  EXPECT_EQ(expires, 0);  // acted on: not again
  EXPECT_EQ(counters.tokens_expired.get(), 1u);
}
