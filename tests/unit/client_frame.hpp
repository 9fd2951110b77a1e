// Frames as a client sends them (masked) and as the server sends them (read back from
// what it wrote), for the tests that drive sessions through an in-memory stream.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace wspush::test {

// A masked client frame of `opcode` (payload under 126 bytes).
inline std::string masked(std::uint8_t opcode, std::string_view payload) {
  std::string f;
  f.push_back(static_cast<char>(0x80 | opcode));
  f.push_back(static_cast<char>(0x80 | payload.size()));
  char const key[4] = {1, 2, 3, 4};
  f.append(key, 4);
  for (std::size_t i = 0; i < payload.size(); ++i) f.push_back(payload[i] ^ key[i % 4]);
  return f;
}

struct ServerFrame {
  std::uint8_t opcode;
  std::string payload;
};

// The server frames at the front of `bytes`, taken out of it (a partial one stays).
inline std::vector<ServerFrame> take_server_frames(std::string& bytes) {
  std::vector<ServerFrame> out;
  std::size_t at = 0;
  while (bytes.size() - at >= 2) {
    std::uint64_t length = static_cast<unsigned char>(bytes[at + 1]) & 0x7f;
    std::size_t header = 2;
    if (length >= 126) {
      std::size_t const size = length == 126 ? 2 : 8;
      if (bytes.size() - at < 2 + size) break;
      length = 0;
      for (std::size_t i = 0; i < size; ++i) {
        length = length << 8 | static_cast<unsigned char>(bytes[at + 2 + i]);
      }
      header += size;
    }
    if (bytes.size() - at < header + length) break;
    out.push_back({static_cast<std::uint8_t>(bytes[at] & 0x0f), bytes.substr(at + header, length)});
    at += header + length;
  }
  bytes.erase(0, at);
  return out;
}

}  // namespace wspush::test
