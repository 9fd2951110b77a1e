#include "common/frame_reader.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/deflate.hpp"

namespace wspush {
namespace {

struct Got {
  InKind kind;
  std::string payload;
  std::uint16_t code;
  std::string reason;
};

struct Recorder : FrameSink {
  std::vector<Got> got;
  bool keep_going = true;
  bool on_frame(InMessage const& m) override {
    got.push_back({m.kind, std::string(m.payload), m.close_code, std::string(m.close_reason)});
    return keep_going;
  }
};

// A client frame: FIN as given (and RSV1), masked with a fixed key.
std::string client_frame(std::uint8_t opcode, std::string const& payload, bool fin = true,
                         bool rsv1 = false) {
  std::string f;
  f.push_back(static_cast<char>((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode));
  std::size_t const n = payload.size();
  if (n < 126) {
    f.push_back(static_cast<char>(0x80 | n));
  } else if (n <= 0xFFFF) {
    f.push_back(static_cast<char>(0x80 | 126));
    f.push_back(static_cast<char>(n >> 8));
    f.push_back(static_cast<char>(n & 0xFF));
  } else {
    f.push_back(static_cast<char>(0x80 | 127));
    for (int shift = 56; shift >= 0; shift -= 8)
      f.push_back(static_cast<char>((n >> shift) & 0xFF));
  }
  unsigned char const key[4] = {0x37, 0xfa, 0x21, 0x3d};
  for (unsigned char k : key) f.push_back(static_cast<char>(k));
  for (std::size_t i = 0; i < n; ++i) f.push_back(static_cast<char>(payload[i] ^ key[i % 4]));
  return f;
}

TEST(FrameReader, UnmasksATextMessage) {
  FrameReader reader(1024);
  Recorder sink;
  std::string const bytes = client_frame(0x1, R"({"event":"ping"})");
  EXPECT_EQ(reader.consume(bytes, sink), bytes.size());
  ASSERT_EQ(sink.got.size(), 1u);
  EXPECT_EQ(sink.got[0].kind, InKind::text);
  EXPECT_EQ(sink.got[0].payload, R"({"event":"ping"})");
  EXPECT_FALSE(reader.error());
}

TEST(FrameReader, WaitsForTheRestOfAFrameWhateverTheSplit) {
  std::string const text(300, 'a');  // 16-bit length
  std::string const bytes = client_frame(0x1, text) + client_frame(0x2, "xy");
  for (std::size_t split = 0; split <= bytes.size(); ++split) {
    FrameReader reader(1024);
    Recorder sink;
    std::string held(bytes.substr(0, split));
    held.erase(0, reader.consume(held, sink));
    held += bytes.substr(split);
    held.erase(0, reader.consume(held, sink));
    ASSERT_TRUE(held.empty()) << "split at " << split;
    ASSERT_EQ(sink.got.size(), 2u) << "split at " << split;
    EXPECT_EQ(sink.got[0].payload, text);
    EXPECT_EQ(sink.got[1].kind, InKind::binary);
    EXPECT_EQ(sink.got[1].payload, "xy");
  }
}

TEST(FrameReader, AssemblesFragmentsAroundAPing) {
  FrameReader reader(1024);
  Recorder sink;
  std::string const bytes = client_frame(0x1, "hel", false) + client_frame(0x9, "p") +
                            client_frame(0x0, "lo", false) + client_frame(0x0, "!", true);
  EXPECT_EQ(reader.consume(bytes, sink), bytes.size());
  ASSERT_EQ(sink.got.size(), 2u);
  EXPECT_EQ(sink.got[0].kind, InKind::ping);
  EXPECT_EQ(sink.got[0].payload, "p");
  EXPECT_EQ(sink.got[1].payload, "hello!");
  EXPECT_EQ(reader.pending_message_bytes(), 0u);
}

TEST(FrameReader, ReadsCloseCodeAndReason) {
  FrameReader reader(1024);
  Recorder sink;
  reader.consume(client_frame(0x8, std::string("\x0f\xa0", 2) + "done"), sink);
  ASSERT_EQ(sink.got.size(), 1u);
  EXPECT_EQ(sink.got[0].kind, InKind::close);
  EXPECT_EQ(sink.got[0].code, 4000);
  EXPECT_EQ(sink.got[0].reason, "done");

  FrameReader bare(1024);
  Recorder none;
  bare.consume(client_frame(0x8, ""), none);
  ASSERT_EQ(none.got.size(), 1u);
  EXPECT_EQ(none.got[0].code, kCloseNoStatus);
}

TEST(FrameReader, StopsWhenTheSinkSaysSo) {
  FrameReader reader(1024);
  Recorder sink;
  sink.keep_going = false;
  std::string const first = client_frame(0x1, "a");
  EXPECT_EQ(reader.consume(first + client_frame(0x1, "b"), sink), first.size());
  EXPECT_EQ(sink.got.size(), 1u);
}

struct Bad {
  char const* why;
  std::string bytes;
  std::uint16_t code;
};

TEST(FrameReader, ClosesOnEachProtocolViolation) {
  std::string unmasked = client_frame(0x1, "hi");
  unmasked[1] = static_cast<char>(unmasked[1] & 0x7F);
  std::string reserved = client_frame(0x1, "hi");
  reserved[0] = static_cast<char>(reserved[0] | 0x40);
  std::vector<Bad> const cases = {
      {"unmasked", unmasked, kCloseProtocolError},
      {"reserved bit", reserved, kCloseProtocolError},
      {"unknown opcode", client_frame(0x3, "x"), kCloseProtocolError},
      {"fragmented ping", client_frame(0x9, "x", false), kCloseProtocolError},
      {"long ping", client_frame(0x9, std::string(126, 'x')), kCloseProtocolError},
      {"stray continuation", client_frame(0x0, "x"), kCloseProtocolError},
      {"interleaved start", client_frame(0x1, "a", false) + client_frame(0x2, "b"),
       kCloseProtocolError},
      {"close of one byte", client_frame(0x8, "x"), kCloseProtocolError},
      {"close code 1005", client_frame(0x8, std::string("\x03\xed", 2)), kCloseProtocolError},
      {"close code 999", client_frame(0x8, std::string("\x03\xe7", 2)), kCloseProtocolError},
      {"bad UTF-8 text", client_frame(0x1, "\xc3\x28"), kCloseInvalidData},
      {"truncated UTF-8 across fragments",
       client_frame(0x1, "\xe2\x82", false) + client_frame(0x0, "", true), kCloseInvalidData},
      {"bad UTF-8 reason", client_frame(0x8, std::string("\x03\xe8\xff", 3)), kCloseInvalidData},
      {"too big", client_frame(0x2, std::string(1025, 'x')), kCloseTooBig},
      {"too big in fragments",
       client_frame(0x1, std::string(600, 'x'), false) + client_frame(0x0, std::string(600, 'x')),
       kCloseTooBig},
  };
  for (Bad const& c : cases) {
    FrameReader reader(1024);
    Recorder sink;
    reader.consume(c.bytes, sink);
    ASSERT_TRUE(reader.error()) << c.why;
    EXPECT_EQ(reader.error()->close_code, c.code) << c.why;
    EXPECT_FALSE(reader.error()->reason.empty()) << c.why;
    for (Got const& g : sink.got) EXPECT_NE(g.kind, InKind::text) << c.why;
  }
}

TEST(FrameReader, RefusesAnOversizedMessageFromItsHeaderAlone) {
  FrameReader reader(1024);
  Recorder sink;
  std::string const header = client_frame(0x2, std::string(70000, 'x')).substr(0, 10);
  reader.consume(header, sink);  // the length alone: 64 KiB never arrive
  ASSERT_TRUE(reader.error());
  EXPECT_EQ(reader.error()->close_code, kCloseTooBig);
}

TEST(FrameReader, AcceptsAMessageOfExactlyTheLimit) {
  FrameReader reader(1024);
  Recorder sink;
  std::string const bytes = client_frame(0x1, std::string(1024, 'x'));
  EXPECT_EQ(reader.consume(bytes, sink), bytes.size());
  EXPECT_FALSE(reader.error());
  ASSERT_EQ(sink.got.size(), 1u);
}

}  // namespace
TEST(FrameReader, InvalidUtf8IsRefusedInTheFragmentThatHoldsIt) {
  FrameReader reader(1 << 20);
  Recorder sink;
  // The first fragment is bad; no further fragment has to arrive for the 1007.
  std::string const bad = client_frame(0x1, "ok \xc0\xaf", /*fin=*/false);
  reader.consume(bad, sink);
  ASSERT_TRUE(reader.error());
  EXPECT_EQ(reader.error()->close_code, kCloseInvalidData);
  EXPECT_TRUE(sink.got.empty());
}

TEST(FrameReader, ACharacterSplitAcrossFragmentsIsFineAndAnOpenOneAtTheEndIsNot) {
  {
    FrameReader reader(1024);
    Recorder sink;
    std::string const bytes = client_frame(0x1, "caf\xc3", false) + client_frame(0x0, "\xa9", true);
    EXPECT_EQ(reader.consume(bytes, sink), bytes.size());
    ASSERT_EQ(sink.got.size(), 1u);
    EXPECT_EQ(sink.got[0].payload, "caf\xc3\xa9");
  }
  FrameReader reader(1024);
  Recorder sink;
  reader.consume(client_frame(0x1, "caf", false) + client_frame(0x0, "\xc3", true), sink);
  ASSERT_TRUE(reader.error());
  EXPECT_EQ(reader.error()->close_code, kCloseInvalidData);
}

TEST(FrameReader, AMessageInTooManyFragmentsIsRefusedWith1008) {
  std::string within = client_frame(0x1, "", false);
  for (std::size_t i = 2; i < kMaxFragments; ++i) within += client_frame(0x0, "", false);
  within += client_frame(0x0, "x", true);  // fragment kMaxFragments: still fine
  FrameReader ok(1024);
  Recorder got;
  EXPECT_EQ(ok.consume(within, got), within.size());
  EXPECT_FALSE(ok.error());
  ASSERT_EQ(got.got.size(), 1u);

  std::string over = client_frame(0x1, "", false);
  for (std::size_t i = 0; i < kMaxFragments; ++i) over += client_frame(0x0, "", false);
  FrameReader reader(1024);
  Recorder sink;
  reader.consume(over, sink);
  ASSERT_TRUE(reader.error());
  EXPECT_EQ(reader.error()->close_code, kClosePolicy);
  EXPECT_TRUE(sink.got.empty());
}

// Autobahn 6.4.3/6.4.4: a frame sent in pieces is failed at the piece that holds the
// first invalid byte, before the rest of the frame arrives.
TEST(FrameReader, InvalidUtf8FailsAtItsByteBeforeTheFrameEnds) {
  std::string const text = std::string(20, 'a') + "\xf4\x90\x80\x80" + std::string(20, 'b');
  std::string const frame = client_frame(0x1, text);
  std::size_t const header = frame.size() - text.size();
  FrameReader reader(1024);
  Recorder sink;
  std::string held = frame.substr(0, header + 10);  // valid so far
  held.erase(0, reader.consume(held, sink));
  EXPECT_FALSE(reader.error());
  EXPECT_TRUE(held.empty());              // what came of the payload was taken
  held += frame.substr(header + 10, 12);  // up to and including the bad byte
  reader.consume(held, sink);
  ASSERT_TRUE(reader.error());
  EXPECT_EQ(reader.error()->close_code, kCloseInvalidData);
  EXPECT_TRUE(sink.got.empty());
}

TEST(FrameReader, ACompressedMessageIsInflatedWhenPermessageDeflateWasAgreed) {
  std::string const text = "{\"event\":\"publish\",\"data\":\"" + std::string(500, 'z') + "\"}";
  std::string const packed = Deflater().compress(text);
  // In two frames: RSV1 on the first only.
  std::string const bytes = client_frame(0x1, packed.substr(0, 5), false, true) +
                            client_frame(0x0, packed.substr(5), true) +
                            client_frame(0x2, "plain");  // a message may come plain too
  FrameReader reader(1024);
  reader.allow_compressed(true);
  Recorder sink;
  EXPECT_EQ(reader.consume(bytes, sink), bytes.size());
  ASSERT_FALSE(reader.error());
  ASSERT_EQ(sink.got.size(), 2u);
  EXPECT_EQ(sink.got[0].kind, InKind::text);
  EXPECT_EQ(sink.got[0].payload, text);
  EXPECT_EQ(sink.got[1].payload, "plain");
}

TEST(FrameReader, CompressionRefusals) {
  std::string const packed = Deflater().compress("hello");
  struct Case {
    std::string bytes;
    bool allowed;
    std::uint16_t code;
  };
  std::string const bomb = Deflater().compress(std::string(100000, 'a'));
  Case const cases[] = {
      {client_frame(0x1, packed, true, true), false, kCloseProtocolError},  // not agreed
      {client_frame(0x1, "a", false) + client_frame(0x0, packed, true, true), true,
       kCloseProtocolError},                                           // on a continuation
      {client_frame(0x9, "", true, true), true, kCloseProtocolError},  // on a ping
      {client_frame(0x1, std::string("\xff\xff\xff", 3), true, true), true, kCloseInvalidData},
      {client_frame(0x1, Deflater().compress("caf\xc3"), true, true), true, kCloseInvalidData},
      {client_frame(0x2, bomb, true, true), true, kCloseTooBig},  // 100 kB inflated > 1 KiB
  };
  for (Case const& c : cases) {
    FrameReader reader(1024);
    reader.allow_compressed(c.allowed);
    Recorder sink;
    reader.consume(c.bytes, sink);
    ASSERT_TRUE(reader.error());
    EXPECT_EQ(reader.error()->close_code, c.code) << reader.error()->reason;
    EXPECT_TRUE(sink.got.empty());
  }
}

}  // namespace wspush
