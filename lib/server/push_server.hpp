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
  Duration ping_interval = std::chrono::seconds(25);     // ping quiet peers; 0: never
  Duration pong_timeout = std::chrono::seconds(10);      // close 4009 without an answer
  Duration idle_timeout = Duration::zero();              // close 4010 without messages; 0: off
  std::optional<std::size_t> history;  // per room unless its spec says; nullopt: by kind
  std::string api_key;                 // empty: the API answers loopback peers only
  bool public_metrics = false;         // /metrics for any peer, without the key
  std::string jwt_secret;              // non-empty: room handshakes need an HS256 token
  std::string tls_cert;                // PEM chain; with tls_key: TLS on the port
  std::string tls_key;
  std::vector<std::string> allow_origins;    // empty: any origin
  std::string stdin_room;                    // publish each stdin line here (serve --stdin)
  std::string broker;                        // redis://…: rooms shared through Redis (SPEC §8)
  std::size_t threads = 1;                   // event loops (shards) for the sessions
  bool io_uring = true;                      // --send-path: a flush in one submission
  std::size_t max_connections = 100000;      // sessions in all; 0: no limit
  std::size_t max_connections_per_ip = 0;    // sessions per peer address; 0: no limit
  double handshake_rate = 5000;              // handshakes a second, bursts of twice; 0: none
  std::size_t max_path_length = 1024;        // bytes of a room path (414 beyond)
  std::size_t max_rooms_per_family = 10000;  // live rooms under one "/x/*" (503 beyond)
};

class PushServer {
 public:
  // Throws std::invalid_argument when the options contradict each other, and
  // std::runtime_error when the TLS certificate or key does not load.
  explicit PushServer(ServeOptions const& options);
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
