#include "server/http/http_connection.hpp"

#include <asio/post.hpp>

#include "common/codec.hpp"
#include "core/jwt_check.hpp"
#include "http/handshake.hpp"
#include "http/sse.hpp"
#include "process/log.hpp"
#include "server/http/http_routes.hpp"

namespace wspush {

HttpConnection::HttpConnection(asio::io_context& io, std::unique_ptr<ByteStream> stream,
                               std::string peer, ListenerEvents& events,
                               ConnectionLimits const& limits,
                               std::function<void(HttpConnection*)> on_done)
    : stream_(std::move(stream)),
      events_(events),
      limits_(limits),
      on_done_(std::move(on_done)),
      reader_(HttpLimits{16 * 1024, limits.max_message_size}),
      deadline_(io),
      peer_(std::move(peer)) {}

// A handshake whose request came whole with the first read (the listening socket
// reports connections with their first bytes) is handed over before this returns:
// it never needs its deadline.
void HttpConnection::start() {
  on_readable();
  arm_if_waiting();
}

void HttpConnection::resume(HttpRequest request, std::string_view rest) {
  reader_.adopt(std::move(request));
  on_request(rest);
  arm_if_waiting();
}

void HttpConnection::arm_if_waiting() {
  if (!finished_ && !deadline_armed_) arm_deadline();
}

// Each request (the first, and each on a kept-alive connection) must arrive whole
// within the handshake timeout: slow and silent clients do not hold a connection.
void HttpConnection::arm_deadline() {
  deadline_armed_ = true;
  deadline_.expires_after(limits_.handshake_timeout);
  deadline_.async_wait([self = shared_from_this()](asio::error_code const& ec) {
    if (ec || self->finished_) return;
    spdlog::debug("handshake timeout from {}", self->peer_);
    self->events_.on_refused(Refusal{Reason::handshake_timeout, "handshake timeout"});
    self->abort();
  });
}

void HttpConnection::abort() {
  if (finished_) return;
  if (stream_) stream_->close();
  done();
}

void HttpConnection::done() {
  if (finished_) return;
  finished_ = true;
  deadline_.cancel();
  if (on_done_) std::exchange(on_done_, nullptr)(this);
}

void HttpConnection::wait(ByteStream::Want want) {
  stream_->wait(want, [self = shared_from_this()](ByteStream::Ready ready) {
    if (ready == ByteStream::Ready::ready) return self->on_readable();
    if (ready == ByteStream::Ready::failed) self->abort();
  });
}

// Reads until the stream would block (the Poller is edge-triggered, and a TLS stream
// may hold decrypted bytes the socket no longer shows), a few reads a turn.
void HttpConnection::on_readable() {
  char buffer[4096];
  for (int reads = 0; reads < 8; ++reads) {
    if (finished_ || busy_) return;
    ByteStream::Io const io = stream_->read_some(buffer, sizeof buffer);
    if (io.blocked) return wait(io.want);
    if (io.closed) return abort();
    handle(std::string_view(buffer, io.bytes));
  }
  asio::post(deadline_.get_executor(), [self = shared_from_this()] { self->on_readable(); });
}

void HttpConnection::handle(std::string_view data) {
  std::size_t const used = reader_.consume(data);
  switch (reader_.state()) {
    case HttpRequestReader::State::reading:
      return;
    case HttpRequestReader::State::failed: {
      Refusal const r{reader_.error_status() == 431   ? Reason::headers_too_large
                      : reader_.error_status() == 413 ? Reason::body_too_large
                                                      : Reason::bad_request,
                      reader_.error()};
      return refuse(r);
    }
    case HttpRequestReader::State::complete:
      return on_request(data.substr(used));
  }
}

void HttpConnection::on_request(std::string_view rest) {
  HttpRequest& request = reader_.request();
  head_only_ = request.method == "HEAD";
  Grant grant;
  HandshakeRequest const view{request.target, peer_,
                              [&request](std::string_view name) { return request.header(name); },
                              &grant};
  if (asks_for_websocket(request)) {
    HandshakeAnswer answer = check_websocket_handshake(request, limits_.compression);
    if (answer.refusal) return refuse(*answer.refusal);
    if (auto refusal = events_.admit(view)) {
      log_refusal(request.target, *refusal);
      return refuse(*refusal);
    }
    return upgrade(request, grant, answer, rest);
  }
  if (request.header("host").empty() && request.http_minor >= 1) {
    return refuse(Refusal{Reason::host, "missing Host header"});
  }
  if (request.method == "GET" && wants_event_stream(request.header("accept")) &&
      !is_http_route(room_path_of(request.target))) {
    return open_event_stream(request);
  }
  if (!events_.answers_http()) return move_to_http_loop(rest);
  busy_ = true;
  pending_.assign(rest);
  bool const keep_alive = request.keep_alive;
  events_.on_http(HttpRequestView{request.method, view, request.body},
                  [self = shared_from_this(), keep_alive](HttpAnswer const& a) {
                    self->answer(a.status, a.body, a.headers, keep_alive, a.content_type);
                  });
}

// GET of a room with Accept: text/event-stream: the same admission as a WebSocket
// handshake (Last-Event-ID read as ?since=), then a session whose frames go out as SSE.
void HttpConnection::open_event_stream(HttpRequest const& request) {
  Grant grant;
  std::string const resource = sse_resource(request.target, request.header("last-event-id"));
  HandshakeRequest const view{
      resource, peer_, [&request](std::string_view name) { return request.header(name); }, &grant};
  if (auto refusal = events_.admit(view)) {
    log_refusal(request.target, *refusal);
    return refuse(*refusal);
  }
  hand_over(Upgrade{nullptr, peer_, resource, grant, sse_response_head(), {}, true, false, false});
}

// Plain HTTP is answered on the first loop: the connection goes there with its request
// and what the client sent behind it, and stays there.
void HttpConnection::move_to_http_loop(std::string_view rest) {
  StreamHandoff stream = stream_->release();
  std::string pending(rest);
  done();
  if (stream.fd < 0) return;
  events_.on_http_elsewhere(std::move(stream), std::move(reader_.request()), std::move(pending));
}

void HttpConnection::log_refusal(std::string const& target, Refusal const& refusal) const {
  std::string const redacted = redact_token(target);
  log_event(spdlog::level::info, "handshake refused",
            {{"remote", std::string_view(peer_)},
             {"target", std::string_view(redacted)},
             {"status", std::int64_t{status_of(refusal.reason)}},
             {"reason", to_string(refusal.reason)}});
}

void HttpConnection::upgrade(HttpRequest const& request, Grant const& grant,
                             HandshakeAnswer& answer, std::string_view rest) {
  hand_over(Upgrade{nullptr, peer_, request.target, grant, std::move(answer.response),
                    std::string(rest), false, answer.deflate.has_value(),
                    answer.deflate && answer.deflate->compress});
}

// The stream itself goes to the session, on this same loop: no new socket object, no
// second registration with the loop's epoll set.
void HttpConnection::hand_over(Upgrade upgrade) {
  upgrade.stream = std::move(stream_);
  done();
  events_.on_upgrade(std::move(upgrade));
}

void HttpConnection::refuse(Refusal const& refusal) {
  events_.on_refused(refusal);
  HttpAnswer const a = http_answer(refusal);
  answer(a.status, a.body, a.headers, false);
}

void HttpConnection::answer(int status, std::string const& body,
                            std::vector<std::pair<std::string, std::string>> const& headers,
                            bool keep_alive, std::string_view content_type) {
  if (finished_) return;
  busy_ = true;
  close_after_write_ = !keep_alive;
  out_ = http_response(status, body, headers, keep_alive, content_type);
  if (head_only_) out_.resize(out_.size() - body.size());  // its Content-Length, no body
  out_at_ = 0;
  write();
}

void HttpConnection::write() {
  while (out_at_ < out_.size()) {
    std::string_view const rest = std::string_view(out_).substr(out_at_);
    ByteStream::Io const io = stream_->write_some(&rest, 1);
    if (io.blocked) {
      stream_->wait(io.want, [self = shared_from_this()](ByteStream::Ready ready) {
        if (ready == ByteStream::Ready::ready) return self->write();
        self->abort();
      });
      return;
    }
    if (io.closed) return abort();
    out_at_ += io.bytes;
  }
  if (close_after_write_) return abort();
  // Keep-alive: the next request, from what was already read and then the socket.
  busy_ = false;
  reader_.reset();
  arm_deadline();
  std::string const next = std::move(pending_);
  pending_.clear();
  if (!next.empty()) handle(next);
  if (!finished_ && !busy_) {
    asio::post(deadline_.get_executor(), [self = shared_from_this()] { self->on_readable(); });
  }
}

}  // namespace wspush
