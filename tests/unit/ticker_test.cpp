#include "core/ticker.hpp"

#include <gtest/gtest.h>

using namespace std::chrono_literals;
using wspush::next_tick;
using wspush::SteadyTime;

TEST(Ticker, NextTickIsOnTheGrid) {
  SteadyTime const start{};
  EXPECT_EQ(next_tick(start, 1s, start), start + 1s);
  EXPECT_EQ(next_tick(start, 1s, start + 300ms), start + 1s);
  // A timer that fires late does not shift later ticks.
  EXPECT_EQ(next_tick(start, 1s, start + 1s + 40ms), start + 2s);
}

TEST(Ticker, ExactlyOnAGridPointMovesToTheNextOne) {
  SteadyTime const start{};
  EXPECT_EQ(next_tick(start, 1s, start + 3s), start + 4s);
}

TEST(Ticker, MissedTicksAreSkippedNotBurst) {
  SteadyTime const start{};
  EXPECT_EQ(next_tick(start, 100ms, start + 10s + 50ms), start + 10s + 100ms);
}
