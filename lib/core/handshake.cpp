#include "core/handshake.hpp"

#include <openssl/sha.h>

#include <cctype>

#include "common/base64.hpp"
#include "common/codec.hpp"

namespace wspush {
namespace {

// Whether a comma-separated header value holds `token` (any case).
bool has_token(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    std::size_t const comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item.size() == token.size()) {
      bool same = true;
      for (std::size_t i = 0; i < item.size() && same; ++i) {
        same = std::tolower(static_cast<unsigned char>(item[i])) ==
               std::tolower(static_cast<unsigned char>(token[i]));
      }
      if (same) return true;
    }
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

Refusal refuse(int status, std::string_view reason, std::string const& text,
               std::vector<std::pair<std::string, std::string>> headers = {}) {
  return Refusal{status, encode_text_event(status, "error", text), std::move(headers), reason};
}

}  // namespace

bool asks_for_websocket(HttpRequest const& request) {
  return has_token(request.header("upgrade"), "websocket");
}

HandshakeAnswer check_websocket_handshake(HttpRequest const& r) {
  HandshakeAnswer a;
  if (r.method != "GET") {
    a.refusal = refuse(405, "method", "a WebSocket handshake is a GET", {{"Allow", "GET"}});
  } else if (r.http_major < 1 || (r.http_major == 1 && r.http_minor < 1)) {
    a.refusal = refuse(400, "http_version", "a WebSocket handshake needs HTTP/1.1");
  } else if (r.header("host").empty()) {
    a.refusal = refuse(400, "host", "missing Host header");
  } else if (!has_token(r.header("connection"), "upgrade")) {
    a.refusal = refuse(400, "connection", "missing 'Connection: Upgrade'");
  } else if (r.header("sec-websocket-version") != "13") {
    a.refusal = refuse(426, "version",
                       "unsupported Sec-WebSocket-Version '" + r.header("sec-websocket-version") +
                           "': this server speaks 13",
                       {{"Sec-WebSocket-Version", "13"}});
  } else {
    std::string const key = r.header("sec-websocket-key");
    auto const decoded = base64_decode(key);
    if (!decoded || decoded->size() != 16) {
      a.refusal = refuse(400, "key", "Sec-WebSocket-Key must be 16 bytes in base64");
    } else {
      a.response =
          "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          "Sec-WebSocket-Accept: " +
          websocket_accept(key) + "\r\n\r\n";
    }
  }
  return a;
}

std::string websocket_accept(std::string_view key) {
  std::string const input = std::string(key) + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<unsigned char const*>(input.data()), input.size(), digest);
  return base64_encode(std::string_view(reinterpret_cast<char const*>(digest), sizeof digest));
}

std::string_view http_reason_phrase(int status) {
  switch (status) {
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 426:
      return "Upgrade Required";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

std::string http_response(int status, std::string_view body,
                          std::vector<std::pair<std::string, std::string>> const& headers,
                          bool keep_alive, std::string_view content_type) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " ";
  out.append(http_reason_phrase(status));
  out.append("\r\nContent-Type: ").append(content_type);
  out.append("\r\nContent-Length: ").append(std::to_string(body.size()));
  out.append(keep_alive ? "\r\nConnection: keep-alive" : "\r\nConnection: close");
  for (auto const& [name, value] : headers)
    out.append("\r\n").append(name).append(": ").append(value);
  out.append("\r\n\r\n").append(body);
  return out;
}

}  // namespace wspush
