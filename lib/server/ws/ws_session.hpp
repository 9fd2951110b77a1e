// One open WebSocket (WsSession) and the per-loop state its sessions share
// (SessionLoop): the broadcast engine's last step. A session reads client frames
// (FrameReader) and sends queued, already framed messages with one gathered write per
// loop turn. Why it is built this way (and what it replaced) is measured in
// bench/RESULTS.md, "The engine".
//
// Threading: a session belongs to one event loop (a Shard) and is touched by that
// loop's thread only. It owns its ByteStream; its queue shares the framed buffers
// with every other member of the room and with the room's history (no copy).
#pragma once

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/duration.hpp"
#include "common/frame_reader.hpp"
#include "common/payload.hpp"
#include "server/loop/member.hpp"
#include "server/loop/send_ring.hpp"
#include "server/settings.hpp"
#include "server/stream/byte_stream.hpp"

namespace wspush {

class WsSession;

// What a session reports to the loop that owns it.
class SessionEvents {
 public:
  virtual ~SessionEvents() = default;
  virtual void on_text(std::uint64_t id, std::string_view text) = 0;
  virtual void on_binary(std::uint64_t id, std::string_view data) = 0;
  // The connection is gone (closed cleanly or not); called exactly once, last.
  virtual void on_closed(std::uint64_t id) = 0;
  // Its send queue was emptied, after notify_when_empty() (once per request).
  virtual void on_queue_empty(std::uint64_t /*id*/) {}
};

// Per event loop: the shared read buffer (an idle session owns none) and the sessions
// with frames to flush at the end of this loop turn.
class SessionLoop {
 public:
  // With io_uring, the ring is opened here: its descriptor exists before the loop
  // serves anything, and a later shortage of descriptors cannot take it away.
  explicit SessionLoop(asio::io_context& io, SendPath send_path = SendPath::sendmsg);
  asio::io_context& io() { return io_; }
  // Milliseconds since the loop began (wraps after 49 days; only differences are used).
  std::uint32_t now_ms() const {
    return static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::steady_clock::now() - start_)
                                          .count());
  }
  std::vector<char>& scratch() { return scratch_; }
  // On the loop's thread, before it runs: makes the ring that thread's.
  void start();
  // Queues `session` for the flush at the end of this loop turn.
  void mark_dirty(std::shared_ptr<WsSession> session);

 private:
  void flush();
  void send_through_ring();
  void submit_ring();

  asio::io_context& io_;
  std::chrono::steady_clock::time_point const start_ = std::chrono::steady_clock::now();
  std::vector<char> scratch_;
  std::vector<std::shared_ptr<WsSession>> dirty_, flushing_;
  bool flush_posted_ = false;
  std::unique_ptr<SendRing> ring_;                                 // null: sendmsg
  std::vector<std::shared_ptr<WsSession>> batch_;                  // in the ring, by tag
  std::vector<std::pair<std::shared_ptr<WsSession>, long>> sent_;  // and what it said
};

// No pong (nor anything else) within --pong-timeout of the server's ping.
inline constexpr std::uint16_t kClosePingTimeout = 4009;
// No text or binary message from the client within --idle-timeout.
inline constexpr std::uint16_t kCloseIdle = 4010;

