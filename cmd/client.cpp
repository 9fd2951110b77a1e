// `wspush client`: prints every message of a room as one JSON line, for scripts. The
// flags are declared here; client_run.cpp runs them.
#include "client_run.hpp"
#include "commands.hpp"
#include "options.hpp"

namespace wspush::cmd {

Command client_command() {
  return {"client", "Print a room's messages as JSON lines (for scripts)", [](CLI::App& app) {
            auto f = std::make_shared<ClientFlags>();
            app.add_option("url", f->connect.url, "Room URL, ws:// or wss://")
                ->default_val(f->url)
                ->capture_default_str();
            app.add_flag("--async", f->async, "Run on Asio's event loop (the default)");
            app.add_flag("--sync", f->sync, "Use the blocking client on this thread");
            app.add_option("-n,--count", f->count,
                           "Print N messages (the welcome counts), then close and exit 0");
            app.add_option("--send", f->sends, "Send this JSON text once connected (repeatable)")
                ->type_name("JSON");
            app.add_flag("--send-stdin", f->send_stdin, "Send each line of stdin as a text frame");
            app.add_option("--timeout", f->timeout, "Give up after this long overall (exit 7)")
                ->check(duration_check());
            app.add_option("--idle-timeout", f->idle_timeout,
                           "Give up after this long without a message (exit 7)")
                ->check(duration_check());
            app.add_option("--handshake-timeout", f->handshake_timeout,
                           "Wait this long for the server's handshake answer (exit 7)")
                ->check(duration_check())
                ->capture_default_str();
            app.add_flag("--echo", f->echo, "Send every received frame back unchanged");
            app.add_option("-H,--header", f->connect.headers, "Extra request header (repeatable)")
                ->type_name("'NAME: VALUE'");
            app.add_option("--origin", f->connect.origin, "Origin header");
            app.add_option("--token", f->connect.token, "Send Authorization: Bearer TOKEN");
            app.add_option("--proxy", f->connect.proxy,
                           "HTTP CONNECT proxy http://HOST:PORT (default: $https_proxy for "
                           "wss://, $http_proxy for ws://, unless $no_proxy covers the host)");
            add_tls_flags(app, f->connect.cacert, f->connect.insecure);
            app.add_option("--max-message-size", f->connect.max_message_size,
                           "Largest message accepted, in bytes (larger: close 1009, exit 6)")
                ->transform(size_check(1, std::uint64_t{1} << 30))
                ->capture_default_str();
            app.add_flag("--stats", f->stats, "Print a JSON summary on stderr at the end");
            app.add_flag("--reconnect", f->reconnect,
                         "Reconnect after a lost connection (backoff with jitter) and resume "
                         "with ?since= from the last seq seen");
            app.add_option("--reconnect-max", f->reconnect_max_text,
                           "Longest wait between reconnection attempts")
                ->check(duration_check())
                ->capture_default_str();
            app.footer(
                "Exit codes: 0 ok, 1 other failure, 2 usage, 3 cannot connect (DNS, TCP, proxy),\n"
                "4 TLS failure, 5 handshake refused (HTTP status), 6 protocol error or abnormal\n"
                "close, 7 timeout, 8 seq gap.");
            return [f] { return run_client(*f); };
          }};
}

}  // namespace wspush::cmd
