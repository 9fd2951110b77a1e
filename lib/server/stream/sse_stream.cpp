#include "server/stream/sse_stream.hpp"

#include <asio/post.hpp>
#include <cstring>
#include <utility>

#include "http/sse.hpp"

namespace wspush {
namespace {

// A server frame's opcode and payload (server frames are never masked).
std::pair<std::uint8_t, std::string_view> parse_frame(std::string_view frame) {
  if (frame.size() < 2) return {0, {}};
  auto const opcode = static_cast<std::uint8_t>(static_cast<unsigned char>(frame[0]) & 0x0F);
  std::size_t const length = static_cast<unsigned char>(frame[1]) & 0x7F;
  std::size_t const header = length < 126 ? 2 : length == 126 ? 4 : 10;
  return {opcode, frame.substr(std::min(header, frame.size()))};
}

}  // namespace

SseStream::SseStream(asio::io_context& io, std::unique_ptr<ByteStream> inner, std::size_t head,
                     bool several_rooms)
    : io_(io),
      inner_(std::move(inner)),
      head_(head),
      positions_(several_rooms ? std::make_unique<Positions>() : nullptr) {}

SseStream::~SseStream() {
  *alive_ = false;
}

ByteStream::Io SseStream::read_some(char* buffer, std::size_t size) {
  Io io;
  if (!replies_.empty()) {
    io.bytes = std::min(size, replies_.size());
    std::memcpy(buffer, replies_.data(), io.bytes);
    replies_.erase(0, io.bytes);
    return io;
  }
  // What an SSE client sends after its request means nothing: read (until the socket
  // would block: the Poller is edge-triggered) and drop it; a flood ends the stream.
  char scratch[4096];
  for (int reads = 0; reads < 16; ++reads) {
    Io const got = inner_->read_some(scratch, sizeof scratch);
    if (got.blocked || got.closed) return got;
  }
  io.closed = true;
  return io;
}

ByteStream::Io SseStream::write_some(std::string_view const* buffers, std::size_t count) {
  if (out_at_ < out_.size()) {
    Io const io = flush();
    if (io.closed || out_at_ < out_.size()) {
      Io blocked = io;
      blocked.bytes = 0;
      blocked.blocked = !io.closed;
      if (!io.closed) blocked.want = io.want;
      return blocked;
    }
  }
  std::size_t total = 0;
  for (std::size_t k = 0; k < count; ++k) {
    std::string_view b = buffers[k];
    total += b.size();
    if (head_ > 0) {
      std::size_t const n = std::min(head_, b.size());
      out_.append(b.substr(0, n));
      head_ -= n;
      b.remove_prefix(n);
    }
    if (!b.empty()) convert(b);
  }
  Io const io = flush();
  if (io.closed) return io;
  if (out_at_ < out_.size()) flush_later();
  Io done;
  done.bytes = total;
  return done;
}

void SseStream::wait_for(Want want, std::shared_ptr<Waiter> waiter, std::uint8_t token) {
  if (want == Want::write) return inner_->wait_for(want, std::move(waiter), token);
  reader_ = std::move(waiter);
  reader_token_ = token;
  if (!replies_.empty()) return wake_reader(Ready::ready);
  inner_->wait(Want::read, [this, alive = alive_](Ready ready) {
    if (!*alive || !reader_) return;
    std::exchange(reader_, nullptr)->on_ready(reader_token_, ready);
  });
}

// The session's read wait ends, later: the session may be inside a write just now.
void SseStream::wake_reader(Ready ready) {
  if (!reader_) return;
  asio::post(io_, [waiter = std::move(reader_), token = reader_token_, ready] {
    waiter->on_ready(token, ready);
  });
  reader_.reset();
}

void SseStream::convert(std::string_view frame) {
  auto const [opcode, payload] = parse_frame(frame);
  switch (opcode) {
    case 0x1:  // text: an event
      out_ += sse_event(payload, positions_.get());
      return;
    case 0x9:  // ping: a heartbeat, and the pong EventSource cannot send
      out_ += sse_comment("ping");
      return reply(0xA, payload);
    case 0x8: {  // close: said as the last event; the handshake answered for the client
      std::uint16_t code = 1005;
      if (payload.size() >= 2) {
        code = static_cast<std::uint16_t>((static_cast<unsigned char>(payload[0]) << 8) |
                                          static_cast<unsigned char>(payload[1]));
      }
      out_ += sse_close(code, payload.size() > 2 ? payload.substr(2) : std::string_view());
      return reply(0x8, payload);
    }
    default:  // binary (echo rooms only) has no SSE form; pongs are not sent
      return;
  }
}

// A client frame (masked with a zero key: the payload reads as it is) for the session.
void SseStream::reply(std::uint8_t opcode, std::string_view payload) {
  replies_.push_back(static_cast<char>(0x80 | opcode));
  replies_.push_back(static_cast<char>(0x80 | (payload.size() & 0x7F)));  // control: <= 125
  replies_.append(4, '\0');
  replies_.append(payload);
  wake_reader(Ready::ready);
}

ByteStream::Io SseStream::flush() {
  Io last;
  while (out_at_ < out_.size()) {
    std::string_view const rest = std::string_view(out_).substr(out_at_);
    last = inner_->write_some(&rest, 1);
    if (last.blocked || last.closed) return last;
    out_at_ += last.bytes;
  }
  out_.clear();
  out_at_ = 0;
  return last;
}

// Converted bytes the socket did not take, with no more frames to come behind them:
// written when the socket is ready, whatever the session does meanwhile.
void SseStream::flush_later() {
  if (flush_waiting_) return;
  flush_waiting_ = true;
  inner_->wait(Want::write, [this, alive = alive_](Ready ready) {
    if (!*alive) return;
    flush_waiting_ = false;
    if (ready != Ready::ready) return;
    flush();
    if (out_at_ < out_.size()) flush_later();
  });
}

}  // namespace wspush
