// `wspush serve`: the room server.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iostream>
#include <sstream>

#include "commands.hpp"
#include "common/codec.hpp"
#include "options.hpp"
#include "process/cpu_budget.hpp"
#include "process/log.hpp"
#include "server/push_server.hpp"
#include "settings/config_file.hpp"

namespace wspush::cmd {
namespace {

struct ServeFlags {
  ServeOptions server;
  std::vector<std::string> rooms;
  std::string interval = "1s";
  std::string handshake_timeout = "5s";
  std::string drain_timeout = "5s";
  std::string close_timeout = "5s";
  std::string ping_interval = "25s";
  std::string pong_timeout = "10s";
  std::string idle_timeout = "0s";
  std::string log_level = "info";
  std::string log_format = "auto";
  std::string send_path = "io_uring";
  std::size_t history = 0;
  std::string config_file;
  std::string jwt_secret_file;
  CpuBudget cpus;           // the default --threads
  CLI::App* app = nullptr;  // to ask which flags were given (they override the file)
};

// A secret from a file (one line; trailing white space is not part of it).
std::string read_secret(std::string const& file, std::string& secret) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return "cannot read the file";
  std::stringstream text;
  text << in.rdbuf();
  secret = text.str();
  while (!secret.empty() && std::isspace(static_cast<unsigned char>(secret.back()))) {
    secret.pop_back();
  }
  if (secret.empty()) return "the file is empty";
  return {};
}

// On a terminal: where to connect, in a few lines (not in logs, not when piped).
void print_banner(ServeOptions const& options, std::uint16_t port) {
  bool const tls = !options.tls_cert.empty();
  std::string const host =
      options.host.find(':') != std::string::npos ? "[" + options.host + "]" : options.host;
  std::string const base = host + ":" + std::to_string(port);
  std::string const ws = (tls ? "wss://" : "ws://") + base;
  std::string const http = (tls ? "https://" : "http://") + base;
  std::vector<RoomSpec> rooms = options.rooms;
  if (rooms.empty()) rooms.push_back(RoomSpec{"/nowtime", RoomKind::ticker, false, {}, {}});
  std::cerr << "wspush serve on " << http << "\n";
  std::string first_feed;
  for (RoomSpec const& room : rooms) {
    std::string const path = room.path + (room.family ? "*" : "");
    std::cerr << "  room  " << ws << path << "  (" << to_string(room.kind)
              << (room.family ? " family" : "") << ")";
    // A family's members have pages of their own; the family itself has none.
    if (!room.family) std::cerr << "  page " << http << room.path;
    std::cerr << "\n";
    if (first_feed.empty() && !room.family && room.kind != RoomKind::ticker &&
        room.kind != RoomKind::echo) {
      first_feed = room.path;
    }
  }
  // A room to try: the first, or a member of the first family.
  std::string const example = rooms.front().path + (rooms.front().family ? "x" : "");
  std::cerr << "  page  " << http << "/  (the rooms, in a browser)\n";
  std::cerr << "  API   " << http
            << "/api/publish?room=" << (first_feed.empty() ? "/ROOM" : first_feed)
            << (options.api_key.empty() ? "  (loopback peers only)" : "  (Bearer API key)")
            << "\n  also  " << http << "/api/rooms  /healthz  /readyz  /metrics\n"
            << "  try   wspush client " << ws << example << " | jq .data\n"
            << "  or    curl -N " << http << example << "\n";
}

// Settings from --config, under the flags that were given on the command line.
std::string apply_config(ServeFlags& flags, ServeOptions& options) {
  std::ifstream in(flags.config_file, std::ios::binary);
  if (!in) return "--config " + flags.config_file + ": cannot read the file";
  std::stringstream text;
  text << in.rdbuf();
  ConfigParse const parsed = parse_serve_config(text.str());
  if (!parsed.config) return "--config " + flags.config_file + ": " + parsed.error;
  ServeConfig const& c = *parsed.config;
  auto const given = [&flags](const char* flag) { return flags.app->count(flag) > 0; };
  if (c.host && !given("--host")) options.host = *c.host;
  if (c.port && !given("--port")) options.port = *c.port;
  if (c.interval && !given("--interval")) flags.interval = *c.interval;
  if (c.history && !given("--history")) options.history = *c.history;
  if (c.max_message_size && !given("--max-message-size")) {
    options.max_message_size = *c.max_message_size;
  }
  if (c.send_buffer && !given("--send-buffer")) options.send_buffer = *c.send_buffer;
  if (c.api_key && !given("--api-key")) options.api_key = *c.api_key;
  if (c.public_metrics && !given("--public-metrics")) options.public_metrics = *c.public_metrics;
  if (!given("--jwt-secret") && !given("--jwt-secret-file")) {
    if (c.jwt_secret) options.jwt_secret = *c.jwt_secret;
    if (c.jwt_secret_file) flags.jwt_secret_file = *c.jwt_secret_file;
  }
  if (c.log_level && !given("--log-level")) flags.log_level = *c.log_level;
  if (c.log_format && !given("--log-format")) flags.log_format = *c.log_format;
  if (c.stdin_room && !given("--stdin")) options.stdin_room = *c.stdin_room;
  if (c.broker && !given("--broker")) options.broker = *c.broker;
  if (!c.allow_origin.empty() && !given("--allow-origin")) options.allow_origins = c.allow_origin;
  if (c.handshake_timeout && !given("--handshake-timeout")) {
    flags.handshake_timeout = *c.handshake_timeout;
  }
  if (c.drain_timeout && !given("--drain-timeout")) flags.drain_timeout = *c.drain_timeout;
  if (c.close_timeout && !given("--close-timeout")) flags.close_timeout = *c.close_timeout;
  if (c.max_connections && !given("--max-connections")) {
    options.max_connections = *c.max_connections;
  }
  if (c.max_connections_per_ip && !given("--max-connections-per-ip")) {
    options.max_connections_per_ip = *c.max_connections_per_ip;
  }
  if (c.handshake_rate && !given("--handshake-rate")) {
    options.handshake_rate = static_cast<double>(*c.handshake_rate);
  }
  if (c.max_path_length && !given("--max-path-length")) {
    options.max_path_length = *c.max_path_length;
  }
  if (c.max_rooms_per_family && !given("--max-rooms-per-family")) {
    options.max_rooms_per_family = *c.max_rooms_per_family;
  }
  if (c.ping_interval && !given("--ping-interval")) flags.ping_interval = *c.ping_interval;
  if (c.pong_timeout && !given("--pong-timeout")) flags.pong_timeout = *c.pong_timeout;
  if (c.idle_timeout && !given("--idle-timeout")) flags.idle_timeout = *c.idle_timeout;
  if (c.tls_cert && !given("--tls-cert")) options.tls_cert = *c.tls_cert;
  if (c.tls_key && !given("--tls-key")) options.tls_key = *c.tls_key;
  options.rooms = c.rooms;
  return {};
}

int run_serve(ServeFlags& flags) {
  ServeOptions options = flags.server;
  if (flags.app->count("--history")) options.history = flags.history;
  if (!flags.config_file.empty()) {
    if (std::string const error = apply_config(flags, options); !error.empty()) {
      return usage_error("serve: " + error);
    }
  }
  if (!flags.jwt_secret_file.empty()) {
    if (!options.jwt_secret.empty()) {
      return usage_error("serve: --jwt-secret and --jwt-secret-file exclude each other");
    }
    if (std::string const error = read_secret(flags.jwt_secret_file, options.jwt_secret);
        !error.empty()) {
      return usage_error("serve: --jwt-secret-file " + flags.jwt_secret_file + ": " + error);
    }
  }
  if (std::find(std::begin(kLogLevels), std::end(kLogLevels), flags.log_level) ==
      std::end(kLogLevels)) {
    return usage_error("serve: unknown log level '" + flags.log_level + "'");
  }
  std::optional<LogFormat> const format = log_format_of(flags.log_format);
  if (!format) return usage_error("serve: unknown log format '" + flags.log_format + "'");
  init_logging(flags.log_level, *format);
  options.io_uring = flags.send_path == "io_uring";
  if (flags.app->count("--threads") == 0) {
    spdlog::info("{} event loop(s): one per CPU this process may use ({})", options.threads,
                 flags.cpus.describe());
  }
  // A --room flag replaces the file's room of the same path; two flags for one path
  // stay an error (the registry refuses them).
  std::vector<RoomSpec> from_flags;
  for (std::string const& text : flags.rooms) {
    RoomSpecParse parsed = parse_room_spec(text);
    if (!parsed.spec) return usage_error("--room: " + parsed.error);
    from_flags.push_back(std::move(*parsed.spec));
  }
  auto& rooms = options.rooms;
  rooms.erase(std::remove_if(rooms.begin(), rooms.end(),
                             [&](RoomSpec const& file_room) {
                               return std::any_of(from_flags.begin(), from_flags.end(),
                                                  [&](RoomSpec const& flag_room) {
                                                    return flag_room.path == file_room.path &&
                                                           flag_room.family == file_room.family;
                                                  });
                             }),
              rooms.end());
  rooms.insert(rooms.end(), from_flags.begin(), from_flags.end());
  // Checked here, not by a flag validator: the value may come from the config file.
  struct DurationSetting {
    const char* flag;
    std::string const& text;
    Duration minimum;
    Duration& into;
  };
  for (DurationSetting const& d :
       {DurationSetting{"--interval", flags.interval, std::chrono::milliseconds(1),
                        options.interval},
        DurationSetting{"--handshake-timeout", flags.handshake_timeout,
                        std::chrono::milliseconds(1), options.handshake_timeout},
        DurationSetting{"--drain-timeout", flags.drain_timeout, Duration::zero(),
                        options.drain_timeout},
        DurationSetting{"--close-timeout", flags.close_timeout, std::chrono::milliseconds(1),
                        options.close_timeout},
        DurationSetting{"--ping-interval", flags.ping_interval, Duration::zero(),
                        options.ping_interval},
        DurationSetting{"--pong-timeout", flags.pong_timeout, std::chrono::milliseconds(1),
                        options.pong_timeout},
        DurationSetting{"--idle-timeout", flags.idle_timeout, Duration::zero(),
                        options.idle_timeout}}) {
    if (auto const error = check_duration(d.text, d.minimum); !error.empty()) {
      return usage_error(std::string(d.flag) + ": " + error);
    }
    d.into = *duration_of(d.text);
  }

  try {
    PushServer server(options);  // std::invalid_argument reaches main: a usage error
    std::uint16_t const port = server.bind();
    std::cout << encode_listening(options.host, port) << std::endl;  // flushed: a readiness signal
    if (isatty(STDERR_FILENO)) print_banner(options, port);
    server.run();
  } catch (std::runtime_error const& e) {
    std::cerr << "wspush serve: " << e.what() << '\n';
    return kExitFailure;
  }
  spdlog::info("stopped");
  return kExitOk;
}

}  // namespace

