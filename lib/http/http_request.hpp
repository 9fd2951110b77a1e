// HTTP/1.1 requests as the server reads them off a connection, on Node's http_parser
// (Debian's libhttp-parser): incremental, bounded (the head by max_head, 431 beyond;
// the body by max_body, 413 beyond), and it stops exactly at the end of one request,
// so the bytes after a WebSocket upgrade (or a pipelined request) are left to the
// caller untouched.
//
// Threading: one reader per connection, used by that connection's thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wspush {

// HTTP's names and tokens are ASCII and case-insensitive: compared without the C
// locale's tolower (a function call per character, on every handshake's headers).
inline char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
}
inline bool same_ascii_name(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

struct HttpRequest {
  std::string method;  // "GET", "POST", …
  std::string target;  // "/chat?since=3"
  unsigned http_major = 1, http_minor = 1;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased, in order
  std::string body;
  bool keep_alive = false;  // the connection may carry another request after this one

  // The value of header `name` (any case), "" when absent; repeated headers joined by ", ".
  std::string header(std::string_view name) const;
  // The same without a copy when the header appears at most once; a repeated one is
  // joined into `joined`, which the view then points into.
  std::string_view header(std::string_view name, std::string& joined) const;
  bool has_header(std::string_view name) const;
};

struct HttpLimits {
  std::size_t max_head = 16 * 1024;  // request line and headers
  std::size_t max_body = 64 * 1024;
};

class HttpRequestReader {
 public:
  explicit HttpRequestReader(HttpLimits limits);
  ~HttpRequestReader();
  HttpRequestReader(HttpRequestReader const&) = delete;
  HttpRequestReader& operator=(HttpRequestReader const&) = delete;

  enum class State { reading, complete, failed };

  // Reads from `data` and returns how many bytes belong to the request; once complete,
  // the rest is not this request's. Call again with more while State::reading.
  std::size_t consume(std::string_view data);
  State state() const { return state_; }
  HttpRequest& request() { return request_; }
  // failed: the status to answer (400, 413, 431, 505) and why.
  int error_status() const { return error_status_; }
  std::string const& error() const { return error_; }
  // Ready for the next request on the same connection.
  void reset();
  // Takes a request another reader read (the connection moved): complete.
  void adopt(HttpRequest request);

 private:
  struct Parser;
  friend struct Parser;
  void fail(int status, std::string reason);

  HttpLimits limits_;
  std::unique_ptr<Parser> parser_;
  HttpRequest request_;
  State state_ = State::reading;
  std::size_t head_bytes_ = 0;
  bool in_value_ = false;  // the last header callback was a value (a new name starts a header)
  int error_status_ = 0;
  std::string error_;
};

}  // namespace wspush
