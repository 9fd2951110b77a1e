// The listener: accepts connections on every address the host resolves to, reads and
// answers their HTTP requests, runs the admission step on WebSocket handshakes, and
// hands each upgraded socket over (ListenerEvents::on_upgrade). websocketpp does this
// part (its HTTP parser and handshake processor), behind this pimpl; once a handshake
// completes the socket leaves it. Later: connection limits and TLS.
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
#include "server/http_routes.hpp"

namespace wspush {

class ListenerEvents {
 public:
  virtual ~ListenerEvents() = default;
  // The admission step of a WebSocket handshake: nullopt accepts it.
  virtual std::optional<Refusal> admit(HandshakeRequest const& request) = 0;
  // A plain HTTP request (no upgrade).
  virtual void on_http(HttpRequestView const& request, std::function<void(HttpAnswer)> done) = 0;
  // An accepted handshake: the socket `fd` (now the callee's) for `resource`. Returns
  // the new session's id.
  virtual std::uint64_t on_upgrade(int fd, bool v6, std::string const& resource) = 0;
  // A frame that arrived with the handshake, read before the socket was handed over.
  virtual void on_early_frame(std::uint64_t session, bool binary, std::string const& payload) = 0;
};

struct ListenerOptions {
  std::size_t max_message_size = 64 * 1024;  // also the largest HTTP body (413 beyond)
  Duration handshake_timeout = std::chrono::seconds(5);
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
  // Stops accepting; handshakes in flight finish or time out.
  void stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wspush
