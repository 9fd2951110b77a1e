// `wspush client`: both modes (see client_run.hpp).
#include "client_run.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <random>
#include <thread>

#include "client/client_session.hpp"
#include "commands.hpp"
#include "common/codec.hpp"
#include "options.hpp"

namespace wspush::cmd {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::uint16_t kCloseNormal = 1000;
constexpr Duration kCloseWait = std::chrono::seconds(5);  // bound on the closing handshake
const std::string kCloseEvent = R"({"event":"close"})";

// What both modes share: the session, the clock, stdout, stderr and the verdict.
class Run {
 public:
  explicit Run(ClientFlags const& flags)
      : session_(ClientSessionOptions{flags.count, flags.echo}),
        stats_(flags.stats),
        reconnect_(flags.reconnect),
        base_url_(flags.connect.url),
        backoff_(std::chrono::milliseconds(100), flags.reconnect_max) {}

  std::chrono::microseconds elapsed() const {
    return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start_);
  }

  // Prints the frame's line; returns what else to do with it.
  Reaction on_frame(ClientEvent const& e) {
    Reaction r = session_.on_frame(e.opcode, e.payload, elapsed());
    if (r.warning) std::cerr << "wspush client: " << *r.warning << '\n';
    if (r.line) {
      r.line->push_back('\n');
      if (std::fwrite(r.line->data(), 1, r.line->size(), stdout) != r.line->size() ||
          std::fflush(stdout) != 0) {
        fail({ExitCode::failure, std::string("cannot write to stdout: ") + std::strerror(errno)});
      }
    }
    return r;
  }

  void closed(int code, std::string reason) {
    close_code_ = code;
    session_.stats().close_code = code;
    session_.stats().close_reason = std::move(reason);
  }

  void fail(ClientFailure failure) {
    if (!failure_) failure_ = std::move(failure);
  }

  bool finished() const { return session_.finished(); }
  // --subscribe: what this connection sends, each room resuming where it was.
  std::vector<std::string> subscribes(std::vector<std::string> const& wanted) const {
    return session_.subscribes(wanted);
  }
  bool failed() const { return failure_.has_value(); }

  // --reconnect -----------------------------------------------------------------

  // A connection opened; after the first, it counts as a reconnection.
  void opened(bool before) {
    if (before) ++session_.stats().reconnects;
    backoff_.reset();
    reconnecting_ = false;
  }
  bool reconnecting() const { return reconnecting_; }

  // Server closes worth coming back from: anything but a normal 1000 (1001 is a
  // restart), unless we closed it ourselves.
  bool retry_after_close(int code, std::string const& reason) {
    if (!reconnect_ || session_.finished() || code == 1000 || !note_retry()) return false;
    std::cerr << "wspush client: the server closed the connection (" << code
              << (reason.empty() ? "" : " " + reason) << "); retrying\n";
    return true;
  }
  // Failures worth retrying: network, timeouts, protocol, HTTP 5xx. Not TLS, not 4xx.
  bool retry_after_failure(ClientFailure const& f) {
    bool const transient = f.code == ExitCode::connect || f.code == ExitCode::timeout ||
                           f.code == ExitCode::protocol ||
                           (f.code == ExitCode::handshake && f.http_status >= 500);
    if (reconnect_ && transient) std::cerr << "wspush client: " << f.reason << "; retrying\n";
    return reconnect_ && transient && note_retry();
  }
  Duration next_delay() {
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    return backoff_.next(unit(random_));
  }
  // Where to reconnect: the room again, resuming after the last seq seen.
  std::string next_url() const {
    auto const last = session_.seq().last();
    return last ? resume_url(base_url_, *last, session_.epoch()) : base_url_;
  }

  int finish() {
    ClientStats& stats = session_.stats();
    stats.duration = elapsed();
    if (stats_) std::cerr << encode_stats(stats) << std::endl;
    if (failure_) {
      std::cerr << "wspush client: " << failure_->reason << '\n';
      return static_cast<int>(failure_->code);
    }
    ExitCode const code = session_.outcome(close_code_);
    if (code == ExitCode::protocol) {
      std::cerr << "wspush client: connection closed "
                << (*close_code_ == 1006 ? "abnormally (1006, no close frame)"
                                         : "with " + std::to_string(*close_code_))
                << (stats.close_reason.empty() ? "" : ": " + stats.close_reason) << '\n';
    } else if (code == ExitCode::gap) {
      std::cerr << "wspush client: " << stats.gaps << " seq gap(s), " << stats.missed
                << " message(s) missed, " << stats.unrecovered
                << " reconnection(s) not fully replayed\n";
    }
    return static_cast<int>(code);
  }