class WsSession final : public std::enable_shared_from_this<WsSession>,
                        public Member,
                        private FrameSink,
                        public ByteStream::Waiter {  // its own waits' (on_ready is private)
 public:
  WsSession(SessionLoop& loop, std::unique_ptr<ByteStream> stream, std::uint64_t id,
            SessionEvents& events, ConnectionLimits const& limits);

  // Queues the handshake's answer (the 101), to go out before anything else.
  void greet(Payload response);
  // Starts reading: first `early`, the bytes the client sent right behind its handshake.
  void start(std::string_view early = {});
  // permessage-deflate was agreed: the client's messages may come compressed.
  void allow_compressed(bool allowed) { reader_.allow_compressed(allowed); }

  // Queues one framed message (common/frame.hpp); it goes out at the end of this loop
  // turn with whatever else is queued. Dropped once the session is closing.
  void push(Payload const& framed) override;
  // Starts the closing handshake now, or after `linger` unless called again first.
  void close(std::uint16_t code, std::string_view reason,
             Duration linger = Duration::zero()) override;
  // Closes the connection at once, without a closing handshake.
  void abort();

  // Whether `bytes` more fit in the send queue (--send-buffer: bytes queued here and
  // not yet handed to the stream). An empty queue takes any one message, so a message
  // larger than the buffer still reaches a member that keeps up.
  bool has_room_for(std::size_t bytes) const override {
    return queued_bytes_ == 0 || queued_bytes_ + bytes <= limits_.send_buffer;
  }
  // The same, after handing what it can to the stream now if the queue is full.
  bool make_room_for(std::size_t bytes) override;
  // Calls SessionEvents::on_queue_empty once the send queue is next empty.
  void notify_when_empty() override { notify_empty_ = true; }
  bool open() const override { return state_ == State::open; }
  std::string remote() const override { return stream_->remote(); }

  // For the close log line: messages pushed to it and received from it, and the first
  // close frame either side sent (1006, none: the connection just ended).
  std::uint32_t messages_out() const { return messages_out_; }
  std::uint32_t messages_in() const { return messages_in_; }
  std::uint16_t close_code() const { return close_code_ == 0 ? 1006 : close_code_; }
  std::string_view close_reason() const {
    return close_reason_ ? std::string_view(*close_reason_) : std::string_view();
  }
  bool closed_by_server() const { return close_by_server_; }

  // The loop's periodic look at the session: pings a quiet peer, closes one that did
  // not answer or was idle too long. Returns what it did.
  Keepalive keepalive(std::uint32_t now_ms) override;

  // SessionLoop only: flush() writes what is queued now. With a SendRing,
  // send_batched() queues the first gathered write in the ring instead (clearing the
  // flush mark as flush() does), batched_sent() applies the ring's answer to the queue
  // — nothing else, so that every member's queue is up to date before anything runs —
  // and after_batched_send() then does what follows: the rest, a wait, or the end.
  void flush();
  enum class Batched : std::uint8_t { queued, ring_full, not_batched };
  Batched send_batched(SendRing& ring);
  void batched_sent(long result);
  void after_batched_send(long result);

 private:
  enum class State : std::uint8_t { open, closing, closed };

  bool on_frame(InMessage const& message) override;
  void on_ready(std::uint8_t token, ByteStream::Ready ready) override;
  void wait_readable(ByteStream::Want want);
  void on_readable();
  void handle(std::string_view data);
  void fail(ReadError const& error);
  void enqueue(Payload const& frame);
  void send_close(std::uint16_t code, std::string_view reason);
  std::size_t gather(std::string_view* buffers);  // kMaxIov of them, from the queue's head
  void account(std::size_t written);              // drops what the stream took
  void write_some();
  void wait_writable(ByteStream::Want want);
  void after_queue_empty();
  void finish();
  void arm_timer(Duration after, std::function<void()> then);
  void record_close(std::uint16_t code, std::string_view reason, bool by_server);

  SessionLoop& loop_;
  std::unique_ptr<ByteStream> stream_;
  std::uint64_t id_;
  SessionEvents& events_;
  ConnectionLimits const& limits_;
  FrameReader reader_;
  // The start of a frame whose rest has not arrived; none between frames.
  std::unique_ptr<std::string> partial_;
  // Frames to send: queue_[head_..] with the first offset_ bytes of queue_[head_] sent.
  // (Members ordered to pack: an idle connection's size matters, bench/RESULTS.md.)
  std::vector<Payload> queue_;
  std::uint32_t head_ = 0;
  std::uint32_t offset_ = 0;  // < one frame's size, at most --max-message-size and a header
  std::size_t queued_bytes_ = 0;
  std::unique_ptr<asio::steady_timer> timer_;  // linger and close timeouts, when needed
  std::unique_ptr<std::string> close_reason_;  // only once there is one
  State state_ = State::open;
  bool dirty_ = false;  // in the loop's flush list
  bool waiting_writable_ = false;
  bool close_sent_ = false;
  bool close_received_ = false;
  bool notify_empty_ = false;
  bool ping_out_ = false;  // a ping is unanswered
  bool first_flight_sent_ = false;
  std::uint32_t heard_ms_;    // when the peer last sent anything
  std::uint32_t message_ms_;  // when it last sent a text or binary message
  std::uint32_t ping_ms_ = 0;
  std::uint32_t messages_in_ = 0;
  std::uint32_t messages_out_ = 0;
  std::uint16_t close_code_ = 0;  // 0: no close frame yet
  bool close_by_server_ = false;
};

}  // namespace wspush
