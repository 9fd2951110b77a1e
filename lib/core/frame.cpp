#include "core/frame.hpp"

namespace wspush {

std::string frame_header(Opcode opcode, std::size_t payload_size) {
  std::string h;
  h.reserve(10);
  h.push_back(static_cast<char>(0x80 | static_cast<std::uint8_t>(opcode)));
  if (payload_size < 126) {
    h.push_back(static_cast<char>(payload_size));
  } else if (payload_size <= 0xFFFF) {
    h.push_back(static_cast<char>(126));
    h.push_back(static_cast<char>((payload_size >> 8) & 0xFF));
    h.push_back(static_cast<char>(payload_size & 0xFF));
  } else {
    h.push_back(static_cast<char>(127));
    for (int shift = 56; shift >= 0; shift -= 8) {
      h.push_back(static_cast<char>((static_cast<std::uint64_t>(payload_size) >> shift) & 0xFF));
    }
  }
  return h;
}

}  // namespace wspush
