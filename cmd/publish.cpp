// `wspush publish ROOM_URL [DATA]`: pushes events into a room. One event from DATA,
// or one per stdin line, streamed in order over one WebSocket connection to the
// server's publish stream (/api/publish); every event is acknowledged, so each
// line is published exactly once or reported. With --reconnect every line carries an
// idempotency key (PREFIX-LINE): after a lost connection the unacknowledged lines are
// sent again on a new one, and the server publishes each key once.
#include <unistd.h>

#include <deque>
#include <iostream>
#include <random>

#include "client/client_session.hpp"
#include "client_transport/ws_client.hpp"
#include "commands.hpp"
#include "common/codec.hpp"
#include "common/url.hpp"
#include "options.hpp"
#include "settings_cli.hpp"

namespace wspush::cmd {
namespace {

// Its settings; their defaults, flags and help are publish_settings()'s table.
struct PublishFlags {
  std::string room_url;
  std::optional<std::string> data;
  std::string event;
  std::string api_key;
  bool json_only = false;
  bool strict = false;
  std::size_t window = 0;
  std::optional<Duration> timeout;
  bool reconnect = false;
  Duration reconnect_max{};
  std::string key_prefix;  // empty: a random one per run (with --reconnect)
  ConnectOptions connect;  // TLS, proxy, the handshake timeout, the largest event
};

// http(s)://host:port/room or ws(s)://host:port/room -> the publish stream's URL.
std::optional<std::string> stream_url(std::string const& room_url, std::string const& event,
                                      bool keyed) {
  auto const scheme_end = room_url.find("://");
  if (scheme_end == std::string::npos) return std::nullopt;
  std::string const scheme = room_url.substr(0, scheme_end);
  std::string ws_scheme;
  if (scheme == "http" || scheme == "ws") {
    ws_scheme = "ws";
  } else if (scheme == "https" || scheme == "wss") {
    ws_scheme = "wss";
  } else {
    return std::nullopt;
  }
  auto const path_start = room_url.find('/', scheme_end + 3);
  if (path_start == std::string::npos) return std::nullopt;
  std::string const authority = room_url.substr(scheme_end + 3, path_start - scheme_end - 3);
  std::string const room(room_path_of(std::string_view(room_url).substr(path_start)));
  if (authority.empty() || room.size() < 2) return std::nullopt;
  return ws_scheme + "://" + authority + "/api/publish?room=" + percent_encode(room) +
         "&event=" + percent_encode(event) + (keyed ? "&keyed=1" : "");
}

class Publisher {
 public:
  explicit Publisher(PublishFlags const& flags)
      : flags_(flags),
        keyed_(flags.reconnect || !flags.key_prefix.empty()),
        prefix_(flags.key_prefix.empty() ? random_prefix() : flags.key_prefix),
        backoff_(std::chrono::milliseconds(100), flags.reconnect_max) {}

  int run() {
    AsyncClient client(flags_.connect, [this](ClientEvent& e) { on_event(e); });
    client_ = &client;
    if (auto const d = flags_.timeout) {
      client.arm(AsyncClient::TimerSlot::overall, *d, [this, d] {
        fail({ExitCode::timeout, "not done within " + format_duration(*d) + " (--timeout)"});
      });
    }
    client.run();
    return finish();
  }

 private:
  void on_event(ClientEvent& e) {
    switch (e.kind) {
      case ClientEvent::Kind::open:
        connected_ = true;
        backoff_.reset();
        if (opened_) return resend();
        opened_ = true;
        if (flags_.data) {
          submit(*flags_.data);
          input_done();
        } else {
          client_->read_lines(
              STDIN_FILENO, [this](std::string line) { submit(line); }, [this] { input_done(); });
        }
        break;
      case ClientEvent::Kind::frame:
        on_answer(e.payload);
        break;
      case ClientEvent::Kind::closed: {
        if (closing_) return client_->stop();
        ClientFailure f{is_normal_close(e.close_code) ? ExitCode::failure : ExitCode::protocol,
                        "the server closed the connection (" + std::to_string(e.close_code) +
                            (e.close_reason.empty() ? "" : ": " + e.close_reason) + ")"};
        // 1001: the server went away (a restart); 1006: the connection dropped; 1011-1014:
        // the server's trouble. Others (a policy, our data) would come back the same.
        bool const transient = e.close_code == 1001 || e.close_code == 1006 ||
                               (e.close_code >= 1011 && e.close_code <= 1014);
        transient ? retry(f) : fail(f);
        break;
      }
      case ClientEvent::Kind::failed: {
        ClientFailure const& f = e.failure;
        bool const transient = f.code == ExitCode::connect || f.code == ExitCode::timeout ||
                               f.code == ExitCode::protocol ||
                               (f.code == ExitCode::handshake && f.http_status >= 500);
        transient ? retry(f) : fail(f);
        break;
      }
    }
  }

