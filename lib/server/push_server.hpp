// `wspush serve`: the room server. It wires the parts together: the Listener (accept,
// HTTP, handshakes), the admission step, the HttpRoutes, the Hub (the protocol, in
// lib/core) with its Broker, and one Shard per event loop carrying the sessions. It
// owns signals, `--stdin` and shutdown. No websocketpp in this header.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/duration.hpp"
#include "core/room.hpp"

namespace wspush {

struct ServeOptions {
  std::string host = "localhost";
  std::uint16_t port = 5000;
  std::vector<RoomSpec> rooms;  // empty: the reference's ticker room /nowtime
  Duration interval = std::chrono::seconds(1);
  std::size_t max_message_size = 64 * 1024;
  std::size_t send_buffer = 1024 * 1024;  // bytes queued per connection before the policy
  Duration handshake_timeout = std::chrono::seconds(5);  // the HTTP upgrade must finish in it
  Duration drain_timeout = std::chrono::seconds(5);      // SIGTERM: clients have this to go
  Duration close_timeout = std::chrono::seconds(5);      // wait for a client's close frame
  std::optional<std::size_t> history;  // per room unless its spec says; nullopt: by kind
  std::string api_key;                 // empty: the API answers loopback peers only
  std::string stdin_room;              // publish each stdin line here (serve --stdin)
  std::size_t threads = 1;             // event loops (shards) for the sessions
};

class PushServer {
 public:
  // Throws std::invalid_argument when the options contradict each other.
  explicit PushServer(ServeOptions const& options);
  ~PushServer();
  PushServer(PushServer const&) = delete;
  PushServer& operator=(PushServer const&) = delete;

  // Binds every address `host` resolves to (all on one port) and returns that port.
  // Throws std::runtime_error naming the address and the reason when none binds.
  std::uint16_t bind();

  // Serves on the calling thread until SIGINT or SIGTERM, then stops accepting,
  // closes every client with 1001 and returns once they are gone or the drain
  // timeout has passed.
  void run();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wspush
