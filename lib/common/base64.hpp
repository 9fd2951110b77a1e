// Standard base64 (RFC 4648, with padding): binary frames printed as JSON, and the
// WebSocket handshake key.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace wspush {

std::string base64_encode(std::string_view bytes);

// Strict decoding: the standard alphabet, padded to a multiple of 4, no whitespace, no
// stray bits in the last character. nullopt otherwise.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace wspush
