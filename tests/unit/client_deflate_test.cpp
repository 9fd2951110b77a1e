#include "client_transport/client_deflate.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>

using namespace wspush;

namespace {

using Attributes = websocketpp::http::attribute_list;
using Inflated = ClientDeflateStreams::Inflated;

std::string json(std::size_t size) {
  std::string s = R"({"event":"message","data":[)";
  for (int i = 0; s.size() + 30 < size; ++i) {
    s += (i ? "," : "") + std::string(R"({"px":1.)") + std::to_string(100 + i * 7 % 900) + "}";
  }
  return s + "]}";
}

// A message as a server compresses it: raw deflate, ended by Z_SYNC_FLUSH (or Z_FINISH,
// a final block, which RFC 7692 allows too), the 00 00 ff ff tail kept for inflate().
std::string server_compressed(std::string const& plain, int flush = Z_SYNC_FLUSH) {
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
  std::string out(plain.size() + 1024, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(plain.data()));
  z.avail_in = static_cast<uInt>(plain.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, flush);
  out.resize(out.size() - z.avail_out);
  deflateEnd(&z);
  return flush == Z_SYNC_FLUSH ? out : out + std::string("\0\0\xff\xff", 4);
}

Inflated inflate(ClientDeflateStreams& s, std::string const& in, std::string& out,
                 std::size_t limit = 1 << 20) {
  return s.inflate(reinterpret_cast<std::uint8_t const*>(in.data()), in.size(), out, limit);
}

}  // namespace

TEST(ClientDeflate, TakesOnlyAnswersToWhatItOffered) {
  int bits = 0;
  EXPECT_EQ(ClientDeflateStreams::check_answer({}, bits), "");
  EXPECT_EQ(bits, 15);
  EXPECT_EQ(ClientDeflateStreams::check_answer({{"server_no_context_takeover", ""},
                                                {"client_no_context_takeover", ""},
                                                {"server_max_window_bits", "10"},
                                                {"client_max_window_bits", "9"}},
                                               bits),
            "");
  EXPECT_EQ(bits, 9);
  EXPECT_EQ(ClientDeflateStreams::check_answer({{"client_max_window_bits", "7"}}, bits),
            "client_max_window_bits: 8 to 15");
  EXPECT_EQ(ClientDeflateStreams::check_answer({{"server_max_window_bits", ""}}, bits),
            "server_max_window_bits: 8 to 15");
  EXPECT_EQ(ClientDeflateStreams::check_answer({{"server_no_context_takeover", "1"}}, bits),
            "server_no_context_takeover takes no value");
  EXPECT_EQ(ClientDeflateStreams::check_answer({{"x_zip", ""}}, bits),
            "unexpected parameter x_zip");
}

TEST(ClientDeflate, ReadsMessagesInPiecesAndAfterAFinalBlock) {
  ClientDeflateStreams s;
  ASSERT_TRUE(s.start(15));
  for (int flush : {Z_SYNC_FLUSH, Z_FINISH, Z_SYNC_FLUSH}) {
    std::string const plain = json(4000);
    std::string const wire = server_compressed(plain, flush);
    std::string out;
    // As websocketpp hands it over: the frame's bytes as they come, then the tail.
    std::size_t const half = wire.size() / 2;
    ASSERT_EQ(inflate(s, wire.substr(0, half), out), Inflated::ok) << flush;
    ASSERT_EQ(inflate(s, wire.substr(half), out), Inflated::ok);
    EXPECT_EQ(out, plain) << flush;
  }
}

TEST(ClientDeflate, ABombStopsAtTheLimitAndCorruptDataIsSaid) {
  ClientDeflateStreams s;
  ASSERT_TRUE(s.start(15));
  std::string const bomb = server_compressed(std::string(64 << 20, ' '));
  ASSERT_LT(bomb.size(), 128u << 10);
  std::string out;
  EXPECT_EQ(inflate(s, bomb, out, 1 << 20), Inflated::too_big);
  EXPECT_LE(out.size(), (1u << 20) + 1);
  ClientDeflateStreams t;
  ASSERT_TRUE(t.start(15));
  out.clear();
  EXPECT_EQ(inflate(t, std::string("\xff\xff\xff\xff\xff", 5), out), Inflated::corrupt);
}

TEST(ClientDeflate, CompressesEachMessageOnItsOwnWithinTheWindowAllowed) {
  for (int bits : {15, 9, 8}) {
    ClientDeflateStreams s;
    ASSERT_TRUE(s.start(bits));
    ClientDeflateStreams reader;
    ASSERT_TRUE(reader.start(15));
    for (int n = 0; n < 3; ++n) {
      std::string const plain = json(2000);
      std::string wire;
      ASSERT_TRUE(s.compress(plain, wire));
      ASSERT_EQ(wire.substr(wire.size() - 4), std::string("\0\0\xff\xff", 4));
      // A fresh inflater reads each one: no message refers to an earlier one.
      ClientDeflateStreams fresh;
      ASSERT_TRUE(fresh.start(15));
      std::string out;
      ASSERT_EQ(inflate(fresh, wire, out), Inflated::ok);
      EXPECT_EQ(out, plain);
      if (bits == 8) {
        EXPECT_EQ((wire[0] >> 1) & 3, 0) << "a stored block";
      } else {
        EXPECT_LT(wire.size() * 3, plain.size());
      }
    }
  }
}
