// What `wspush serve` is told, in parts by who uses them: each part goes to the code that
// needs it and nothing else does. The defaults, flags, environment variables, config
// keys and help live in one table (cmd/serve_settings.cpp), not here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/duration.hpp"
#include "core/hub.hpp"
#include "core/room.hpp"

namespace wspush {

// Where the server listens (http/listen_sockets.hpp, stream/tls_context.hpp).
struct ListenSettings {
  std::string host;
  std::uint16_t port = 0;  // 0: a free one
  std::string tls_cert;    // PEM chain; with tls_key: TLS on the port
  std::string tls_key;
};

// How a loop turn's flush reaches the kernel: one sendmsg per member, or all of them in
// one io_uring submission (loop/send_ring.hpp).
enum class SendPath : std::uint8_t { sendmsg, io_uring };

// The event loops (loop/shard.hpp).
struct LoopSettings {
  std::size_t threads = 1;
  SendPath send_path = SendPath::sendmsg;
};

// What bounds one connection, from its first byte to its close (http/listener.hpp,
// ws/ws_session.hpp, loop/keepalive.hpp).
struct ConnectionLimits {
  std::size_t max_message_size = 0;      // also the largest HTTP body
  std::size_t send_buffer = 0;           // bytes queued before the slow-consumer policy applies
  Duration handshake_timeout{};          // the HTTP request or upgrade must finish in it
  Duration close_timeout{};              // wait for the client's close frame after ours
  Duration ping_interval{};              // ping a quiet peer this often; 0: never
  Duration pong_timeout{};               // then close 4009 unless it answers
  Duration idle_timeout{};               // close 4010 without messages; 0: never
  bool compression = true;               // permessage-deflate agreed when a client offers it
  std::size_t compression_min_size = 0;  // smaller messages go plain (echoes; the Hub's copy
                                         // for broadcasts: HubOptions)
};

// Who may connect, and to what (the admission step, push_server.cpp).
struct AdmissionSettings {
  std::size_t max_connections = 0;  // 0: no limit
  std::size_t max_connections_per_ip = 0;
  double handshake_rate = 0;  // a second, bursts of twice; 0: no limit
  std::size_t max_path_length = 0;
  std::vector<std::string> allow_origins;  // empty: any origin
  std::string jwt_secret;                  // non-empty: room handshakes need an HS256 token
  std::string api_key;                     // empty: the API answers loopback peers only
  bool public_metrics = false;             // /metrics for any peer, without the key
};

// What a power cut can take back (README "Durable history"): `always` fsyncs each
// commit before anything is acknowledged; `batch` fsyncs within 100 ms of a commit;
// `off` leaves it to the kernel. A killed process loses nothing in any mode.
enum class FsyncMode : std::uint8_t { always, batch, off };

// --data-dir: the rooms' seqs, epochs and history kept across restarts (disk/).
struct DataSettings {
  std::string dir;  // empty: in memory only
  FsyncMode fsync = FsyncMode::batch;
};

struct ServeSettings {
  ListenSettings listen;
  LoopSettings loops;
  ConnectionLimits connection;
  AdmissionSettings admission;
  HubOptions hub;
  std::vector<RoomSpec> rooms;
  std::optional<std::size_t> history;  // per room unless its spec says; nullopt: by kind
  Duration history_ttl{};              // per room unless its spec says; 0: by count only
  Duration idempotency_window{};       // a publish's key is remembered this long; 0: ignored
  std::string broker;                  // redis://…: rooms shared through Redis (SPEC §8)
  DataSettings data;
  std::string stdin_room;    // publish each stdin line here (serve --stdin)
  Duration drain_timeout{};  // SIGTERM: clients have this long to go
};

}  // namespace wspush
