// A whole WebSocket session driven by arbitrary client bytes through an in-memory
// stream: frames, fragments, pings, closes and violations in any order, with the
// session answering, queueing and closing as it would on a socket.
#include <asio/io_context.hpp>
#include <cstddef>
#include <cstdint>

#include "../unit/memory_stream.hpp"
#include "common/frame.hpp"
#include "server/ws/ws_session.hpp"

namespace {
struct Events final : wspush::SessionEvents {
  wspush::WsSession* session = nullptr;
  void on_text(std::uint64_t, std::string_view text) override {
    // Answer like an echo room: every message goes back.
    if (session) session->push(wspush::framed_message(wspush::Opcode::text, text));
  }
  void on_binary(std::uint64_t, std::string_view data) override {
    if (session) session->push(wspush::framed_message(wspush::Opcode::binary, data));
  }
  void on_closed(std::uint64_t) override { ++closed; }
  int closed = 0;
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  if (size < 2) return 0;
  asio::io_context io;
  wspush::SessionLoop loop(io);
  wspush::ConnectionLimits const limits{1024, 4096, std::chrono::seconds(5),
                                        std::chrono::seconds(5)};
  Events events;
  auto owned = std::make_unique<wspush::test::MemoryStream>();
  auto* stream = owned.get();
  stream->accept = 1 + data[0] * 64u;  // a peer that reads slowly, or not at all
  std::size_t const step = 1 + data[1] % 200;
  auto session = std::make_shared<wspush::WsSession>(loop, std::move(owned), 1, events, limits);
  events.session = session.get();
  session->start();
  for (std::size_t at = 2; at < size; at += step) {
    stream->feed(std::string(reinterpret_cast<char const*>(data + at), std::min(step, size - at)));
    io.restart();
    io.poll();
    if (stream->write_waiter) {
      stream->accept += 512;  // the peer reads a little
      std::exchange(stream->write_waiter, nullptr)(wspush::ByteStream::Ready::ready);
    }
  }
  stream->eof = true;
  stream->feed("");
  io.restart();
  io.poll();
  session->abort();
  if (events.closed != 1) __builtin_trap();  // exactly once, whatever happened
  events.session = nullptr;
  return 0;
}
