#include "http/handshake.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

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
    if (same_ascii_name(item, token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

Refusal refuse(Reason reason, std::string text) {
  return Refusal{reason, std::move(text)};
}

}  // namespace

bool asks_for_websocket(HttpRequest const& request) {
  std::string joined;
  return has_token(request.header("upgrade", joined), "websocket");
}

HandshakeAnswer check_websocket_handshake(HttpRequest const& r, bool compression) {
  HandshakeAnswer a;
  std::string joined;  // only a repeated header is copied, into this
  if (r.method != "GET") {
    a.refusal = refuse(Reason::method, "a WebSocket handshake is a GET");
  } else if (r.http_major < 1 || (r.http_major == 1 && r.http_minor < 1)) {
    a.refusal = refuse(Reason::http_version, "a WebSocket handshake needs HTTP/1.1");
  } else if (r.header("host", joined).empty()) {
    a.refusal = refuse(Reason::host, "missing Host header");
  } else if (!has_token(r.header("connection", joined), "upgrade")) {
    a.refusal = refuse(Reason::connection, "missing 'Connection: Upgrade'");
  } else if (std::string_view const version = r.header("sec-websocket-version", joined);
             version != "13") {
    a.refusal = refuse(Reason::version, "unsupported Sec-WebSocket-Version '" +
                                            std::string(version) + "': this server speaks 13");
  } else {
    std::string_view const key = r.header("sec-websocket-key", joined);
    auto const decoded = base64_decode(key);
    if (!decoded || decoded->size() != 16) {
      a.refusal = refuse(Reason::key, "Sec-WebSocket-Key must be 16 bytes in base64");
    } else {
      constexpr std::string_view head =
          "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          "Sec-WebSocket-Accept: ";
      std::string const accept = websocket_accept(key);
      if (compression) a.deflate = negotiate_deflate(r.header("sec-websocket-extensions", joined));
      a.response.reserve(head.size() + accept.size() + 4);
      a.response.append(head).append(accept);
      if (a.deflate)
        a.response.append("\r\nSec-WebSocket-Extensions: ").append(a.deflate->response);
      a.response.append("\r\n\r\n");
    }
  }
  return a;
}

namespace {
// SHA-1 with the digest fetched once and a context kept per thread: OpenSSL 3's
// one-shot SHA1() fetches the algorithm (under its provider store's locks) and makes a
// context on every call, half of what an accept value cost (bench/RESULTS.md).
class Sha1 {
 public:
  Sha1() : md_(EVP_MD_fetch(nullptr, "SHA1", nullptr)), ctx_(EVP_MD_CTX_new()) {}
  ~Sha1() {
    EVP_MD_CTX_free(ctx_);
    EVP_MD_free(md_);
  }
  Sha1(Sha1 const&) = delete;
  Sha1& operator=(Sha1 const&) = delete;

  // False when OpenSSL would not (then the caller uses the one-shot SHA1()).
  bool digest(std::string_view a, std::string_view b, unsigned char (&out)[SHA_DIGEST_LENGTH]) {
    unsigned int size = 0;
    return md_ != nullptr && ctx_ != nullptr && EVP_DigestInit_ex2(ctx_, md_, nullptr) == 1 &&
           EVP_DigestUpdate(ctx_, a.data(), a.size()) == 1 &&
           EVP_DigestUpdate(ctx_, b.data(), b.size()) == 1 &&
           EVP_DigestFinal_ex(ctx_, out, &size) == 1 && size == SHA_DIGEST_LENGTH;
  }

 private:
  EVP_MD* md_;
  EVP_MD_CTX* ctx_;
};
}  // namespace

std::string websocket_accept(std::string_view key) {
  constexpr std::string_view guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";  // RFC 6455 §1.3
  thread_local Sha1 sha1;
  unsigned char digest[SHA_DIGEST_LENGTH];
  if (!sha1.digest(key, guid, digest)) {
    std::string const input = std::string(key) + std::string(guid);
    SHA1(reinterpret_cast<unsigned char const*>(input.data()), input.size(), digest);
  }
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
