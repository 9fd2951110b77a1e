// RFC 6455 framing of server-to-client messages. Server frames are never masked,
// so one framed buffer can be written to every member of a room unchanged.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace wspush {

enum class Opcode : std::uint8_t { text = 0x1, binary = 0x2 };

// The header of one final (FIN) unmasked data frame carrying `payload_size` bytes.
std::string frame_header(Opcode opcode, std::size_t payload_size);

}  // namespace wspush
