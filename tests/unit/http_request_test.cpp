// Requests read as they arrive, bounded, stopping exactly at the end of one request.
#include "http/http_request.hpp"

#include <gtest/gtest.h>

using namespace wspush;

namespace {
constexpr const char* kUpgrade =
    "GET /chat?since=3 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
}

TEST(HttpRequest, AnUpgradeStopsAtTheEndOfItsHeadWhateverFollows) {
  std::string const frames =
      "\x81\x85"
      "abcdHELLO";  // a client frame right behind it
  std::string const wire = kUpgrade + frames;
  // Byte by byte and at once: the same request, and the frame bytes left over.
  for (std::size_t step : {std::size_t{1}, wire.size()}) {
    HttpRequestReader r(HttpLimits{});
    std::size_t at = 0;
    while (r.state() == HttpRequestReader::State::reading && at < wire.size()) {
      std::size_t const n = std::min(step, wire.size() - at);
      std::size_t const used = r.consume(std::string_view(wire).substr(at, n));
      at += used;
      if (used < n) break;
    }
    ASSERT_EQ(r.state(), HttpRequestReader::State::complete) << step;
    EXPECT_EQ(wire.substr(at), frames) << step;
    EXPECT_EQ(r.request().method, "GET");
    EXPECT_EQ(r.request().target, "/chat?since=3");
    EXPECT_EQ(r.request().header("SEC-WEBSOCKET-VERSION"), "13");
    EXPECT_EQ(r.request().header("upgrade"), "websocket");
  }
}

TEST(HttpRequest, BodiesByContentLengthAndTheNextRequestIsLeftAlone) {
  std::string const wire =
      "POST /api/publish?room=/x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n{\"a\"}GET /";
  HttpRequestReader r(HttpLimits{});
  std::size_t const used = r.consume(wire);
  ASSERT_EQ(r.state(), HttpRequestReader::State::complete);
  EXPECT_EQ(r.request().body, "{\"a\"}");
  EXPECT_EQ(wire.substr(used), "GET /");
  EXPECT_TRUE(r.request().keep_alive);
  r.reset();
  EXPECT_EQ(r.state(), HttpRequestReader::State::reading);
  EXPECT_TRUE(r.request().target.empty());
}

TEST(HttpRequest, AHeadOver16KiBIs431) {
  HttpRequestReader r(HttpLimits{16 * 1024, 1024});
  std::string const head = "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(17000, 'a');
  r.consume(head);
  ASSERT_EQ(r.state(), HttpRequestReader::State::failed);
  EXPECT_EQ(r.error_status(), 431);
  // Just under the limit passes.
  HttpRequestReader ok(HttpLimits{16 * 1024, 1024});
  std::string small = "GET / HTTP/1.1\r\nHost: x\r\nX-Big: ";
  small += std::string(16 * 1024 - small.size() - 4, 'a') + "\r\n\r\n";
  ok.consume(small);
  EXPECT_EQ(ok.state(), HttpRequestReader::State::complete);
}

TEST(HttpRequest, BodiesOverTheLimitAre413WhetherAnnouncedOrChunked) {
  HttpRequestReader announced(HttpLimits{16 * 1024, 10});
  announced.consume("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n");
  EXPECT_EQ(announced.state(), HttpRequestReader::State::failed);
  EXPECT_EQ(announced.error_status(), 413);
  HttpRequestReader chunked(HttpLimits{16 * 1024, 10});
  chunked.consume(
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n"
      "8\r\n12345678\r\n0\r\n\r\n");
  EXPECT_EQ(chunked.state(), HttpRequestReader::State::failed);
  EXPECT_EQ(chunked.error_status(), 413);
}

TEST(HttpRequest, GarbageIs400) {
  HttpRequestReader r(HttpLimits{});
  r.consume("\x16\x03\x01\x02\x00 not http\r\n\r\n");
  EXPECT_EQ(r.state(), HttpRequestReader::State::failed);
  EXPECT_EQ(r.error_status(), 400);
}

// Names match in any ASCII case; a header given twice reads as one list, the copy-free
// lookup joins only then.
TEST(HttpRequest, HeadersByNameInAnyCaseAndRepeatedOnesJoined) {
  HttpRequestReader r(HttpLimits{});
  r.consume(
      "GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\nX-Trace: a\r\nCONNECTION: Upgrade"
      "\r\n\r\n");
  ASSERT_EQ(r.state(), HttpRequestReader::State::complete);
  HttpRequest const& request = r.request();
  EXPECT_EQ(request.headers[1].first, "connection");  // stored lower-cased
  EXPECT_EQ(request.header("Connection"), "keep-alive, Upgrade");
  std::string joined;
  EXPECT_EQ(request.header("connection", joined), "keep-alive, Upgrade");
  std::string untouched;
  std::string_view const trace = request.header("x-TRACE", untouched);
  EXPECT_EQ(trace, "a");
  EXPECT_TRUE(untouched.empty());  // a single header is not copied
  EXPECT_EQ(request.header("absent", untouched), "");
  EXPECT_FALSE(request.has_header("absent"));
  // Only ASCII letters fold: bytes above 127 compare as they are.
  EXPECT_TRUE(same_ascii_name("Sec-WebSocket-Key", "sec-websocket-key"));
  EXPECT_FALSE(same_ascii_name("\xC9", "\xE9"));
  EXPECT_FALSE(same_ascii_name("[", "{"));  // 0x5B and 0x7B differ by 32 but are not letters
}
