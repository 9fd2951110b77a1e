// The WebSocket opening handshake, server side (RFC 6455 §4.2): which requests ask for
// one, the checks they must pass, and the 101 answer; and plain HTTP responses. Every
// refusal carries the JSON envelope as its body and a reason for the metrics.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/deflate.hpp"
#include "core/refusal.hpp"
#include "http/http_request.hpp"

namespace wspush {

// An `Upgrade: websocket` header (any case): the client wants a WebSocket, and gets
// the handshake's answer (101 or a refusal), never a plain HTTP route.
bool asks_for_websocket(HttpRequest const& request);

struct HandshakeAnswer {
  std::optional<Refusal> refusal;           // set: answer this and close
  std::string response;                     // otherwise: the 101 response to send
  std::optional<DeflateAgreement> deflate;  // permessage-deflate, when agreed
};
// GET only (405), HTTP/1.1+ and Host (400), Connection: Upgrade (400), version 13
// (426 with Sec-WebSocket-Version: 13, also when absent), a key of 16 bytes in base64
// (400). With `compression`, the first acceptable permessage-deflate offer of
// Sec-WebSocket-Extensions is agreed to (common/deflate.hpp).
HandshakeAnswer check_websocket_handshake(HttpRequest const& request, bool compression = false);

// Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + the RFC's GUID)).
std::string websocket_accept(std::string_view key);

// A whole HTTP/1.1 response: status line, Content-Type, Content-Length, Connection,
// the extra headers, then the body.
std::string http_response(int status, std::string_view body,
                          std::vector<std::pair<std::string, std::string>> const& headers,
                          bool keep_alive, std::string_view content_type = "application/json");

// "Not Found" for 404, … ("Unknown" for a status it does not name).
std::string_view http_reason_phrase(int status);

}  // namespace wspush
