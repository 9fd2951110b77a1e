// RFC 6455 §4.2.1 on the server side: every check with its exact answer.
#include "http/handshake.hpp"

#include <gtest/gtest.h>

#include "http/answers.hpp"

using namespace wspush;

namespace {

HttpRequest upgrade(std::vector<std::pair<std::string, std::string>> changes) {
  HttpRequest r;
  r.method = "GET";
  r.target = "/r";
  r.headers = {{"host", "x"},
               {"upgrade", "websocket"},
               {"connection", "keep-alive, Upgrade"},
               {"sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="},
               {"sec-websocket-version", "13"}};
  for (auto const& [name, value] : changes) {
    for (auto it = r.headers.begin(); it != r.headers.end();) {
      it = it->first == name ? r.headers.erase(it) : it + 1;
    }
    if (!value.empty()) r.headers.emplace_back(name, value);
  }
  return r;
}

}  // namespace

TEST(Handshake, TheRfcExampleIsAcceptedWithItsAcceptValue) {
  EXPECT_EQ(websocket_accept("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  HandshakeAnswer const a = check_websocket_handshake(upgrade({}));
  ASSERT_FALSE(a.refusal);
  EXPECT_EQ(a.response,
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
  EXPECT_TRUE(asks_for_websocket(upgrade({{"upgrade", "WebSocket"}})));
  EXPECT_FALSE(asks_for_websocket(upgrade({{"upgrade", ""}})));
}

TEST(Handshake, EachRefusalHasItsStatusReasonAndJsonBody) {
  struct Case {
    std::vector<std::pair<std::string, std::string>> changes;
    int status;
    std::string_view reason;
  };
  for (Case const& c : std::vector<Case>{
           {{{"sec-websocket-version", "8"}}, 426, "version"},
           {{{"sec-websocket-version", ""}}, 426, "version"},
           {{{"sec-websocket-key", "c2hvcnQ="}}, 400, "key"},  // 5 bytes
           {{{"sec-websocket-key", "not base64!!!!!!!!!!!!=="}}, 400, "key"},
           {{{"sec-websocket-key", ""}}, 400, "key"},
           {{{"host", ""}}, 400, "host"},
           {{{"connection", "keep-alive"}}, 400, "connection"},
       }) {
    HandshakeAnswer const a = check_websocket_handshake(upgrade(c.changes));
    ASSERT_TRUE(a.refusal) << c.reason;
    EXPECT_EQ(status_of(a.refusal->reason), c.status) << c.reason;
    EXPECT_EQ(to_string(a.refusal->reason), c.reason);
    HttpAnswer const answer = http_answer(*a.refusal);
    EXPECT_EQ(answer.status, c.status);
    EXPECT_EQ(answer.body.rfind("{\"status\":" + std::to_string(c.status), 0), 0u);
  }
  auto const version = check_websocket_handshake(upgrade({{"sec-websocket-version", "8"}}));
  EXPECT_EQ(http_answer(*version.refusal).headers,
            (std::vector<std::pair<std::string, std::string>>{{"Sec-WebSocket-Version", "13"}}));
  HttpRequest post = upgrade({});
  post.method = "POST";
  EXPECT_EQ(status_of(check_websocket_handshake(post).refusal->reason), 405);
}

TEST(Handshake, ResponsesCarryLengthAndConnection) {
  EXPECT_EQ(http_response(404, "{}", {{"X-A", "1"}}, false),
            "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
            "Connection: close\r\nX-A: 1\r\n\r\n{}");
}