  // One input line (or DATA): converted, checked, sent (once connected), and
  // remembered until acked.
  void submit(std::string const& line) {
    ++line_no_;
    LineData const data = line_to_json(line, flags_.json_only, flags_.connect.max_message_size);
    if (!data.json) return refuse(line_no_, data.error);
    std::string frame = *data.json;
    if (keyed_) {
      frame = R"({"idempotency_key":)" +
              encode_json_string(prefix_ + "-" + std::to_string(line_no_)) + R"(,"data":)" + frame +
              "}";
    }
    if (connected_) client_->send(Opcode::text, frame);
    in_flight_.push_back({line_no_, std::move(frame)});
    if (in_flight_.size() >= flags_.window || !connected_) client_->pause_reading();
  }

  // --reconnect: a lost connection is made again after a backoff, and what it had not
  // acknowledged is sent again (the keys make a line that did arrive a duplicate).
  void retry(ClientFailure const& f) {
    if (!flags_.reconnect) return fail(f);
    connected_ = false;
    client_->pause_reading();
    if (input_done_ && in_flight_.empty()) return client_->stop();
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    Duration const delay = backoff_.next(unit(random_));
    ++reconnects_;
    std::cerr << "wspush publish: " << f.reason << "; " << in_flight_.size()
              << " line(s) unacknowledged; reconnecting in " << format_duration(delay) << '\n';
    client_->arm(AsyncClient::TimerSlot::linger, delay,
                 [this] { client_->reconnect(flags_.connect.url); });
  }

  void resend() {
    for (InFlight const& f : in_flight_) client_->send(Opcode::text, f.frame);
    if (!input_done_ && !strict_stop_ && in_flight_.size() < flags_.window) {
      client_->resume_reading();
    }
    maybe_close();
  }

  static std::string random_prefix() {
    std::random_device device;
    std::uint64_t const r = (std::uint64_t{device()} << 32) | device();
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(r));
    return hex;
  }

  void on_answer(std::string const& text) {
    if (in_flight_.empty()) return;  // nothing of ours: ignore
    std::uint64_t const line = in_flight_.front().line;
    in_flight_.pop_front();
    if (in_flight_.size() + 1 == flags_.window) client_->resume_reading();
    // The server's envelopes are compact and start with the status and event.
    if (text.rfind(R"({"status":200,"event":"published")", 0) == 0) {
      ++published_;
      if (flags_.data) std::cout << published_data(text) << std::endl;
    } else {
      refuse(line, "refused by the server: " + text);
    }
    maybe_close();
  }

  void refuse(std::uint64_t line, std::string const& reason) {
    ++skipped_;
    std::cerr << "wspush publish: line " << line << ": " << reason
              << (flags_.strict ? "" : " (skipped)") << '\n';
    if (flags_.strict) {
      strict_stop_ = true;
      input_done();
    }
  }

  void input_done() {
    input_done_ = true;
    if (strict_stop_) client_->pause_reading();
    maybe_close();
  }

  void maybe_close() {
    if (!input_done_ || !in_flight_.empty() || closing_ || !connected_) return;
    closing_ = true;
    client_->close(1000, "done");
    client_->arm(AsyncClient::TimerSlot::linger, std::chrono::seconds(5),
                 [this] { client_->stop(); });
  }

  void fail(ClientFailure failure) {
    if (!failure_) failure_ = std::move(failure);
    client_->stop();
  }

  // {"status":200,"event":"published","data":{...}} -> {...}
  static std::string published_data(std::string const& text) {
    auto const start = text.find(R"("data":)");
    if (start == std::string::npos) return text;
    return text.substr(start + 7, text.size() - start - 8);
  }

  int finish() {
    if (failure_) {
      std::cerr << "wspush publish: " << failure_->reason;
      if (!in_flight_.empty()) {
        std::cerr << "; lines " << in_flight_.front().line << "-" << in_flight_.back().line
                  << " were sent but not acknowledged";
      }
      std::cerr << '\n';
      return static_cast<int>(failure_->code);
    }
    if (reconnects_ > 0) {
      std::cerr << "wspush publish: " << published_ << " published after " << reconnects_
                << " reconnection(s)\n";
    }
    if (skipped_ > 0) {
      std::cerr << "wspush publish: " << published_ << " published, " << skipped_
                << (flags_.strict ? " refused (--strict stopped)" : " skipped") << '\n';
      return kExitFailure;
    }
    return kExitOk;
  }

