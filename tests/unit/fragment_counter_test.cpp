#include "common/fragment_counter.hpp"

#include <gtest/gtest.h>

#include <string>

#include "common/frame_reader.hpp"

namespace wspush {
namespace {

// An unmasked (server) frame, or a masked one with a zero key.
std::string frame(std::uint8_t opcode, std::size_t size, bool fin, bool masked = false) {
  std::string f(1, static_cast<char>((fin ? 0x80 : 0) | opcode));
  std::uint8_t const mask = masked ? 0x80 : 0;
  if (size < 126) {
    f.push_back(static_cast<char>(mask | size));
  } else if (size < 65536) {
    f.push_back(static_cast<char>(mask | 126));
    f.push_back(static_cast<char>(size >> 8));
    f.push_back(static_cast<char>(size & 0xff));
  } else {
    f.push_back(static_cast<char>(mask | 127));
    for (int shift = 56; shift >= 0; shift -= 8) f.push_back(static_cast<char>(size >> shift));
  }
  if (masked) f.append(4, '\0');
  return f + std::string(size, 'x');
}

// A text message in `pieces` fragments of `size` bytes each.
std::string fragmented(std::size_t pieces, std::size_t size = 0) {
  std::string s;
  for (std::size_t i = 0; i < pieces; ++i) {
    s += frame(i == 0 ? 0x1 : 0x0, size, i + 1 == pieces);
  }
  return s;
}

std::size_t feed(FragmentCounter& c, std::string const& bytes) {
  return c.feed(reinterpret_cast<std::uint8_t const*>(bytes.data()), bytes.size());
}

// Feeds one byte at a time; returns the offset of the first byte refused, or the size.
std::size_t feed_bytewise(FragmentCounter& c, std::string const& bytes) {
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (feed(c, bytes.substr(i, 1)) == 0) return i;
  }
  return bytes.size();
}

TEST(FragmentCounter, PassesAMessageOfExactlyTheCap) {
  FragmentCounter c;
  std::string const s = fragmented(kMaxFragments, 3) + frame(0x1, 5, true);
  EXPECT_EQ(feed(c, s), s.size());
  EXPECT_FALSE(c.over());
}

TEST(FragmentCounter, StopsBeforeTheFrameOverTheCap) {
  FragmentCounter c;
  // A whole message, one at the cap, then one fragment too many.
  std::string const before = frame(0x1, 7, true) + fragmented(kMaxFragments);
  std::string const over = fragmented(kMaxFragments + 1, 2);
  std::size_t const limit = before.size() + (over.size() - frame(0x0, 2, true).size());
  EXPECT_EQ(feed(c, before + over), limit);
  EXPECT_TRUE(c.over());
  EXPECT_EQ(feed(c, frame(0x1, 1, true)), 0u);  // stays over
}

TEST(FragmentCounter, FindsTheSameOffsetOneByteAtATime) {
  FragmentCounter c;
  std::string const over = fragmented(kMaxFragments + 1, 1);
  // The header's first byte went out in the feed before: a header is judged whole.
  EXPECT_EQ(feed_bytewise(c, over), over.size() - frame(0x0, 1, true).size() + 1);
}

TEST(FragmentCounter, ControlFramesBetweenFragmentsAreNotCounted) {
  FragmentCounter c;
  std::string s = frame(0x1, 0, false);
  for (std::size_t i = 2; i < kMaxFragments; ++i) s += frame(0x9, 4, true) + frame(0x0, 0, false);
  s += frame(0xA, 0, true) + frame(0x0, 0, true);
  EXPECT_EQ(feed(c, s), s.size());
}

TEST(FragmentCounter, ReadsExtendedLengthsAndMasks) {
  FragmentCounter c;
  // 16- and 64-bit lengths: their payload must be skipped whole, not read as headers.
  std::string const s = frame(0x2, 300, false) + frame(0x0, 70000, false, true) +
                        frame(0x0, 65535, true) + fragmented(kMaxFragments);
  EXPECT_EQ(feed(c, s), s.size());
  EXPECT_FALSE(c.over());
}

TEST(FragmentCounter, ANewMessageRestartsTheCount) {
  FragmentCounter c;
  std::string const s = fragmented(kMaxFragments) + fragmented(kMaxFragments);
  EXPECT_EQ(feed_bytewise(c, s), s.size());
}

TEST(FragmentCounter, OneFrameAtATimeStopsAtEachFrameEnd) {
  FragmentCounter c;
  std::string const text = frame(0x1, 200, true);
  std::string const ping = frame(0x9, 0, true);
  std::string const rest = frame(0x0, 3, false, true);
  std::string const s = text + ping + rest;
  auto const* data = reinterpret_cast<std::uint8_t const*>(s.data());
  EXPECT_EQ(c.feed(data, s.size(), true), text.size());
  EXPECT_EQ(c.feed(data + text.size(), s.size() - text.size(), true), ping.size());
  // A frame split across feeds: the first part is all passed, then the end of it.
  std::size_t const at = text.size() + ping.size();
  EXPECT_EQ(c.feed(data + at, 3, true), 3u);
  EXPECT_EQ(c.feed(data + at + 3, rest.size() - 3, true), rest.size() - 3);
  EXPECT_FALSE(c.over());
}

TEST(FragmentCounter, PassesOverTheHttpHeadsBeforeTheFrames) {
  FragmentCounter c;
  c.after_http_head();
  // A proxy's answer, then the 101; their bytes would read as frames of any size.
  std::string const heads =
      "HTTP/1.1 200 Connection established\r\n\r\n"
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n";
  std::string const text = frame(0x1, 5, true);
  std::string const s = heads + text + fragmented(kMaxFragments + 1);
  auto const* data = reinterpret_cast<std::uint8_t const*>(s.data());
  // One frame at a time: the heads and the first frame; then the rest up to the cap.
  EXPECT_EQ(c.feed(data, s.size(), true), heads.size() + text.size());
  EXPECT_EQ(feed(c, s.substr(heads.size() + text.size())), fragmented(kMaxFragments).size());
  EXPECT_TRUE(c.over());
}

}  // namespace
}  // namespace wspush