 private:
  bool note_retry() {
    reconnecting_ = true;
    return true;
  }

  ClientSession session_;
  bool stats_;
  bool reconnect_;
  std::string base_url_;
  Backoff backoff_;
  bool reconnecting_ = false;
  std::mt19937_64 random_{std::random_device{}()};
  Clock::time_point start_ = Clock::now();
  std::optional<int> close_code_;
  std::optional<ClientFailure> failure_;
};

struct Deadlines {
  std::optional<Duration> overall;
  std::optional<Duration> idle;
};

// Splits stdin bytes into lines; the last partial line waits for more.
class LineSplitter {
 public:
  template <typename Fn>
  void feed(std::string_view bytes, Fn&& on_line) {
    pending_.append(bytes);
    std::size_t start = 0;
    for (std::size_t nl; (nl = pending_.find('\n', start)) != std::string::npos; start = nl + 1) {
      emit(pending_.substr(start, nl - start), on_line);
    }
    pending_.erase(0, start);
  }
  template <typename Fn>
  void finish(Fn&& on_line) {
    if (!pending_.empty()) emit(std::move(pending_), on_line);
    pending_.clear();
  }

 private:
  template <typename Fn>
  static void emit(std::string line, Fn&& on_line) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) on_line(std::move(line));
  }
  std::string pending_;
};

int run_async(ClientFlags const& flags, Deadlines const& limits) {
  Run run(flags);
  AsyncClient* client = nullptr;
  bool closing = false;
  bool opened_once = false;
  using Slot = AsyncClient::TimerSlot;

  auto const say_goodbye = [&] {
    closing = true;
    client->send(Opcode::text, kCloseEvent);
    client->close(kCloseNormal, "done");
    client->arm(Slot::linger, kCloseWait, [&] {
      std::cerr << "wspush client: the server did not finish the closing handshake\n";
      client->stop();
    });
  };
  auto const touch = [&] {
    if (limits.idle && !closing) {
      client->arm(Slot::idle, *limits.idle, [&] {
        run.fail({ExitCode::timeout,
                  "no message for " + format_duration(*limits.idle) + " (--idle-timeout)"});
        client->stop();
      });
    }
  };
  // Connection over: come back after a backoff (--reconnect), or stop.
  auto const connection_over = [&](bool retry) {
    if (!retry) return client->stop();
    Duration const delay = run.next_delay();
    client->arm(Slot::linger, delay, [&] { client->reconnect(run.next_url()); });
  };

  AsyncClient c(flags.connect, [&](ClientEvent& e) {
    switch (e.kind) {
      case ClientEvent::Kind::open:
        run.opened(opened_once);
        for (std::string const& text : run.subscribes(flags.subscriptions)) {
          client->send(Opcode::text, text);
        }
        for (std::string const& text : flags.sends) client->send(Opcode::text, text);
        if (flags.send_stdin && !opened_once) {
          client->read_lines(
              STDIN_FILENO,
              [&](std::string line) {
                if (!line.empty() && !closing) client->send(Opcode::text, line);
              },
              [] {});
        }
        opened_once = true;
        touch();
        break;
      case ClientEvent::Kind::frame: {
        if (closing) break;
        Reaction const r = run.on_frame(e);
        if (run.failed()) {
          client->stop();
          break;
        }
        if (r.echo) client->send(e.opcode, e.payload);
        if (r.finish) {
          say_goodbye();
        } else {
          touch();
        }
        break;
      }
      case ClientEvent::Kind::closed:
        run.closed(e.close_code, e.close_reason);
        connection_over(!closing && run.retry_after_close(e.close_code, e.close_reason));
        break;
      case ClientEvent::Kind::failed:
        if (run.retry_after_failure(e.failure)) {
          connection_over(true);
        } else {
          run.fail(e.failure);
          client->stop();
        }
        break;
    }
  });
  client = &c;
  if (limits.overall) {
    c.arm(Slot::overall, *limits.overall, [&] {
      run.fail({ExitCode::timeout,
                "no end within " + format_duration(*limits.overall) + " (--timeout)"});
      c.stop();
    });
  }
  c.run();
  return run.finish();
}

