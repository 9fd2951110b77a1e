// RFC 6455 framing of server-to-client messages, written once for the whole server.
// Server frames are never masked, so one framed buffer can be written to every member
// of a room unchanged, and kept in a room's history as it was sent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/payload.hpp"

namespace wspush {

enum class Opcode : std::uint8_t { text = 0x1, binary = 0x2, close = 0x8, ping = 0x9, pong = 0xA };

// The header of one final (FIN) unmasked frame carrying `payload_size` bytes;
// `compressed` sets RSV1 (permessage-deflate, common/deflate.hpp).
std::string frame_header(Opcode opcode, std::size_t payload_size, bool compressed = false);

// One final unmasked frame, header and payload in one shared buffer, ready to queue.
Payload framed_message(Opcode opcode, std::string_view payload);

// A close frame's payload: the code, then `reason` cut to the 123 bytes a control
// frame allows, on a UTF-8 character boundary. Code 0: an empty payload (no status).
std::string close_payload(std::uint16_t code, std::string_view reason);

// The payload of a frame made by framed_message (its header skipped).
std::string_view frame_payload(std::string const& framed);

}  // namespace wspush