Command serve_command() {
  return {"serve", "Run the WebSocket push server", [](CLI::App& app) {
            auto flags = std::make_shared<ServeFlags>();
            flags->app = &app;
            app.add_option("--config", flags->config_file,
                           "JSON file with settings and rooms; flags override it")
                ->type_name("FILE");
            app.add_option("--host", flags->server.host, "Address or name to listen on")
                ->capture_default_str();
            app.add_option("--port", flags->server.port, "TCP port; 0 picks a free one")
                ->capture_default_str();
            app.add_option("--room", flags->rooms,
                           "Room PATH[:KIND], repeatable; KIND is ticker, relay, echo or feed "
                           "(default feed); PATH/* declares a family. Default: /nowtime:ticker")
                ->type_name("PATH[:KIND]");
            app.add_option("--interval", flags->interval, "Ticker interval (200ms, 1s, 1.5s, 2m)")
                ->capture_default_str();
            app.add_option("--handshake-timeout", flags->handshake_timeout,
                           "A connection must finish its HTTP request or WebSocket upgrade "
                           "within this")
                ->capture_default_str();
            app.add_option("--drain-timeout", flags->drain_timeout,
                           "On SIGINT/SIGTERM, how long clients have to close before the "
                           "server exits anyway")
                ->capture_default_str();
            app.add_option("--close-timeout", flags->close_timeout,
                           "How long the server waits for a client's close frame after its own")
                ->capture_default_str();
            app.add_option("--ping-interval", flags->ping_interval,
                           "Ping a connection that has been quiet this long (0s: never)")
                ->capture_default_str();
            app.add_option("--pong-timeout", flags->pong_timeout,
                           "Close with 4009 a connection that does not answer a ping in this")
                ->capture_default_str();
            app.add_option("--idle-timeout", flags->idle_timeout,
                           "Close with 4010 a connection that sends no message in this (0s: "
                           "never)")
                ->capture_default_str();
            app.add_option("--max-connections", flags->server.max_connections,
                           "WebSocket connections in all; beyond: 503 + Retry-After (0: no limit)")
                ->capture_default_str();
            app.add_option("--max-connections-per-ip", flags->server.max_connections_per_ip,
                           "Connections from one address; beyond: 503 + Retry-After (0: no limit)")
                ->capture_default_str();
            app.add_option("--handshake-rate", flags->server.handshake_rate,
                           "WebSocket handshakes a second, in bursts of up to twice that; "
                           "beyond: 503 + Retry-After (0: no limit)")
                ->check(CLI::NonNegativeNumber)
                ->capture_default_str();
            app.add_option("--max-path-length", flags->server.max_path_length,
                           "Longest room path in bytes; longer: 414")
                ->check(CLI::Range(1, 65536))
                ->capture_default_str();
            app.add_option("--max-rooms-per-family", flags->server.max_rooms_per_family,
                           "Live rooms one family (/x/*) may hold; beyond: 503 (0: no limit)")
                ->capture_default_str();
            app.add_option("--history", flags->history,
                           "Messages each room keeps for ?since= (default: 100 in feed and "
                           "relay rooms, 0 in ticker and echo rooms)")
                ->type_name("N");
            app.add_option("--max-message-size", flags->server.max_message_size,
                           "Largest client message or published body in bytes; larger: close "
                           "1009 or HTTP 413")
                ->transform(size_check(1, std::uint64_t{1} << 30))
                ->capture_default_str();
            app.add_option("--send-buffer", flags->server.send_buffer,
                           "Bytes queued per connection before its room's slow-consumer "
                           "policy applies (disconnect: close 4008; latest: keep the newest)")
                ->transform(size_check(1, std::uint64_t{1} << 30))
                ->capture_default_str();
            flags->cpus = read_cpu_budget();
            flags->server.threads = flags->cpus.loops();
            app.add_option("--threads", flags->server.threads,
                           "Event loops, each accepting on the port and keeping the sessions "
                           "that come to it (default: one per CPU this process may use: its "
                           "affinity mask and cgroup quota)")
                ->check(CLI::Range(1, 256))
                ->type_name("N");
            app.add_option("--send-path", flags->send_path,
                           "How a loop turn's sends reach the kernel: io_uring (all in one "
                           "submission; sendmsg where the kernel refuses it) or sendmsg (one "
                           "call per connection)")
                ->check(CLI::IsMember({"sendmsg", "io_uring"}))
                ->capture_default_str();
            app.add_option("--api-key", flags->server.api_key,
                           "Require 'Authorization: Bearer KEY' on the API (default: the API "
                           "answers loopback peers only)")
                ->type_name("KEY");
            auto* secret = app.add_option("--jwt-secret", flags->server.jwt_secret,
                                          "Room handshakes need an HS256 token signed with "
                                          "this (Bearer header or ?token=): 401/403 otherwise")
                               ->type_name("SECRET");
            app.add_option("--jwt-secret-file", flags->jwt_secret_file,
                           "Read --jwt-secret from FILE (keeps it out of ps and the shell history)")
                ->type_name("FILE")
                ->excludes(secret);
            app.add_option("--tls-cert", flags->server.tls_cert,
                           "PEM certificate chain: the port speaks TLS (wss://, https://); "
                           "SIGHUP reloads it")
                ->type_name("FILE");
            app.add_option("--tls-key", flags->server.tls_key, "PEM private key of --tls-cert")
                ->type_name("FILE");
            app.add_flag("--public-metrics", flags->server.public_metrics,
                         "/metrics answers any peer (default: as the API, loopback peers or "
                         "the API key)");
            app.add_option("--allow-origin", flags->server.allow_origins,
                           "Browsers' Origin allowed to connect (repeatable): an exact origin "
                           "or *.example.com; others get 403. Default: any")
                ->type_name("ORIGIN");
            app.add_option("--broker", flags->server.broker,
                           "Share the rooms with other nodes through Redis: "
                           "redis://[:PASSWORD@]HOST:PORT[/DB] (default: this process only)")
                ->type_name("URL");
            app.add_option("--stdin", flags->server.stdin_room,
                           "Publish each line of stdin into this room")
                ->type_name("ROOM");
            app.add_option("--log-level", flags->log_level, "Log level on stderr")
                ->check(CLI::IsMember(
                    std::vector<std::string>(std::begin(kLogLevels), std::end(kLogLevels))))
                ->capture_default_str();
            app.add_option("--log-format", flags->log_format,
                           "Log lines as text or JSON (auto: text on a terminal, JSON otherwise)")
                ->check(CLI::IsMember(
                    std::vector<std::string>(std::begin(kLogFormats), std::end(kLogFormats))))
                ->capture_default_str();
            return [flags] { return run_serve(*flags); };
          }};
}

}  // namespace wspush::cmd
