// An HTTP request from arbitrary bytes, then the WebSocket handshake checks: bounded,
// and an accepted handshake always has a well-formed 101.
#include <cstddef>
#include <cstdint>
#include <string>

#include "http/handshake.hpp"
#include "http/http_request.hpp"

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  if (size == 0) return 0;
  std::size_t const step = 1 + data[0] % 128;
  wspush::HttpRequestReader reader(wspush::HttpLimits{2048, 1024});
  std::size_t at = 1;
  while (at < size && reader.state() == wspush::HttpRequestReader::State::reading) {
    std::string_view const chunk(reinterpret_cast<char const*>(data + at),
                                 std::min(step, size - at));
    std::size_t const used = reader.consume(chunk);
    if (used > chunk.size()) __builtin_trap();
    at += used;
    if (used < chunk.size()) break;
  }
  if (reader.state() == wspush::HttpRequestReader::State::failed && reader.error_status() < 400) {
    __builtin_trap();
  }
  if (reader.state() != wspush::HttpRequestReader::State::complete) return 0;
  if (reader.request().body.size() > 1024) __builtin_trap();
  if (wspush::asks_for_websocket(reader.request())) {
    wspush::HandshakeAnswer const a = wspush::check_websocket_handshake(reader.request());
    if (!a.refusal && a.response.rfind("HTTP/1.1 101 ", 0) != 0) __builtin_trap();
  }
  return 0;
}
