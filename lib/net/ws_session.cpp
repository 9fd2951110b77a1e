#include "net/ws_session.hpp"

#include <asio/post.hpp>
#include <asio/write.hpp>

#include "core/frame.hpp"

namespace wspush {
namespace {

constexpr std::uint8_t kOpClose = 0x8, kOpPong = 0xA;
constexpr std::size_t kMaxIov = 64;  // buffers per writev; the rest goes in the next one
constexpr int kReadsPerTurn = 4;

// A view of consecutive buffers, as Asio's gathered write wants them.
struct BufferRange {
  using value_type = asio::const_buffer;
  using const_iterator = asio::const_buffer const*;
  asio::const_buffer const* first;
  asio::const_buffer const* last;
  const_iterator begin() const { return first; }
  const_iterator end() const { return last; }
};

Payload control_frame(std::uint8_t opcode, std::string_view payload) {
  auto frame = std::make_shared<std::string>();
  frame->reserve(2 + payload.size());
  frame->push_back(static_cast<char>(0x80 | opcode));
  frame->push_back(static_cast<char>(payload.size()));  // ≤ 125: callers ensure it
  frame->append(payload);
  return frame;
}

}  // namespace

Payload framed_message(bool binary, std::string_view payload) {
  std::string header = frame_header(binary ? Opcode::binary : Opcode::text, payload.size());
  auto frame = std::make_shared<std::string>();
  frame->reserve(header.size() + payload.size());
  frame->append(header).append(payload);
  return frame;
}

void SessionLoop::mark_dirty(std::shared_ptr<WsSession> session) {
  dirty_.push_back(std::move(session));
  if (flush_posted_) return;
  flush_posted_ = true;
  asio::post(io_, [this] { flush(); });
}

void SessionLoop::flush() {
  flush_posted_ = false;
  flushing_.swap(dirty_);
  for (auto& session : flushing_) session->flush();
  flushing_.clear();
}

WsSession::WsSession(SessionLoop& loop, asio::ip::tcp::socket socket, std::uint64_t id,
                     SessionEvents& events, SessionLimits const& limits)
    : loop_(loop),
      socket_(std::move(socket)),
      id_(id),
      events_(events),
      limits_(limits),
      reader_(limits.max_message_size) {}

void WsSession::start() {
  asio::error_code ec;
  socket_.non_blocking(true, ec);
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  wait_readable();
}

std::string WsSession::remote() const {
  asio::error_code ec;
  auto const peer = socket_.remote_endpoint(ec);
  if (ec) return "?";
  return peer.address().to_string() + ":" + std::to_string(peer.port());
}

// Reading ---------------------------------------------------------------------

void WsSession::wait_readable() {
  socket_.async_wait(asio::ip::tcp::socket::wait_read,
                     [self = shared_from_this()](asio::error_code const& ec) {
                       if (ec) {
                         if (ec != asio::error::operation_aborted) self->finish();
                         return;
                       }
                       self->on_readable();
                     });
}

// Reads until the socket is drained (Asio's reactor is edge-triggered: a wait after
// a partial drain might never wake), a few reads per turn so one busy peer cannot
// starve the others; then yields and carries on.
void WsSession::on_readable() {
  std::vector<char>& buffer = loop_.scratch();
  for (int reads = 0; reads < kReadsPerTurn; ++reads) {
    if (state_ == State::closed) return;
    asio::error_code ec;
    std::size_t const n = socket_.read_some(asio::buffer(buffer), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) return wait_readable();
    if (ec) return finish();  // EOF or reset: the peer is gone, nothing to close cleanly
    handle(std::string_view(buffer.data(), n));
  }
  if (state_ != State::closed)
    asio::post(loop_.io(), [self = shared_from_this()] { self->on_readable(); });
}

void WsSession::handle(std::string_view data) {
  // After a protocol error or their close frame, nothing they send matters (and none
  // of it is kept).
  if (reader_.error() || close_received_) return;
  auto self = shared_from_this();  // a handler may close and drop us mid-way
  if (!partial_.empty()) {
    partial_.append(data);
    std::size_t const used = reader_.consume(partial_, *this);
    partial_.erase(0, used);
    if (partial_.capacity() > 4096 && partial_.size() < 1024) partial_.shrink_to_fit();
  } else {
    std::size_t const used = reader_.consume(data, *this);
    partial_.assign(data.substr(used));
  }
  if (reader_.error() && state_ == State::open) fail(*reader_.error());
  if (reader_.error()) partial_.clear();
}

bool WsSession::on_frame(InMessage const& message) {
  switch (message.kind) {
    case InKind::text:
    case InKind::binary:
      // After our close frame, data is read and dropped while we wait for theirs.
      if (state_ != State::open) return true;
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
      if (!has_room_for(2 + message.payload.size())) {
        send_close(kCloseSlowConsumer, "slow consumer: sends faster than it reads");
        return true;
      }
      enqueue(control_frame(kOpPong, message.payload));
      return true;
    case InKind::pong:
      return true;
    case InKind::close:
      close_received_ = true;
      if (!close_sent_) {
        // Echo their code (RFC 6455 §5.5.1); none given: none echoed.
        std::uint16_t const code = message.close_code == kCloseNoStatus ? 0 : message.close_code;
        send_close(code, "");
      } else {
        after_drained();
      }
      return false;
  }
  return true;
}

// A broken protocol is not negotiated with: our close frame goes out, then the TCP
// connection ends without waiting for theirs.
void WsSession::fail(ReadError const& error) {
  close_received_ = true;
  send_close(error.close_code, error.reason);
}

// Writing ---------------------------------------------------------------------

void WsSession::push(Payload const& framed) {
  if (state_ == State::open) enqueue(framed);
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

void WsSession::write_some() {
  // A member that never quite catches up never empties its queue: drop the sent front
  // once it is half the vector, so the vector stays bounded by what is unsent.
  if (head_ >= kMaxIov && head_ * 2 >= queue_.size()) {
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
  asio::const_buffer buffers[kMaxIov];
  while (head_ < queue_.size()) {
    std::size_t count = 0;
    for (std::size_t i = head_; i < queue_.size() && count < kMaxIov; ++i, ++count) {
      std::string const& frame = *queue_[i];
      std::size_t const skip = i == head_ ? offset_ : 0;
      buffers[count] = asio::const_buffer(frame.data() + skip, frame.size() - skip);
    }
    asio::error_code ec;
    // Gathered: up to kMaxIov frames in one system call, none of them copied.
    std::size_t written = socket_.write_some(BufferRange{buffers, buffers + count}, ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) return wait_writable();
    if (ec) return finish();
    queued_bytes_ -= written;
    while (written > 0) {
      std::size_t const left = queue_[head_]->size() - offset_;
      if (written < left) {
        offset_ += written;
        written = 0;
        break;
      }
      written -= left;
      queue_[head_++].reset();
      offset_ = 0;
    }
  }
  queue_.clear();
  head_ = 0;
  if (queue_.capacity() > 256) queue_.shrink_to_fit();
  after_drained();
}

void WsSession::wait_writable() {
  waiting_writable_ = true;
  socket_.async_wait(asio::ip::tcp::socket::wait_write,
                     [self = shared_from_this()](asio::error_code const& ec) {
                       self->waiting_writable_ = false;
                       if (ec) {
                         if (ec != asio::error::operation_aborted) self->finish();
                         return;
                       }
                       if (self->state_ != State::closed) self->write_some();
                     });
}

// Everything queued is in the kernel: a session that has exchanged close frames ends.
void WsSession::after_drained() {
  if (head_ < queue_.size()) return;
  if (close_sent_ && close_received_) finish();
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
  std::string payload;
  if (code != 0) {
    payload.push_back(static_cast<char>(code >> 8));
    payload.push_back(static_cast<char>(code & 0xFF));
    payload.append(reason.substr(0, 123));
  }
  enqueue(control_frame(kOpClose, payload));
  // Their close frame may never come, or they may never read ours: either way the
  // connection ends after the close timeout.
  arm_timer(limits_.close_timeout, [this] { finish(); });
}

void WsSession::abort() {
  finish();
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
  asio::error_code ec;
  if (timer_) timer_->cancel();
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  queue_.clear();
  queue_.shrink_to_fit();
  head_ = offset_ = queued_bytes_ = 0;
  events_.on_closed(id_);
}

}  // namespace wspush
