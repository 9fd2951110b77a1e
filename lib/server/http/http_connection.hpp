// One accepted connection while it speaks HTTP: it reads requests (HttpRequestReader),
// answers plain ones through the routes (keep-alive allowed), and for a WebSocket
// handshake runs the RFC's checks and the admission step, then hands the socket over
// with the 101 and whatever the client sent after its request. Closed when its
// request does not complete within the handshake timeout (slow or silent clients).
//
// Threading: its listener's loop's thread only.
#pragma once

#include <asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <string>

#include "http/handshake.hpp"
#include "http/http_request.hpp"
#include "server/http/listener.hpp"
#include "server/stream/byte_stream.hpp"

namespace wspush {

class HttpConnection final : public std::enable_shared_from_this<HttpConnection> {
 public:
  // `peer`: the client's address as text (connection limits, logs).
  HttpConnection(asio::io_context& io, std::unique_ptr<ByteStream> stream, std::string peer,
                 ListenerEvents& events, ConnectionLimits const& limits,
                 std::function<void(HttpConnection*)> on_done);
  // Reads what is there, and goes on by itself from there until finished() (handed
  // over, or answered and closed).
  void start();
  // Goes on from a request another loop read (Listener::resume_http), then as start().
  void resume(HttpRequest request, std::string_view rest);
  bool finished() const { return finished_; }
  // Closes at once (shutdown, handshake timeout).
  void abort();

 private:
  void arm_deadline();
  void arm_if_waiting();  // after the first read: a connection still open needs its deadline
  void wait(ByteStream::Want want);
  void on_readable();
  void handle(std::string_view data);
  void on_request(std::string_view rest);
  void upgrade(HttpRequest const& request, Grant const& grant, HandshakeAnswer& answer,
               std::string_view rest);
  void open_event_stream(HttpRequest const& request);
  void hand_over(Upgrade upgrade);
  void move_to_http_loop(std::string_view rest);
  void log_refusal(std::string const& target, Refusal const& refusal) const;
  void answer(int status, std::string const& body,
              std::vector<std::pair<std::string, std::string>> const& headers, bool keep_alive,
              std::string_view content_type = "application/json");
  void refuse(Refusal const& refusal);
  void write();
  void done();

  std::unique_ptr<ByteStream> stream_;
  ListenerEvents& events_;
  ConnectionLimits const& limits_;
  std::function<void(HttpConnection*)> on_done_;
  HttpRequestReader reader_;
  asio::steady_timer deadline_;
  std::string peer_;
  std::string out_;  // response bytes not yet written
  std::size_t out_at_ = 0;
  std::string pending_;  // bytes of the next request read with this one
  bool close_after_write_ = false;
  bool busy_ = false;  // a request is being answered: read no further
  bool finished_ = false;
  bool head_only_ = false;  // the request is HEAD: answers carry headers only
  bool deadline_armed_ = false;
};

}  // namespace wspush
