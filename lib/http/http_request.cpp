#include "http/http_request.hpp"

#include <http_parser.h>

namespace wspush {
namespace {
// Room for a browser's handshake headers (a dozen or so) from the start: no regrowth
// while they are read.
constexpr std::size_t kUsualHeaders = 16;
}  // namespace

std::string HttpRequest::header(std::string_view name) const {
  std::string joined;
  return std::string(header(name, joined));
}

std::string_view HttpRequest::header(std::string_view name, std::string& joined) const {
  std::string_view first;
  bool found = false, repeated = false;
  for (auto const& [n, v] : headers) {
    if (!same_ascii_name(n, name)) continue;
    if (!found) {
      first = v;
      found = true;
      continue;
    }
    if (!repeated) joined.assign(first);
    repeated = true;
    joined.append(", ").append(v);
  }
  return repeated ? std::string_view(joined) : first;
}

bool HttpRequest::has_header(std::string_view name) const {
  for (auto const& h : headers) {
    if (same_ascii_name(h.first, name)) return true;
  }
  return false;
}

// http_parser calls back with pieces of each part; they are appended here. Returning
// non-zero from a callback stops the parser with an error, which is how the limits
// are enforced as the bytes arrive.
struct HttpRequestReader::Parser {
  http_parser parser;
  http_parser_settings settings;

  static HttpRequestReader& reader(http_parser* p) {
    return *static_cast<HttpRequestReader*>(p->data);
  }
  static int on_url(http_parser* p, char const* at, std::size_t n) {
    reader(p).request_.target.append(at, n);
    return 0;
  }
  static int on_header_field(http_parser* p, char const* at, std::size_t n) {
    HttpRequestReader& r = reader(p);
    if (r.in_value_ || r.request_.headers.empty()) r.request_.headers.emplace_back();
    r.in_value_ = false;
    std::string& name = r.request_.headers.back().first;
    std::size_t const from = name.size();
    name.append(at, n);
    for (std::size_t i = from; i < name.size(); ++i) name[i] = ascii_lower(name[i]);
    return 0;
  }
  static int on_header_value(http_parser* p, char const* at, std::size_t n) {
    HttpRequestReader& r = reader(p);
    r.in_value_ = true;
    if (r.request_.headers.empty()) return 1;
    r.request_.headers.back().second.append(at, n);
    return 0;
  }
  static int on_headers_complete(http_parser* p) {
    HttpRequestReader& r = reader(p);
    r.request_.method = http_method_str(static_cast<http_method>(p->method));
    r.request_.http_major = p->http_major;
    r.request_.http_minor = p->http_minor;
    r.request_.keep_alive = http_should_keep_alive(p) != 0;
    if ((p->flags & F_CONTENTLENGTH) && p->content_length > r.limits_.max_body) {
      r.fail(413, "request body over " + std::to_string(r.limits_.max_body) + " bytes");
      return -1;  // 1 and 2 mean "no body" to http_parser; anything else stops it
    }
    return 0;
  }
  static int on_body(http_parser* p, char const* at, std::size_t n) {
    HttpRequestReader& r = reader(p);
    if (r.request_.body.size() + n > r.limits_.max_body) {
      r.fail(413, "request body over " + std::to_string(r.limits_.max_body) + " bytes");
      return 1;
    }
    r.request_.body.append(at, n);
    return 0;
  }
  static int on_message_complete(http_parser* p) {
    if (reader(p).state_ == State::failed) return -1;
    reader(p).state_ = State::complete;
    http_parser_pause(p, 1);  // one request at a time: what follows is not ours yet
    return 0;
  }
};

HttpRequestReader::HttpRequestReader(HttpLimits limits)
    : limits_(limits), parser_(std::make_unique<Parser>()) {
  reset();
}

HttpRequestReader::~HttpRequestReader() = default;

void HttpRequestReader::reset() {
  http_parser_init(&parser_->parser, HTTP_REQUEST);
  parser_->parser.data = this;
  http_parser_settings_init(&parser_->settings);
  parser_->settings.on_url = &Parser::on_url;
  parser_->settings.on_header_field = &Parser::on_header_field;
  parser_->settings.on_header_value = &Parser::on_header_value;
  parser_->settings.on_headers_complete = &Parser::on_headers_complete;
  parser_->settings.on_body = &Parser::on_body;
  parser_->settings.on_message_complete = &Parser::on_message_complete;
  request_ = HttpRequest{};
  request_.headers.reserve(kUsualHeaders);
  state_ = State::reading;
  head_bytes_ = 0;
  in_value_ = false;
  error_status_ = 0;
  error_.clear();
}

void HttpRequestReader::adopt(HttpRequest request) {
  reset();
  request_ = std::move(request);
  state_ = State::complete;
}

void HttpRequestReader::fail(int status, std::string reason) {
  if (state_ == State::failed) return;
  state_ = State::failed;
  error_status_ = status;
  error_ = std::move(reason);
}

std::size_t HttpRequestReader::consume(std::string_view data) {
  if (state_ != State::reading || data.empty()) return 0;
  http_parser& p = parser_->parser;
  bool const in_head = request_.method.empty();
  // The head is bounded before it is parsed: at most what is left of max_head goes in.
  std::string_view chunk = data;
  if (in_head) {
    std::size_t const room = limits_.max_head - head_bytes_;
    if (chunk.size() > room) chunk = chunk.substr(0, room);
  }
  std::size_t const used = http_parser_execute(&p, &parser_->settings, chunk.data(), chunk.size());
  if (in_head) head_bytes_ += used;
  http_errno const error = HTTP_PARSER_ERRNO(&p);
  if (state_ == State::failed) return used;
  if (state_ == State::complete || error == HPE_PAUSED) {
    if (state_ != State::complete) state_ = State::complete;
    return used;
  }
  if (error != HPE_OK) {
    int const status = error == HPE_INVALID_VERSION ? 505 : 400;
    fail(status, std::string("malformed HTTP request: ") + http_errno_description(error));
    return used;
  }
  if (p.upgrade) {  // an upgrade request ends with its head; the parser stops there
    state_ = State::complete;
    return used;
  }
  if (request_.method.empty() && head_bytes_ >= limits_.max_head) {
    fail(431, "request head over " + std::to_string(limits_.max_head) + " bytes");
  }
  return used;
}

}  // namespace wspush