  struct InFlight {
    std::uint64_t line;
    std::string frame;  // as sent, to send again after a reconnection
  };
  PublishFlags const& flags_;
  bool const keyed_;
  std::string const prefix_;
  Backoff backoff_;
  std::mt19937 random_{std::random_device{}()};
  AsyncClient* client_ = nullptr;
  std::deque<InFlight> in_flight_;  // sent (or to send), not yet acknowledged
  bool connected_ = false;
  bool opened_ = false;
  std::uint64_t reconnects_ = 0;
  std::uint64_t line_no_ = 0;
  std::uint64_t published_ = 0;
  std::uint64_t skipped_ = 0;
  bool input_done_ = false;
  bool strict_stop_ = false;
  bool closing_ = false;
  std::optional<ClientFailure> failure_;
};

int run_publish(PublishFlags& flags) {
  auto const url =
      stream_url(flags.room_url, flags.event, flags.reconnect || !flags.key_prefix.empty());
  if (!url) {
    return usage_error("publish: invalid room URL '" + flags.room_url +
                       "': expected http://HOST:PORT/ROOM (or https://, ws://, wss://)");
  }
  flags.connect.url = *url;
  flags.connect.token = flags.api_key;
  if (std::string const error = check_connect_options(flags.connect); !error.empty()) {
    return usage_error("publish: " + error);
  }
  return Publisher(flags).run();
}

}  // namespace

SettingsTable<PublishFlags> publish_settings() {
  using F = PublishFlags;
  namespace v = setting_value;
  auto const connect = [](auto ConnectOptions::*member) {
    return [member](F& f) -> decltype(auto) { return (f.connect.*member); };
  };
  SettingsTable<F> t;
  t.add("room_url", &F::room_url, v::text())
      .positional()
      .required()
      .value_name("URL")
      .help("The room, http://HOST:PORT/ROOM");
  t.add("data", &F::data, v::text())
      .positional()
      .value_name("JSON")
      .help("One event's data; without it, each stdin line");
  t.add("event", &F::event, v::text())
      .value_name("NAME")
      .default_value("message")
      .help("Event name");
  t.add("api-key", &F::api_key, v::text()).value_name("KEY").help("The server's --api-key");
  t.add("json", &F::json_only, v::boolean())
      .help("Only JSON lines; any other line is an error (default: sent as a JSON string)");
  t.add("strict", &F::strict, v::boolean()).help("Stop at the first line that cannot be published");
  t.add("window", &F::window, v::whole_as<std::size_t>(1, 1000000))
      .value_name("N")
      .default_value("256")
      .help("Events in flight before waiting for acks");
  t.add("reconnect", &F::reconnect, v::boolean())
      .help(
          "After a lost connection, reconnect (backoff with jitter) and send the "
          "unacknowledged lines again; each line's idempotency key makes the server publish "
          "it once");
  t.add("reconnect-max", &F::reconnect_max, v::duration(std::chrono::milliseconds(1)))
      .value_name("DURATION")
      .default_value("10s")
      .help("Longest wait between reconnection attempts");
  t.add("key-prefix", &F::key_prefix, v::text())
      .value_name("PREFIX")
      .help(
          "Idempotency keys PREFIX-LINE for every line (default with --reconnect: random per "
          "run); the same input with the same prefix is published once");
  t.add("max-message-size", connect(&ConnectOptions::max_message_size), size_setting(1, kGiB))
      .value_name("SIZE")
      .default_value("64KiB")
      .help("Largest event (the server's limit)");
  t.add("timeout", &F::timeout, v::duration(Duration(1)))
      .value_name("DURATION")
      .help("Give up after this long (exit 7)");
  t.add("handshake-timeout", connect(&ConnectOptions::handshake_timeout), v::duration(Duration(1)))
      .value_name("DURATION")
      .default_value("10s")
      .help("Wait this long for the server's handshake answer (exit 7)");
  t.add("proxy", connect(&ConnectOptions::proxy), v::text())
      .value_name("URL")
      .help("HTTP CONNECT proxy http://HOST:PORT");
  add_tls_settings(t, connect(&ConnectOptions::cacert), connect(&ConnectOptions::insecure));
  return t;
}

Command publish_command() {
  return {"publish", "Publish events into a room: DATA, or one per stdin line", [](CLI::App& app) {
            auto cli =
                std::make_shared<CliSettings<PublishFlags>>(publish_settings(), "WSPUSH_PUBLISH_");
            cli->add_to(app, {"api-key", "KEY"}, "",
                        "Exit codes: as wspush client (3 connect, 4 TLS, 5 refused: e.g. 401, "
                        "403, 404,\n6 connection lost, 7 timeout), and 1 when a line was skipped "
                        "or refused.");
            return CommandSetup{[cli] {
                                  PublishFlags flags;
                                  if (std::string const error = cli->resolve(flags);
                                      !error.empty()) {
                                    return usage_error("publish: " + error);
                                  }
                                  return run_publish(flags);
                                },
                                cli->describe()};
          }};
}

}  // namespace wspush::cmd
