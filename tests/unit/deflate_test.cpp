#include "common/deflate.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>

using namespace wspush;

namespace {

std::string json(std::size_t size) {
  std::string s = R"({"status":200,"event":"price","data":[)";
  for (int i = 0; s.size() + 40 < size; ++i) {
    s += (i ? "," : "") + std::string(R"({"px":1.08)") + std::to_string(100 + i * 7 % 900) +
         R"(,"qty":)" + std::to_string(1000 * (i % 13 + 1)) + "}";
  }
  return s + "]}";
}

// What an independent inflater makes of a payload the way RFC 7692 §7.2.2 says: the
// tail appended, raw inflate.
std::string zlib_inflate(std::string const& payload) {
  z_stream z{};
  inflateInit2(&z, -15);
  std::string input = payload + std::string("\0\0\xff\xff", 4);
  std::string out(payload.size() * 20 + 1024, '\0');
  z.next_in = reinterpret_cast<Bytef*>(input.data());
  z.avail_in = static_cast<uInt>(input.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  inflate(&z, Z_SYNC_FLUSH);
  out.resize(out.size() - z.avail_out);
  inflateEnd(&z);
  return out;
}

}  // namespace

TEST(Deflate, NegotiatesTheFirstAcceptableOfferWithoutContextTakeoverEitherWay) {
  auto a = negotiate_deflate("permessage-deflate; client_max_window_bits");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->compress);
  EXPECT_EQ(a->response,
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
  // Unknown parameters, repeats and bad values pass an offer over for the next one.
  a = negotiate_deflate(
      "permessage-deflate; bogus, permessage-deflate; server_no_context_takeover; "
      "server_no_context_takeover, permessage-deflate; client_max_window_bits=16, "
      "x-webkit-deflate-frame, permessage-deflate; server_max_window_bits=\"10\"");
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->compress);  // a 1 KiB window: this client gets plain messages
  EXPECT_EQ(a->response,
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
            "server_max_window_bits=10");
  EXPECT_TRUE(negotiate_deflate("permessage-deflate; server_max_window_bits=15")->compress);
  EXPECT_FALSE(negotiate_deflate(""));
  EXPECT_FALSE(negotiate_deflate("x-webkit-deflate-frame"));
  EXPECT_FALSE(negotiate_deflate("permessage-deflate; server_max_window_bits"));
  EXPECT_FALSE(negotiate_deflate("permessage-deflate; server_no_context_takeover=1"));
  EXPECT_FALSE(negotiate_deflate("permessage-deflate; server_max_window_bits=7"));
}

TEST(Deflate, AMessageCompressedOnItsOwnInflatesAnywhereAndJsonShrinks) {
  Deflater deflater;
  std::string const plain = json(1024);
  std::string const packed = deflater.compress(plain);
  EXPECT_LT(packed.size(), plain.size() / 2);
  EXPECT_EQ(zlib_inflate(packed), plain);
  // No context is taken over: the second message inflates on its own too.
  std::string const second = deflater.compress(plain);
  EXPECT_EQ(second, packed);
  Inflater inflater;
  std::string out;
  ASSERT_EQ(inflater.inflate(second, 1 << 20, out), Inflater::Result::ok);
  EXPECT_EQ(out, plain);
  EXPECT_EQ(inflater.inflate(deflater.compress(""), 10, out), Inflater::Result::ok);
  EXPECT_EQ(out, "");
}

TEST(Deflate, AFrameCarriesRsv1AndTheCompressedPayload) {
  Deflater deflater;
  std::string const plain = json(300);
  Payload const framed = deflater.frame(Opcode::text, plain);
  EXPECT_EQ(static_cast<unsigned char>((*framed)[0]), 0xC1);  // FIN, RSV1, text
  EXPECT_EQ(zlib_inflate(std::string(frame_payload(*framed))), plain);
}

TEST(Deflate, InflatingStopsAtTheLimitBeforeAllocatingTheRest) {
  Deflater deflater;
  std::string const bomb(16 << 20, 'a');  // 16 MiB of one byte: a few KiB compressed
  std::string const packed = deflater.compress(bomb);
  EXPECT_LT(packed.size(), 64u * 1024);
  Inflater inflater;
  std::string out;
  EXPECT_EQ(inflater.inflate(packed, 65536, out), Inflater::Result::too_big);
  EXPECT_LE(out.capacity(), 4u * 65536);  // grown to the limit, not to 16 MiB
  EXPECT_EQ(inflater.inflate(packed, bomb.size(), out), Inflater::Result::ok);
  EXPECT_EQ(out.size(), bomb.size());
}

TEST(Deflate, CorruptDataIsSaidAndAFinalBlockIsRead) {
  Inflater inflater;
  std::string out;
  EXPECT_EQ(inflater.inflate(std::string("\xff\xff\xff\xff", 4), 100, out),
            Inflater::Result::corrupt);
  // RFC 7692 §7.2.3.4's example: "Hello" in a block with BFINAL set, then 0x00.
  std::string const final_block("\xf3\x48\xcd\xc9\xc9\x07\x00\x00", 8);
  ASSERT_EQ(inflater.inflate(final_block, 100, out), Inflater::Result::ok);
  EXPECT_EQ(out, "Hello");
  // And the inflater is as good as new for the next message.
  Deflater deflater;
  ASSERT_EQ(inflater.inflate(deflater.compress("again"), 100, out), Inflater::Result::ok);
  EXPECT_EQ(out, "again");
}
