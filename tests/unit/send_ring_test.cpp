// SendRing: a loop turn's sends in one io_uring submission, on real sockets (Unix
// socket pairs): bytes arrive in order, a full socket answers EAGAIN at once, a gone
// peer answers EPIPE, and a full ring says so.
#include "server/loop/send_ring.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "socket_pair.hpp"

using namespace wspush;
using wspush::test::Pair;

namespace {

std::map<std::size_t, long> submit(SendRing& ring, bool* whole = nullptr) {
  std::map<std::size_t, long> results;
  bool const all = ring.submit([&](std::size_t tag, long result) { results[tag] = result; });
  if (whole) *whole = all;
  return results;
}

}  // namespace

TEST(SendRing, GatheredSendsOnManySocketsGoOutInOneSubmission) {
  auto ring = SendRing::open();
  if (!ring) GTEST_SKIP() << "io_uring is refused here";
  ASSERT_TRUE(ring->enable());
  std::vector<Pair> pairs(20);
  std::vector<std::string> texts;
  for (std::size_t i = 0; i < pairs.size(); ++i) texts.push_back("frame " + std::to_string(i));
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    std::string_view const parts[] = {"<", texts[i], ">"};
    ASSERT_TRUE(ring->add(pairs[i].ours, parts, 3));
  }
  EXPECT_EQ(ring->queued(), pairs.size());
  bool whole = false;
  auto const results = submit(*ring, &whole);
  EXPECT_TRUE(whole);
  ASSERT_EQ(results.size(), pairs.size());
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    EXPECT_EQ(results.at(i), static_cast<long>(texts[i].size() + 2));
    EXPECT_EQ(pairs[i].drain(), "<" + texts[i] + ">");
  }
  EXPECT_EQ(ring->queued(), 0u);
  // The ring is reusable: a second turn.
  std::string_view const again[] = {"again"};
  ASSERT_TRUE(ring->add(pairs[3].ours, again, 1));
  EXPECT_EQ(submit(*ring).at(0), 5);
  EXPECT_EQ(pairs[3].drain(), "again");
}

TEST(SendRing, AFullSocketAnswersEagainAtOnceAndAGonePeerEpipe) {
  auto ring = SendRing::open();
  if (!ring) GTEST_SKIP() << "io_uring is refused here";
  ASSERT_TRUE(ring->enable());
  Pair full, gone, fine;
  std::string const block(1 << 16, 'x');
  while (::send(full.ours, block.data(), block.size(), MSG_DONTWAIT) > 0) {
  }
  ::close(gone.theirs);
  gone.theirs = -1;
  std::string_view const parts[] = {block};
  ASSERT_TRUE(ring->add(full.ours, parts, 1));
  ASSERT_TRUE(ring->add(gone.ours, parts, 1));
  ASSERT_TRUE(ring->add(fine.ours, parts, 1));
  auto const results = submit(*ring);  // returns: nothing is left waiting in the kernel
  EXPECT_EQ(results.at(0), -EAGAIN);
  EXPECT_EQ(results.at(1), -EPIPE);
  EXPECT_GT(results.at(2), 0);  // as much of it as fits
}

TEST(SendRing, AFullRingRefusesMoreUntilSubmitted) {
  auto ring = SendRing::open();
  if (!ring) GTEST_SKIP() << "io_uring is refused here";
  ASSERT_TRUE(ring->enable());
  Pair pair;
  std::string_view const parts[] = {"x"};
  std::size_t added = 0;
  while (added < 100000 && ring->add(pair.ours, parts, 1)) ++added;
  EXPECT_GT(added, 0u);
  EXPECT_LT(added, 100000u);
  EXPECT_EQ(submit(*ring).size(), added);
  EXPECT_EQ(pair.drain(), std::string(added, 'x'));
  EXPECT_TRUE(ring->add(pair.ours, parts, 1));
  submit(*ring);
}

TEST(SendRing, OpenedOnOneThreadItServesTheThreadThatEnablesIt) {
  auto ring = SendRing::open();  // as the server does: before its loops run
  if (!ring) GTEST_SKIP() << "io_uring is refused here";
  Pair pair;
  long result = 0;
  std::thread loop([&] {
    if (!ring->enable()) return;
    std::string_view const parts[] = {"from the loop"};
    if (ring->add(pair.ours, parts, 1)) result = submit(*ring).at(0);
  });
  loop.join();
  EXPECT_EQ(result, 13);
  EXPECT_EQ(pair.drain(), "from the loop");
}
