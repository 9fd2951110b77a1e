#include "server/ws/ws_session.hpp"

#include <asio/post.hpp>
#include <cerrno>

#include "common/frame.hpp"

namespace wspush {
namespace {

constexpr std::size_t kMaxIov = 64;  // buffers per write; the rest goes in the next one
constexpr int kReadsPerTurn = 4;

// Which of its waits woke a session.
enum WaitToken : std::uint8_t { kReading, kWriting };

}  // namespace

WsSession::WsSession(SessionLoop& loop, std::unique_ptr<ByteStream> stream, std::uint64_t id,
                     SessionEvents& events, ConnectionLimits const& limits)
    : loop_(loop),
      stream_(std::move(stream)),
      id_(id),
      events_(events),
      limits_(limits),
      reader_(limits.max_message_size),
      heard_ms_(loop.now_ms()),
      message_ms_(heard_ms_) {}

void WsSession::greet(Payload response) {
  enqueue(response);
}

void WsSession::start(std::string_view early) {
  if (!early.empty()) handle(early);
  if (state_ == State::closed) return;
  // What the client sent behind its handshake may be decrypted inside a TLS stream,
  // where no wait sees it: read that now. A plain socket's first wait reports what is
  // already there (one system call fewer than a read that finds nothing).
  if (stream_->may_hold_input()) return on_readable();
  wait_readable(ByteStream::Want::read);
}

// Reading ---------------------------------------------------------------------

void WsSession::wait_readable(ByteStream::Want want) {
  stream_->wait_for(want, shared_from_this(), kReading);
}

// A wait ended (for either side: a TLS stream may read on a write wait and vice versa).
void WsSession::on_ready(std::uint8_t token, ByteStream::Ready ready) {
  if (token == kWriting) {
    waiting_writable_ = false;
    if (ready == ByteStream::Ready::failed) return finish();
    if (ready == ByteStream::Ready::ready && state_ != State::closed) write_some();
    return;
  }
  if (ready == ByteStream::Ready::ready) return on_readable();
  if (ready == ByteStream::Ready::failed) finish();
}

// Reads until the stream is drained (the loop's Poller is edge-triggered: a wait after a
// partial drain might never wake), a few reads per turn so one busy peer cannot starve
// the others; then yields and carries on.
void WsSession::on_readable() {
  std::vector<char>& buffer = loop_.scratch();
  for (int reads = 0; reads < kReadsPerTurn; ++reads) {
    if (state_ == State::closed) return;
    ByteStream::Io const io = stream_->read_some(buffer.data(), buffer.size());
    if (io.blocked) return wait_readable(io.want);
    if (io.closed) return finish();  // EOF or reset: the peer is gone
    heard_ms_ = loop_.now_ms();
    ping_out_ = false;  // anything it sends shows it is there
    handle(std::string_view(buffer.data(), io.bytes));
  }
  if (state_ != State::closed) {
    asio::post(loop_.io(), [self = shared_from_this()] { self->on_readable(); });
  }
}

void WsSession::handle(std::string_view data) {
  // After a protocol error or their close frame, nothing they send matters (and none
  // of it is kept).
  if (reader_.error() || close_received_) return;
  auto self = shared_from_this();  // a handler may close and drop us mid-way
  if (partial_) {
    std::string& partial = *partial_;
    partial.append(data);
    std::size_t const used = reader_.consume(partial, *this);
    partial.erase(0, used);
    if (partial.empty()) {
      partial_.reset();  // the usual case: frames end where reads do
    } else if (partial.capacity() > 4096 && partial.size() < 1024) {
      partial.shrink_to_fit();
    }
  } else {
    std::size_t const used = reader_.consume(data, *this);
    if (used < data.size()) partial_ = std::make_unique<std::string>(data.substr(used));
  }
  if (reader_.error() && state_ == State::open) fail(*reader_.error());
  if (reader_.error()) partial_.reset();
}

bool WsSession::on_frame(InMessage const& message) {
  switch (message.kind) {
    case InKind::text:
    case InKind::binary:
      // After our close frame, data is read and dropped while we wait for theirs.
      if (state_ != State::open) return true;
      message_ms_ = heard_ms_;
      ++messages_in_;
      if (message.kind == InKind::text) {
        events_.on_text(id_, message.payload);
      } else {
        events_.on_binary(id_, message.payload);
      }
      return state_ != State::closed;
    case InKind::ping:
      if (state_ != State::open) return true;
      // Pongs are bounded like everything else we send: a peer that pings without
      // reading is cut off, not queued for.
      if (!make_room_for(2 + message.payload.size())) {
        send_close(kCloseSlowConsumer, "slow consumer: sends faster than it reads");
        return true;
      }
      enqueue(framed_message(Opcode::pong, message.payload));
      return true;
    case InKind::pong:
      return true;
    case InKind::close:
      close_received_ = true;
      record_close(message.close_code, message.close_reason, false);
      if (!close_sent_) {
        // Echo their code (RFC 6455 §5.5.1); none given: none echoed.
        std::uint16_t const code = message.close_code == kCloseNoStatus ? 0 : message.close_code;
        send_close(code, "");
      } else {
        after_queue_empty();
      }
      return false;
  }
  return true;
}

Member::Keepalive WsSession::keepalive(std::uint32_t now_ms) {
  if (state_ != State::open) return Keepalive::nothing;
  auto const ms = [](Duration d) {
    return static_cast<std::uint32_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
  };
  if (ping_out_ && now_ms - ping_ms_ >= ms(limits_.pong_timeout)) {
    send_close(kClosePingTimeout,
               "ping timeout: no pong within " + std::to_string(ms(limits_.pong_timeout)) + " ms");
    return Keepalive::ping_timeout;
  }
  if (limits_.idle_timeout > Duration::zero() && now_ms - message_ms_ >= ms(limits_.idle_timeout)) {
    send_close(kCloseIdle, "idle timeout: no message within " +
                               std::to_string(ms(limits_.idle_timeout)) + " ms");
    return Keepalive::idle;
  }
  if (limits_.ping_interval > Duration::zero() && !ping_out_ &&
      now_ms - heard_ms_ >= ms(limits_.ping_interval)) {
    // Not subject to the send queue's policy: one small frame, at most one unanswered.
    ping_out_ = true;
    ping_ms_ = now_ms;
    enqueue(framed_message(Opcode::ping, ""));
    return Keepalive::pinged;
  }
  return Keepalive::nothing;
}

// A broken protocol is not negotiated with: our close frame goes out, then the
// connection ends without waiting for theirs.
void WsSession::fail(ReadError const& error) {
  close_received_ = true;
  send_close(error.close_code, error.reason);
}

// Writing ---------------------------------------------------------------------

void WsSession::push(Payload const& framed) {
  if (state_ != State::open) return;
  ++messages_out_;
  enqueue(framed);
}

bool WsSession::make_room_for(std::size_t bytes) {
  if (has_room_for(bytes)) return true;
  if (state_ == State::closed || waiting_writable_) return false;
  write_some();  // what the kernel takes now no longer counts against the queue
  return state_ != State::closed && has_room_for(bytes);
}

void WsSession::enqueue(Payload const& frame) {
  queue_.push_back(frame);
  queued_bytes_ += frame->size();
  if (dirty_ || waiting_writable_) return;  // a flush or a writable wait is coming
  dirty_ = true;
  loop_.mark_dirty(shared_from_this());
}

void WsSession::flush() {
  dirty_ = false;
  if (state_ == State::closed || waiting_writable_) return;
  write_some();
}

std::size_t WsSession::gather(std::string_view* buffers) {
  // A member that never quite catches up never empties its queue: drop the sent front
  // once it is half the vector, so the vector stays bounded by what is unsent.
  if (head_ >= kMaxIov && head_ * 2 >= queue_.size()) {
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
  std::size_t count = 0;
  for (std::size_t i = head_; i < queue_.size() && count < kMaxIov; ++i, ++count) {
    std::string const& frame = *queue_[i];
    std::size_t const skip = i == head_ ? offset_ : 0;
    buffers[count] = std::string_view(frame).substr(skip);
  }
  return count;
}

void WsSession::account(std::size_t written) {
  queued_bytes_ -= written;
  while (written > 0) {
    std::size_t const left = queue_[head_]->size() - offset_;
    if (written < left) {
      offset_ += static_cast<std::uint32_t>(written);
      break;
    }
    written -= left;
    queue_[head_++].reset();
    offset_ = 0;
  }
}

void WsSession::write_some() {
  std::string_view buffers[kMaxIov];
  while (head_ < queue_.size()) {
    // Gathered: up to kMaxIov frames in one call, none of them copied.
    std::size_t const count = gather(buffers);
    ByteStream::Io const io = stream_->write_some(buffers, count);
    if (io.blocked) return wait_writable(io.want);
    if (io.closed) return finish();
    account(io.bytes);
  }
  queue_.clear();
  head_ = 0;
  // Most connections wait, idle, between events: the vector the first flight (the
  // handshake's 101 and welcome) needed goes back to the heap, for the next handshake.
  // A busy member's is kept, up to 256 entries.
  if (!first_flight_sent_ || queue_.capacity() > 256) std::vector<Payload>().swap(queue_);
  first_flight_sent_ = true;
  after_queue_empty();
}

WsSession::Batched WsSession::send_batched(SendRing& ring) {
  dirty_ = false;
  int const fd = stream_->gather_fd();
  if (fd < 0 || state_ == State::closed || waiting_writable_ || head_ == queue_.size()) {
    return Batched::not_batched;
  }
  std::string_view buffers[kMaxIov];
  std::size_t const count = gather(buffers);
  return ring.add(fd, buffers, count) ? Batched::queued : Batched::ring_full;
}

void WsSession::batched_sent(long result) {
  if (result > 0 && state_ != State::closed) account(static_cast<std::size_t>(result));
}

void WsSession::after_batched_send(long result) {
  // Something in between (another member's close, a full queue) may have written or
  // closed already.
  if (state_ == State::closed || waiting_writable_) return;
  if (result >= 0) return write_some();  // the rest, if any, and what comes after
  if (result == -EAGAIN || result == -EWOULDBLOCK || result == -EINTR) {
    return wait_writable(ByteStream::Want::write);
  }
  finish();
}

void WsSession::wait_writable(ByteStream::Want want) {
  waiting_writable_ = true;
  stream_->wait_for(want, shared_from_this(), kWriting);
}

// Everything queued is in the kernel: a session that has exchanged close frames ends.
void WsSession::after_queue_empty() {
  if (head_ < queue_.size()) return;
  if (close_sent_ && close_received_) return finish();
  if (notify_empty_ && state_ == State::open) {
    notify_empty_ = false;
    events_.on_queue_empty(id_);
  }
}

// Closing ---------------------------------------------------------------------

void WsSession::close(std::uint16_t code, std::string_view reason, Duration linger) {
  if (state_ != State::open) return;
  if (linger > Duration::zero()) {
    std::string text(reason);
    arm_timer(linger, [this, code, text] { close(code, text); });
    return;
  }
  send_close(code, reason);
}

void WsSession::send_close(std::uint16_t code, std::string_view reason) {
  if (close_sent_ || state_ == State::closed) return;
  state_ = State::closing;
  close_sent_ = true;
  record_close(code == 0 ? kCloseNoStatus : code, reason, true);
  enqueue(framed_message(Opcode::close, close_payload(code, reason)));
  // Their close frame may never come, or they may never read ours: either way the
  // connection ends after the close timeout.
  arm_timer(limits_.close_timeout, [this] { finish(); });
}

void WsSession::abort() {
  finish();
}

void WsSession::record_close(std::uint16_t code, std::string_view reason, bool by_server) {
  if (close_code_ != 0) return;  // the first close frame says how it ended
  close_code_ = code;
  close_by_server_ = by_server;
  if (!reason.empty()) close_reason_ = std::make_unique<std::string>(reason);
}

void WsSession::arm_timer(Duration after, std::function<void()> then) {
  if (!timer_) timer_ = std::make_unique<asio::steady_timer>(loop_.io());
  timer_->expires_after(after);
  timer_->async_wait(
      [self = shared_from_this(), then = std::move(then)](asio::error_code const& ec) {
        if (!ec && self->state_ != State::closed) then();
      });
}

void WsSession::finish() {
  if (state_ == State::closed) return;
  state_ = State::closed;
  if (timer_) timer_->cancel();
  stream_->close();
  queue_.clear();
  queue_.shrink_to_fit();
  head_ = offset_ = queued_bytes_ = 0;
  events_.on_closed(id_);
}

}  // namespace wspush
