// The listener: accepts connections on every address the host resolves to and runs
// one HttpConnection per connection (over TLS with a TlsContext) until it is a
// WebSocket (handed over, with the 101 and every byte read past the handshake, to
// ListenerEvents::on_upgrade) or its HTTP requests are answered. When the process runs out of
// descriptors, accepting backs off instead of spinning.
//
// Threading: the io_context's thread (the first loop) only.
#pragma once

#include <asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/duration.hpp"
#include "server/byte_stream.hpp"
#include "server/http_routes.hpp"
#include "server/tls_context.hpp"

namespace wspush {

class ListenerEvents {
 public:
  virtual ~ListenerEvents() = default;
  // The admission step of a WebSocket handshake that passed the RFC's checks: nullopt
  // accepts it.
  virtual std::optional<Refusal> admit(HandshakeRequest const& request) = 0;
  // A plain HTTP request (no upgrade).
  virtual void on_http(HttpRequestView const& request, std::function<void(HttpAnswer)> done) = 0;
  // An accepted handshake: the connection (now the callee's) for `resource`, what the
  // admission step granted it, the 101 response still to send, and the bytes the
  // client sent after its request.
  virtual void on_upgrade(StreamHandoff stream, std::string const& peer,
                          std::string const& resource, Grant const& grant, std::string response,
                          std::string early) = 0;
  // A connection was refused before it became a session (metrics).
  virtual void on_refused(Refusal const& refusal) = 0;
};

struct ListenerOptions {
  std::size_t max_message_size = 64 * 1024;  // also the largest HTTP body (413 beyond)
  Duration handshake_timeout = std::chrono::seconds(5);
  TlsContext const* tls = nullptr;  // null: plain TCP
};

class Listener {
 public:
  Listener(asio::io_context& io, ListenerOptions const& options, ListenerEvents& events);
  ~Listener();
  Listener(Listener const&) = delete;
  Listener& operator=(Listener const&) = delete;

  // Binds every address `host` resolves to, all on one port, and returns that port.
  // Throws std::runtime_error naming the address and the reason when none binds.
  std::uint16_t bind(std::string const& host, std::uint16_t port);
  void start();
  // Stops accepting and closes every connection not yet handed over.
  void stop();
  // Drops every connection still in its request (handshakes in flight) but keeps
  // accepting, so that /readyz can say 503 while the server drains.
  void drain();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wspush