int run_sync(ClientFlags const& flags, Deadlines const& limits) {
  Run run(flags);
  auto const now = [] { return Clock::now(); };
  Clock::time_point const end = limits.overall ? now() + *limits.overall : Clock::time_point::max();
  auto const overall_timeout = [&] {
    run.fail(
        {ExitCode::timeout, "no end within " + format_duration(*limits.overall) + " (--timeout)"});
    return run.finish();
  };
  bool stdin_open = flags.send_stdin;
  LineSplitter lines;
  Clock::time_point last_activity = now();
  ConnectOptions options = flags.connect;
  bool opened_once = false;

  // One connection per turn of this loop; a new turn only with --reconnect.
  for (;; options.url = run.next_url()) {
    if (opened_once || run.reconnecting()) {
      Clock::time_point const wake = std::min(end, now() + run.next_delay());
      while (now() < wake) std::this_thread::sleep_until(wake);  // the backoff itself
      if (now() >= end) return overall_timeout();
    }
    BlockingClient client(options);
    if (auto failure = client.connect(end)) {
      if (limits.overall && now() >= end) return overall_timeout();
      if (run.retry_after_failure(*failure)) continue;
      run.fail(*failure);
      return run.finish();
    }
    run.opened(opened_once);
    opened_once = true;
    for (std::string const& text : run.subscribes(flags.subscriptions)) {
      client.send(Opcode::text, text, end);
    }
    for (std::string const& text : flags.sends) client.send(Opcode::text, text, end);

    for (;;) {
      Clock::time_point deadline = end;
      if (limits.idle) deadline = std::min(deadline, last_activity + *limits.idle);
      ClientEvent e;
      switch (client.receive(&e, deadline, stdin_open ? STDIN_FILENO : -1)) {
        case BlockingClient::Wait::timeout:
          if (now() >= end) return overall_timeout();
          run.fail({ExitCode::timeout,
                    "no message for " + format_duration(*limits.idle) + " (--idle-timeout)"});
          return run.finish();
        case BlockingClient::Wait::fd_readable: {
          char buf[65536];
          ssize_t const n = ::read(STDIN_FILENO, buf, sizeof buf);
          auto const send_line = [&](std::string line) { client.send(Opcode::text, line, end); };
          if (n > 0) {
            lines.feed(std::string_view(buf, static_cast<std::size_t>(n)), send_line);
          } else if (n == 0 || errno != EINTR) {
            lines.finish(send_line);
            stdin_open = false;
          }
          continue;
        }
        case BlockingClient::Wait::event:
          break;
      }
      if (e.kind == ClientEvent::Kind::closed) {
        run.closed(e.close_code, e.close_reason);
        if (run.retry_after_close(e.close_code, e.close_reason)) break;  // to the next connection
        return run.finish();
      }
      if (e.kind != ClientEvent::Kind::frame) continue;
      last_activity = now();
      Reaction const r = run.on_frame(e);
      if (run.failed()) return run.finish();
      if (r.echo) client.send(e.opcode, e.payload, end);
      if (r.finish) {
        Clock::time_point const close_by = std::min(end, now() + kCloseWait);
        client.send(Opcode::text, kCloseEvent, close_by);
        if (auto closed = client.close(kCloseNormal, "done", close_by)) {
          run.closed(closed->close_code, closed->close_reason);
        } else {
          std::cerr << "wspush client: the server did not finish the closing handshake\n";
        }
        return run.finish();
      }
    }
  }
}

}  // namespace

int run_client(ClientFlags& flags) {
  if (flags.sync && flags.async)
    return usage_error("client: --sync and --async exclude each other");
  Deadlines const limits{flags.timeout, flags.idle_timeout};
  for (std::string const& text : flags.sends) {
    std::string error;
    if (!compact_json(text, &error)) return usage_error("client: --send '" + text + "': " + error);
  }
  if (std::string const error = check_connect_options(flags.connect); !error.empty()) {
    return usage_error("client: " + error);
  }
  return flags.sync ? run_sync(flags, limits) : run_async(flags, limits);
}

}  // namespace wspush::cmd
