// `wspush serve --config FILE`: the server's settings and rooms as JSON. Every field
// is optional; flags given on the command line override the file.
//
//   {"host": "0.0.0.0", "port": 5000, "interval": "1s", "history": 100,
//    "max_message_size": 65536, "send_buffer": 1048576, "api_key": "…",
//    "log_level": "info", "stdin": "/logs", "handshake_timeout": "5s",
//    "drain_timeout": "5s", "close_timeout": "5s",
//    "tls_cert": "/etc/wspush/cert.pem", "tls_key": "/etc/wspush/key.pem",
//    "broker": "redis://127.0.0.1:6379",
//    "rooms": [{"path": "/news", "kind": "feed", "history": 500,
//               "slow_consumer": "disconnect"},
//              {"path": "/chat/*", "kind": "relay"}]}
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/room.hpp"

namespace wspush {

struct ServeConfig {
  std::optional<std::string> host;
  std::optional<std::uint16_t> port;
  std::optional<std::string> interval;
  std::optional<std::size_t> history;
  std::optional<std::size_t> max_message_size;
  std::optional<std::size_t> send_buffer;
  std::optional<std::string> api_key;
  std::optional<std::string> log_level;
  std::optional<std::string> log_format;  // "auto", "text" or "json"
  std::optional<std::string> stdin_room;
  std::optional<std::string> handshake_timeout;  // durations as on the command line: "5s"
  std::optional<std::string> drain_timeout;
  std::optional<std::string> close_timeout;
  std::optional<std::size_t> max_connections;
  std::optional<std::size_t> max_connections_per_ip;
  std::optional<std::size_t> handshake_rate;
  std::optional<std::size_t> max_path_length;
  std::optional<std::size_t> max_rooms_per_family;
  std::optional<std::string> ping_interval;
  std::optional<std::string> pong_timeout;
  std::optional<std::string> idle_timeout;
  std::vector<std::string> allow_origin;
  std::optional<bool> public_metrics;
  std::optional<std::string> jwt_secret;
  std::optional<std::string> jwt_secret_file;
  std::optional<std::string> tls_cert;  // file names
  std::optional<std::string> tls_key;
  std::optional<std::string> broker;  // redis://[:PASSWORD@]HOST:PORT[/DB]
  std::vector<RoomSpec> rooms;
};

struct ConfigParse {
  std::optional<ServeConfig> config;
  std::string error;  // "line L, column C: reason", or "rooms[2].kind: reason"
};

ConfigParse parse_serve_config(std::string_view text);

}  // namespace wspush
