// `wspush client`: prints every message of a room as one JSON line, for scripts. Its
// settings are declared here, once; client_run.cpp runs them.
#include <limits>

#include "client_run.hpp"
#include "commands.hpp"
#include "options.hpp"
#include "settings_cli.hpp"

namespace wspush::cmd {
namespace {

using F = ClientFlags;
namespace v = setting_value;

template <typename T>
auto connect(T ConnectOptions::*member) {
  return [member](F& f) -> T& { return f.connect.*member; };
}

ValueParser<Duration> positive_duration() {
  return v::duration(Duration(1));
}

// A room or family pattern to subscribe: a path, as the server would name it.
ValueParser<std::string> room_name() {
  return [](SettingValue const& value, std::string& out) -> std::string {
    std::string error = v::text()(value, out);
    if (!error.empty()) return error;
    if (out.empty() || out.front() != '/') return "'" + out + "' is not a room: it starts with '/'";
    if (out.find_first_of("?# \t") != std::string::npos) {
      return "'" + out + "' is not a room: no '?', '#' or spaces";
    }
    return {};
  };
}

}  // namespace

SettingsTable<ClientFlags> client_settings() {
  SettingsTable<F> t;
  t.add("url", connect(&ConnectOptions::url), v::text())
      .positional()
      .value_name("URL")
      .default_value("ws://localhost:5000/nowtime")
      .help("Room URL, ws:// or wss://");
  t.add("async", &F::async, v::boolean()).help("Run on Asio's event loop (the default)");
  t.add("sync", &F::sync, v::boolean()).help("Use the blocking client on this thread");
  t.add("count", &F::count, v::whole(1, std::numeric_limits<std::uint64_t>::max() / 2))
      .short_name('n')
      .value_name("N")
      .help("Print N messages (the welcome counts), then close and exit 0");
  t.add("subscribe", &F::subscriptions, room_name())
      .value_name("ROOM")
      .help(
          "Follow this room or family pattern (/chat/*) too, on the same connection "
          "(repeatable); with --reconnect each room resumes from its own last seq");
  t.add("send", &F::sends, v::text())
      .value_name("JSON")
      .help("Send this JSON text once connected (repeatable)");
  t.add("send-stdin", &F::send_stdin, v::boolean()).help("Send each line of stdin as a text frame");
  t.add("timeout", &F::timeout, positive_duration())
      .value_name("DURATION")
      .help("Give up after this long overall (exit 7)");
  t.add("idle-timeout", &F::idle_timeout, positive_duration())
      .value_name("DURATION")
      .help("Give up after this long without a message (exit 7)");
  t.add("handshake-timeout", connect(&ConnectOptions::handshake_timeout), positive_duration())
      .value_name("DURATION")
      .default_value("10s")
      .help("Wait this long for the server's handshake answer (exit 7)");
  t.add("echo", &F::echo, v::boolean()).help("Send every received frame back unchanged");
  t.add("header", connect(&ConnectOptions::headers), v::text())
      .short_name('H')
      .value_name("'NAME: VALUE'")
      .help("Extra request header (repeatable)");
  t.add("origin", connect(&ConnectOptions::origin), v::text())
      .value_name("ORIGIN")
      .help("Origin header");
  t.add("token", connect(&ConnectOptions::token), v::text())
      .value_name("TOKEN")
      .help("Send Authorization: Bearer TOKEN");
  t.add("proxy", connect(&ConnectOptions::proxy), v::text())
      .value_name("URL")
      .help(
          "HTTP CONNECT proxy http://HOST:PORT (default: $https_proxy for wss://, "
          "$http_proxy for ws://, unless $no_proxy covers the host)");
  add_tls_settings(t, connect(&ConnectOptions::cacert), connect(&ConnectOptions::insecure));
  t.add("max-message-size", connect(&ConnectOptions::max_message_size), size_setting(1, kGiB))
      .value_name("SIZE")
      .default_value("16MiB")
      .help("Largest message accepted (larger: close 1009, exit 6)");
  t.add("compress", connect(&ConnectOptions::compress), v::boolean())
      .help(
          "Offer permessage-deflate: the server may send compressed messages (inflated up to "
          "--max-message-size), and messages of 128 bytes or more are sent compressed");
  t.add("stats", &F::stats, v::boolean()).help("Print a JSON summary on stderr at the end");
  t.add("reconnect", &F::reconnect, v::boolean())
      .help(
          "Reconnect after a lost connection (backoff with jitter) and resume with ?since= "
          "from the last seq seen");
  t.add("reconnect-max", &F::reconnect_max, positive_duration())
      .value_name("DURATION")
      .default_value("10s")
      .help("Longest wait between reconnection attempts");
  return t;
}

Command client_command() {
  return {
      "client", "Print a room's messages as JSON lines (for scripts)", [](CLI::App& app) {
        auto cli = std::make_shared<CliSettings<ClientFlags>>(client_settings(), kClientEnvPrefix);
        cli->add_to(app, {"token", "TOKEN"}, "",
                    "Exit codes: 0 ok, 1 other failure, 2 usage, 3 cannot connect (DNS, TCP, "
                    "proxy),\n4 TLS failure, 5 handshake refused (HTTP status), 6 protocol "
                    "error or abnormal\nclose, 7 timeout, 8 seq gap.");
        return CommandSetup{[cli] {
                              ClientFlags flags;
                              if (std::string const error = cli->resolve(flags); !error.empty()) {
                                return usage_error("client: " + error);
                              }
                              return run_client(flags);
                            },
                            cli->describe()};
      }};
}

}  // namespace wspush::cmd
