// Everything the codec decodes from a peer: client messages, published bodies, stdin
// lines, server text (for the clients).
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  std::string_view const text(reinterpret_cast<char const*>(data), size);
  wspush::ClientMessage const m = wspush::decode_client_message(text);
  if (m.kind == wspush::ClientMessage::Kind::publish && !wspush::valid_utf8(m.data)) {
    __builtin_trap();  // re-encoded data must be valid UTF-8 when the input was
  }
  std::string error;
  if (auto compact = wspush::compact_json(text, &error)) {
    // Compacting is idempotent.
    if (wspush::compact_json(*compact, &error) != compact) __builtin_trap();
  }
  (void)wspush::line_to_json(text, false, 1 << 20);
  (void)wspush::inspect_server_text(text);
  return 0;
}
