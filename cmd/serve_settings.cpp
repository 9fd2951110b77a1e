// `wspush serve`'s settings: the one place each is declared (settings/settings.hpp).
#include "serve_settings.hpp"

#include <algorithm>

#include "process/log.hpp"

namespace wspush::cmd {
namespace {

using S = ServeCommandSettings;
namespace v = setting_value;

constexpr std::uint64_t kGiB = std::uint64_t{1} << 30;

template <typename Part, typename T>
auto server(Part ServeSettings::*part, T Part::*member) {
  return [part, member](S& s) -> T& { return (s.server.*part).*member; };
}
template <typename T>
auto server(T ServeSettings::*member) {
  return [member](S& s) -> T& { return s.server.*member; };
}

ValueParser<std::size_t> size(std::uint64_t minimum, std::uint64_t maximum) {
  return v::mapped<std::size_t, std::uint64_t>(
      v::size(minimum, maximum), [](std::uint64_t n) { return static_cast<std::size_t>(n); });
}

ValueParser<RoomSpec> room() {
  return [](SettingValue const& value, RoomSpec& out) -> std::string {
    RoomSpecParse parsed = parse_room_spec(value.text);
    if (!parsed.spec) return parsed.error;
    out = std::move(*parsed.spec);
    return {};
  };
}

// A stronger source's room replaces a weaker one's of the same path; two of one source
// stay (the registry refuses them: "declared twice").
void merge_rooms(S& s, std::size_t first) {
  auto& rooms = s.server.rooms;
  auto const stronger = rooms.begin() + static_cast<std::ptrdiff_t>(first);
  auto const replaced = [&](RoomSpec const& weaker) {
    return std::any_of(stronger, rooms.end(), [&](RoomSpec const& r) {
      return r.path == weaker.path && r.family == weaker.family;
    });
  };
  rooms.erase(std::remove_if(rooms.begin(), stronger, replaced), stronger);
}

std::vector<std::string> names_of(char const* const* names, std::size_t count) {
  return std::vector<std::string>(names, names + count);
}

}  // namespace

SettingsTable<ServeCommandSettings> serve_settings(CpuBudget const& cpus) {
  SettingsTable<S> t;
  t.add("config", &S::config_file, v::text())
      .value_name("FILE")
      .not_in_config_file()
      .help(
          "JSON file of settings and rooms (keys: the flags with '_'); flags and the "
          "environment override it");
  t.add("host", server(&ServeSettings::listen, &ListenSettings::host), v::text())
      .value_name("HOST")
      .default_value("localhost")
      .help("Address or name to listen on");
  t.add("port", server(&ServeSettings::listen, &ListenSettings::port),
        v::whole_as<std::uint16_t>(0, 65535))
      .value_name("PORT")
      .default_value("5000")
      .help("TCP port; 0 picks a free one");
  t.add("room", server(&ServeSettings::rooms), room())
      .value_name("PATH[:KIND][,OPTION]")
      .default_value("/nowtime:ticker")
      .config_key("rooms")
      .combine_sources(merge_rooms)
      .help(
          "Room, repeatable; KIND is ticker, relay, echo or feed (default feed); PATH/* "
          "declares a family; options history=N, history_ttl=DURATION, "
          "slow_consumer=disconnect|latest. A room of "
          "the file is replaced by a flag's of the same path");
  t.add("interval", server(&ServeSettings::hub, &HubOptions::tick_interval),
        v::duration(std::chrono::milliseconds(1)))
      .value_name("DURATION")
      .default_value("1s")
      .help("Ticker interval (200ms, 1s, 1.5s, 2m)");
  t.add("history", server(&ServeSettings::history), v::whole_as<std::size_t>(0, 1000000))
      .value_name("N")
      .help(
          "Messages each room keeps for ?since= (default: 100 in feed and relay rooms, 0 in "
          "ticker and echo rooms)");
  t.add("history-ttl", server(&ServeSettings::history_ttl), v::duration(Duration::zero()))
      .value_name("DURATION")
      .default_value("0s")
      .help(
          "Messages older than this leave each room's history, in memory, the data dir and "
          "Redis, within a second (per room: history_ttl=; 0s: kept by count only)");
  t.add("max-message-size", server(&ServeSettings::connection, &ConnectionLimits::max_message_size),
        size(1, kGiB))
      .value_name("SIZE")
      .default_value("64KiB")
      .help("Largest client message or published body; larger: close 1009 or HTTP 413");
  t.add("send-buffer", server(&ServeSettings::connection, &ConnectionLimits::send_buffer),
        size(1, kGiB))
      .value_name("SIZE")
      .default_value("1MiB")
      .help(
          "Bytes queued per connection before its room's slow-consumer policy applies "
          "(disconnect: close 4008; latest: keep the newest)");
  t.add("threads", server(&ServeSettings::loops, &LoopSettings::threads),
        v::whole_as<std::size_t>(1, 256))
      .value_name("N")
      .default_value(std::to_string(cpus.loops()))
      .help(
          "Event loops, each accepting on the port and keeping the sessions that come to it "
          "(default: one per CPU this process may use: its affinity mask and cgroup quota)");
  t.add("send-path", server(&ServeSettings::loops, &LoopSettings::send_path),
        v::mapped<SendPath, std::string>(v::one_of({"sendmsg", "io_uring"}),
                                         [](std::string const& s) {
                                           return s == "io_uring" ? SendPath::io_uring
                                                                  : SendPath::sendmsg;
                                         }))
      .value_name("{io_uring,sendmsg}")
      .default_value("io_uring")
      .choices({"io_uring", "sendmsg"})
      .help(
          "How a loop turn's sends reach the kernel: io_uring (all in one submission; "
          "sendmsg where the kernel refuses it) or sendmsg (one call per connection)");
  t.add("api-key", server(&ServeSettings::admission, &AdmissionSettings::api_key), v::text())
      .value_name("KEY")
      .help(
          "Require 'Authorization: Bearer KEY' on the API (default: the API answers loopback "
          "peers only)");
  t.add("public-metrics", server(&ServeSettings::admission, &AdmissionSettings::public_metrics),
        v::boolean())
      .help("/metrics answers any peer (default: as the API, loopback peers or the API key)");
  t.add("jwt-secret", server(&ServeSettings::admission, &AdmissionSettings::jwt_secret), v::text())
      .value_name("SECRET")
      .help(
          "Room handshakes need an HS256 token signed with this (Bearer header or ?token=): "
          "401/403 otherwise");
  t.add("jwt-secret-file", &S::jwt_secret_file, v::text())
      .value_name("FILE")
      .help("Read --jwt-secret from FILE (keeps it out of ps and the shell history)");
  t.add("tls-cert", server(&ServeSettings::listen, &ListenSettings::tls_cert), v::text())
      .value_name("FILE")
      .help("PEM certificate chain: the port speaks TLS (wss://, https://); SIGHUP reloads it");
  t.add("tls-key", server(&ServeSettings::listen, &ListenSettings::tls_key), v::text())
      .value_name("FILE")
      .help("PEM private key of --tls-cert");
  t.add("allow-origin", server(&ServeSettings::admission, &AdmissionSettings::allow_origins),
        v::text())
      .value_name("ORIGIN")
      .help(
          "Browsers' Origin allowed to connect (repeatable): an exact origin or "
          "*.example.com; others get 403. Default: any");
  t.add("broker", server(&ServeSettings::broker), v::text())
      .value_name("URL")
      .help(
          "Share the rooms with other nodes through Redis: redis://[:PASSWORD@]HOST:PORT[/DB], "
          "or the primary Sentinel names: redis-sentinel://[:PASSWORD@]H:P[,H:P…]/MASTER[/DB]; "
          "?wait=N: acknowledged once N replicas have it (default: this process only)");
  t.add("idempotency-window", server(&ServeSettings::idempotency_window),
        v::duration(Duration::zero()))
      .value_name("DURATION")
      .default_value("5m")
      .help(
          "A publish whose Idempotency-Key (or keyed stream frame's idempotency_key) was seen "
          "in its room this recently publishes nothing and answers the first one's seq (0s: "
          "keys ignored)");
  t.add("data-dir", server(&ServeSettings::data, &DataSettings::dir), v::text())
      .value_name("DIR")
      .help(
          "Keep every room's seq, epoch and history in DIR (LMDB), so that a restart keeps "
          "them and clients resume with recovered:true (default: in memory)");
  t.add("fsync", server(&ServeSettings::data, &DataSettings::fsync),
        v::mapped<FsyncMode, std::string>(v::one_of({"always", "batch", "off"}),
                                          [](std::string const& s) {
                                            return s == "always" ? FsyncMode::always
                                                   : s == "off"  ? FsyncMode::off
                                                                 : FsyncMode::batch;
                                          }))
      .value_name("{always,batch,off}")
      .default_value("batch")
      .choices({"always", "batch", "off"})
      .help(
          "With --data-dir, when history reaches the disk: before each publish is "
          "acknowledged (always), within 100ms (batch) or when the kernel writes it (off)");
  t.add("stdin", server(&ServeSettings::stdin_room), v::text())
      .value_name("ROOM")
      .help("Publish each line of stdin into this room");
  t.add("handshake-timeout",
        server(&ServeSettings::connection, &ConnectionLimits::handshake_timeout),
        v::duration(std::chrono::milliseconds(1)))
      .value_name("DURATION")
      .default_value("5s")
      .help("A connection must finish its HTTP request or WebSocket upgrade within this");
  t.add("drain-timeout", server(&ServeSettings::drain_timeout), v::duration(Duration::zero()))
      .value_name("DURATION")
      .default_value("5s")
      .help("On SIGINT/SIGTERM, how long clients have to close before the server exits anyway");
  t.add("close-timeout", server(&ServeSettings::connection, &ConnectionLimits::close_timeout),
        v::duration(std::chrono::milliseconds(1)))
      .value_name("DURATION")
      .default_value("5s")
      .help("How long the server waits for a client's close frame after its own");
  t.add("ping-interval", server(&ServeSettings::connection, &ConnectionLimits::ping_interval),
        v::duration(Duration::zero()))
      .value_name("DURATION")
      .default_value("25s")
      .help("Ping a connection that has been quiet this long (0s: never)");
  t.add("pong-timeout", server(&ServeSettings::connection, &ConnectionLimits::pong_timeout),
        v::duration(std::chrono::milliseconds(1)))
      .value_name("DURATION")
      .default_value("10s")
      .help("Close with 4009 a connection that does not answer a ping in this");
  t.add("idle-timeout", server(&ServeSettings::connection, &ConnectionLimits::idle_timeout),
        v::duration(Duration::zero()))
      .value_name("DURATION")
      .default_value("0s")
      .help("Close with 4010 a connection that sends no message in this (0s: never)");
  t.add("max-connections", server(&ServeSettings::admission, &AdmissionSettings::max_connections),
        v::whole_as<std::size_t>(0, 10000000))
      .value_name("N")
      .default_value("100000")
      .help("WebSocket connections in all; beyond: 503 + Retry-After (0: no limit)");
  t.add("max-connections-per-ip",
        server(&ServeSettings::admission, &AdmissionSettings::max_connections_per_ip),
        v::whole_as<std::size_t>(0, 10000000))
      .value_name("N")
      .default_value("0")
      .help("Connections from one address; beyond: 503 + Retry-After (0: no limit)");
  t.add("handshake-rate", server(&ServeSettings::admission, &AdmissionSettings::handshake_rate),
        v::number(0, 10000000))
      .value_name("RATE")
      .default_value("5000")
      .help(
          "WebSocket handshakes a second, in bursts of up to twice that; beyond: 503 + "
          "Retry-After (0: no limit)");
  t.add("max-path-length", server(&ServeSettings::admission, &AdmissionSettings::max_path_length),
        v::whole_as<std::size_t>(1, 65536))
      .value_name("BYTES")
      .default_value("1024")
      .help("Longest room path in bytes; longer: 414");
  t.add("max-rooms-per-family", server(&ServeSettings::hub, &HubOptions::max_rooms_per_family),
        v::whole_as<std::size_t>(0, 10000000))
      .value_name("N")
      .default_value("10000")
      .help("Live rooms one family (/x/*) may hold; beyond: 503 (0: no limit)");
  t.add("max-subscriptions", server(&ServeSettings::hub, &HubOptions::max_subscriptions),
        v::whole_as<std::size_t>(0, 100000))
      .value_name("N")
      .default_value("128")
      .help(
          "Rooms and family patterns one connection may subscribe to; beyond: an error "
          "event, 429 (0: no limit)");
  t.add("compression", server(&ServeSettings::connection, &ConnectionLimits::compression),
        v::boolean())
      .takes_value("on|off")
      .default_value("on")
      .help(
          "permessage-deflate when a client offers it (browsers do): each room message is "
          "compressed once for every member that agreed, smaller than "
          "--compression-min-size ones are sent plain");
  t.add("compression-min-size",
        server(&ServeSettings::connection, &ConnectionLimits::compression_min_size), size(0, kGiB))
      .value_name("SIZE")
      .default_value("128")
      .help("Room messages smaller than this go uncompressed (the saving would not pay)");
  t.add("log-level", &S::log_level, v::one_of(names_of(kLogLevels, std::size(kLogLevels))))
      .value_name("LEVEL")
      .default_value("info")
      .choices(names_of(kLogLevels, std::size(kLogLevels)))
      .help("Log level on stderr");
  t.add("log-format", &S::log_format, v::one_of(names_of(kLogFormats, std::size(kLogFormats))))
      .value_name("FORMAT")
      .default_value("auto")
      .choices(names_of(kLogFormats, std::size(kLogFormats)))
      .help("Log lines as text or JSON (auto: text on a terminal, JSON otherwise)");
  return t;
}

}  // namespace wspush::cmd
