// A Server-Sent Events client seen by a WsSession as a WebSocket peer: a ByteStream
// over the client's stream that writes each server frame as SSE (text frames as
// events, pings as comment heartbeats, the close frame as a last `close` event) and
// answers, on the client's behalf, what a browser's EventSource cannot: the pong to each
// ping and the close handshake. So every server rule — the send buffer and the
// slow-consumer policy, keepalive, replay, shutdown — applies to SSE unchanged, with
// the session's frames encoded once per room as ever and converted per SSE client.
// A dead client shows as a failed write (or a read of end of stream), not a missing pong.
//
// Threading: one loop, like every ByteStream.
#pragma once

#include <asio/io_context.hpp>
#include <memory>
#include <string>

#include "common/positions.hpp"
#include "server/stream/byte_stream.hpp"

namespace wspush {

class SseStream final : public ByteStream {
 public:
  // The first `head` bytes written are the HTTP response head: passed as they are.
  // `several_rooms`: a stream of /events, whose ids are the rooms' positions (http/sse.hpp).
  SseStream(asio::io_context& io, std::unique_ptr<ByteStream> inner, std::size_t head,
            bool several_rooms = false);
  ~SseStream() override;

  Io read_some(char* buffer, std::size_t size) override;
  // Takes whole frames, all of them or (while converted bytes wait) none.
  Io write_some(std::string_view const* buffers, std::size_t count) override;
  void wait_for(Want want, std::shared_ptr<Waiter> waiter, std::uint8_t token) override;
  void close() override { inner_->close(); }
  std::string remote() const override { return inner_->remote(); }
  StreamHandoff release() override { return inner_->release(); }

 private:
  void convert(std::string_view frame);
  void reply(std::uint8_t opcode, std::string_view payload);
  Io flush();
  void flush_later();
  void wake_reader(Ready ready);

  asio::io_context& io_;
  std::unique_ptr<ByteStream> inner_;
  std::size_t head_;
  std::string out_;  // converted, not yet written: out_[out_at_..]
  std::size_t out_at_ = 0;
  bool flush_waiting_ = false;
  std::string replies_;             // client frames for the session to read
  std::shared_ptr<Waiter> reader_;  // the session's read wait
  std::uint8_t reader_token_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::unique_ptr<Positions> positions_;  // several rooms only
};

}  // namespace wspush
