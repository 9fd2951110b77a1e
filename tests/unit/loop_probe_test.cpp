// LoopProbe: /healthz's check that every event loop still turns.
#include "server/loop/loop_probe.hpp"

#include <gtest/gtest.h>

#include <asio/executor_work_guard.hpp>
#include <optional>
#include <thread>

using namespace wspush;

TEST(LoopProbe, LoopsThatTurnAnswerAndAStuckOneIsNamed) {
  asio::io_context home, turning, stuck;
  LoopProbe probe(home, {&home, &turning, &stuck}, std::chrono::milliseconds(200));
  std::optional<std::vector<std::size_t>> stalled;
  probe.probe([&](std::vector<std::size_t> const& s) { stalled = s; });
  auto work = asio::make_work_guard(turning);
  std::thread other([&] { turning.run(); });
  home.run();  // until the deadline: `stuck` never runs
  work.reset();
  other.join();
  ASSERT_TRUE(stalled);
  EXPECT_EQ(*stalled, std::vector<std::size_t>{2});
}

TEST(LoopProbe, AnswersAsSoonAsAllLoopsHaveTurned) {
  asio::io_context home, other_loop;
  LoopProbe probe(home, {&home, &other_loop}, std::chrono::seconds(30));
  std::optional<std::vector<std::size_t>> stalled;
  probe.probe([&](std::vector<std::size_t> const& s) { stalled = s; });
  other_loop.run();  // answers into home's queue
  auto const started = std::chrono::steady_clock::now();
  home.run();  // returns once answered: the 30 s deadline timer is cancelled
  ASSERT_TRUE(stalled);
  EXPECT_TRUE(stalled->empty());
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
}
