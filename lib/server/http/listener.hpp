// A loop's listener: accepts connections on the listening sockets it was given (one per
// address the host resolves to; listen_sockets.hpp) and runs one HttpConnection per
// connection (over TLS with a TlsContext) until it is a WebSocket or an event stream
// (handed over, with the 101 and every byte read past the handshake, to
// ListenerEvents::on_upgrade: a session on this same loop) or its HTTP requests are
// answered. Plain HTTP requests are answered by the first loop's listener only (the
// routes, the broker's answers and /healthz live there): another loop hands such a
// connection over to it. When the process runs out of descriptors, accepting backs off
// instead of spinning.
//
// Threading: its loop's thread only (made and started before the loop runs).
#pragma once

#include <asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/duration.hpp"
#include "http/http_request.hpp"
#include "server/http/http_routes.hpp"
#include "server/settings.hpp"
#include "server/stream/byte_stream.hpp"
#include "server/stream/tls_context.hpp"
#include "server/ws/upgrade.hpp"

namespace wspush {

class ListenerEvents {
 public:
  virtual ~ListenerEvents() = default;
  // The admission step of a WebSocket handshake that passed the RFC's checks: nullopt
  // accepts it.
  virtual std::optional<Refusal> admit(HandshakeRequest const& request) = 0;
  // A plain HTTP request (no upgrade), on a loop that answers them.
  virtual void on_http(HttpRequestView const& request, std::function<void(HttpAnswer)> done) = 0;
  // Whether this loop answers plain HTTP requests; if not, on_http_elsewhere gets the
  // connection, its request and the bytes read behind it, for the loop that does.
  virtual bool answers_http() const = 0;
  virtual void on_http_elsewhere(StreamHandoff stream, HttpRequest request, std::string rest) = 0;
  // An accepted handshake: the connection, now the callee's, on this same loop.
  virtual void on_upgrade(Upgrade upgrade) = 0;
  // A connection was refused before it became a session (metrics).
  virtual void on_refused(Refusal const& refusal) = 0;
};

class Listener {
 public:
  // Takes over `sockets` (listening, non-blocking; closed with the listener). `limits`:
  // the largest body (413 beyond) and the handshake timeout. `tls` null: plain TCP.
  Listener(asio::io_context& io, std::vector<int> sockets, ConnectionLimits const& limits,
           TlsContext const* tls, ListenerEvents& events);
  ~Listener();
  Listener(Listener const&) = delete;
  Listener& operator=(Listener const&) = delete;

  // Throws std::system_error when the loop's epoll set will not take a socket.
  void start();
  // Carries on with a connection another loop's listener read `request` from (its
  // on_http_elsewhere): answers it, then reads what follows `rest` as usual.
  void resume_http(StreamHandoff stream, HttpRequest request, std::string rest);
  // Stops accepting and closes every connection not yet handed over.
  void stop();
  // Drops every connection still in its request (handshakes in flight) but keeps
  // accepting, so that /readyz can say 503 while the server drains.
  void drop_handshakes();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wspush
