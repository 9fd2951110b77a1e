// The broadcast engine: one open WebSocket (WsSession) and the event loop that owns it
// (SessionLoop). PushServer (push_server.cpp) runs one such loop per shard.
//
// Choices, and the measurements behind them (bench/RESULTS.md has the full tables):
// - websocketpp does the HTTP side only (handshake, refusals, the API). Once a
//   WebSocket handshake completes, the server takes the socket out of websocketpp and
//   a WsSession of a few hundred bytes replaces the websocketpp connection, which
//   costs ~8 KiB even with a trimmed config (two 1 KiB handler arenas, header maps and
//   a std::deque live as long as the connection; measured with heaptrack). Idle RSS
//   per connection at 10 000 connections: 11.4 KiB with websocketpp's stock buffer,
//   8.2 KiB with a 1 KiB read buffer, ~1.0 KiB with WsSession.
// - Writes are gathered, not copied: a member's queue holds shared, already framed
//   messages (server frames are unmasked, so one buffer serves every member), and one
//   writev per member per loop turn sends whatever accumulated. Pushing a frame is a
//   reference-count bump into a vector that keeps its capacity: no allocation per
//   member per message. Server CPU per 1000 deliveries (1000 subscribers, 64 B):
//   ~2,100 µs through websocketpp's send(), ~750-850 µs here.
// - Reads wait for readability, then read into one 64 KiB scratch buffer per loop, so
//   an idle connection owns no read buffer; only a partial frame is kept per session.
// - Threads: one loop per core by default (serve --threads). Options measured or
//   weighed: (a) N loops, each owning its sessions, sessions handed out in turn after
//   the handshake; (b) one io_context run by N threads with a strand per connection;
//   (c) SO_REUSEPORT listeners per loop. (a) was built: a session's reads, writes and
//   timers stay on one thread with no lock; the Hub (rooms, seq, history) is shared
//   under one mutex that is held only to decide and queue, never while writing to a
//   socket (each loop has an inbox of Deliveries, filled in Hub order). (b) would put
//   a strand hop and websocketpp's locks on every send; (c) is unnecessary because
//   the handshake layer hands over the socket anyway, and would let a second wspush
//   on the same port silently take half the connections. Measured on this 2-core
//   machine with the load generator on the same cores (1000 subscribers, 64 B):
//   1 loop ~700-800 µs CPU per 1000 deliveries, 2 loops ~950-1,100 µs (the loops and
//   the generator compete for the two cores); with cores to spare, the loops carry
//   the fan-out side by side.
// - Every session belongs to one loop and is touched by that loop's thread only.
#pragma once

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/duration.hpp"
#include "core/frame_reader.hpp"
#include "core/payload.hpp"

namespace wspush {

class WsSession;

// What a session reports to the server that owns it.
class SessionEvents {
 public:
  virtual ~SessionEvents() = default;
  virtual void on_text(std::uint64_t id, std::string_view text) = 0;
  virtual void on_binary(std::uint64_t id, std::string_view data) = 0;
  // The connection is gone (closed cleanly or not); called exactly once, last.
  virtual void on_closed(std::uint64_t id) = 0;
};

// Per event loop: the shared read buffer and the sessions with frames to flush.
class SessionLoop {
 public:
  explicit SessionLoop(asio::io_context& io) : io_(io), scratch_(64 * 1024) {}
  asio::io_context& io() { return io_; }
  std::vector<char>& scratch() { return scratch_; }
  // Queues `session` for the flush at the end of this loop turn.
  void mark_dirty(std::shared_ptr<WsSession> session);

 private:
  void flush();

  asio::io_context& io_;
  std::vector<char> scratch_;
  std::vector<std::shared_ptr<WsSession>> dirty_, flushing_;
  bool flush_posted_ = false;
};

// The close code of a member cut off for not reading fast enough (SPEC §6).
inline constexpr std::uint16_t kCloseSlowConsumer = 4008;

struct SessionLimits {
  std::size_t max_message_size = 64 * 1024;
  std::size_t send_buffer = 1024 * 1024;             // bytes queued before a pong cuts it off
  Duration close_timeout = std::chrono::seconds(5);  // wait for the client's close frame
};

class WsSession final : public std::enable_shared_from_this<WsSession>, private FrameSink {
 public:
  WsSession(SessionLoop& loop, asio::ip::tcp::socket socket, std::uint64_t id,
            SessionEvents& events, SessionLimits const& limits);

  // Starts reading.
  void start();

  // Queues one framed message (header and payload, as framed_text() makes it); it goes
  // out at the end of this loop turn with whatever else is queued. Dropped once the
  // session is closing.
  void push(Payload const& framed);
  // Starts the closing handshake now, or after `linger` unless called again first.
  void close(std::uint16_t code, std::string_view reason, Duration linger = Duration::zero());
  // Closes the TCP connection at once, without a closing handshake.
  void abort();

  // Whether `bytes` more fit in the send queue (--send-buffer: bytes queued here and
  // not yet handed to the kernel).
  bool has_room_for(std::size_t bytes) const {
    return queued_bytes_ + bytes <= limits_.send_buffer;
  }
  bool open() const { return state_ == State::open; }
  std::string remote() const;

  void flush();  // SessionLoop only

 private:
  enum class State : std::uint8_t { open, closing, closed };

  bool on_frame(InMessage const& message) override;
  void wait_readable();
  void on_readable();
  void handle(std::string_view data);
  void fail(ReadError const& error);
  void enqueue(Payload const& frame);
  void send_close(std::uint16_t code, std::string_view reason);
  void write_some();
  void wait_writable();
  void after_drained();
  void finish();
  void arm_timer(Duration after, std::function<void()> then);

  SessionLoop& loop_;
  asio::ip::tcp::socket socket_;
  std::uint64_t id_;
  SessionEvents& events_;
  SessionLimits const& limits_;
  FrameReader reader_;
  std::string partial_;  // the start of a frame whose rest has not arrived
  // Frames to send: queue_[head_..] with the first offset_ bytes of queue_[head_] sent.
  std::vector<Payload> queue_;
  std::size_t head_ = 0;
  std::size_t offset_ = 0;
  std::size_t queued_bytes_ = 0;
  std::unique_ptr<asio::steady_timer> timer_;  // linger and close timeouts, when needed
  State state_ = State::open;
  bool dirty_ = false;  // in the loop's flush list
  bool waiting_writable_ = false;
  bool close_sent_ = false;
  bool close_received_ = false;
};

// A server text or binary frame, ready for WsSession::push: header and payload in one
// buffer.
Payload framed_message(bool binary, std::string_view payload);

}  // namespace wspush
