#include "common/frame.hpp"

namespace wspush {

std::string frame_header(Opcode opcode, std::size_t payload_size, bool compressed) {
  std::string h;
  h.reserve(10);
  h.push_back(
      static_cast<char>(0x80 | (compressed ? 0x40 : 0) | static_cast<std::uint8_t>(opcode)));
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

Payload framed_message(Opcode opcode, std::string_view payload) {
  std::string const header = frame_header(opcode, payload.size());
  auto frame = std::make_shared<std::string>();
  frame->reserve(header.size() + payload.size());
  frame->append(header).append(payload);
  return frame;
}

std::string close_payload(std::uint16_t code, std::string_view reason) {
  std::string payload;
  if (code == 0) return payload;
  payload.push_back(static_cast<char>(code >> 8));
  payload.push_back(static_cast<char>(code & 0xFF));
  std::size_t n = std::min<std::size_t>(reason.size(), 123);
  // Back off over continuation bytes (10xxxxxx) so that no character is split.
  if (n < reason.size()) {
    while (n > 0 && (static_cast<unsigned char>(reason[n]) & 0xC0) == 0x80) --n;
  }
  payload.append(reason.substr(0, n));
  return payload;
}

std::string_view frame_payload(std::string const& framed) {
  if (framed.size() < 2) return {};
  std::size_t const length = static_cast<unsigned char>(framed[1]) & 0x7F;
  std::size_t const header = length < 126 ? 2 : length == 126 ? 4 : 10;
  return std::string_view(framed).substr(std::min(header, framed.size()));
}

}  // namespace wspush
