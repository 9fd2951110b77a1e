// `wspush serve`: the room server. It wires the parts together: the listening sockets
// and a Listener on every loop (accept, HTTP, handshakes), the admission step, the
// HttpRoutes, the Hub (the protocol, in lib/core) with its Broker, and one Shard per
// event loop carrying the sessions. It owns signals, `--stdin` and shutdown. No
// websocketpp in this header.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "server/settings.hpp"

namespace wspush {

class PushServer {
 public:
  // Throws std::invalid_argument when the options contradict each other, and
  // std::runtime_error when the TLS certificate or key does not load.
  explicit PushServer(ServeSettings const& settings);
  ~PushServer();
  PushServer(PushServer const&) = delete;
  PushServer& operator=(PushServer const&) = delete;

  // Binds every address `host` resolves to (all on one port) and returns that port.
  // Throws std::runtime_error naming the address and the reason when none binds.
  std::uint16_t bind();

  // Serves on the calling thread until SIGINT or SIGTERM (SIGHUP reloads the TLS
  // certificate and key), then stops accepting,
  // closes every client with 1001 and returns once they are gone or the drain
  // timeout has passed.
  void run();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wspush
