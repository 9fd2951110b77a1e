// Where RedisBroker keeps a room in Redis (wspush:{ROOM}:meta, :stream, :key:K; the
// pub/sub channel wspush:ROOM), and reading hiredis's answers.
#pragma once

#include <hiredis/hiredis.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace wspush::redis_keys {

inline std::string meta_key(std::string const& room) {
  return "wspush:{" + room + "}:meta";
}
inline std::string stream_key(std::string const& room) {
  return "wspush:{" + room + "}:stream";
}
inline std::string channel_of(std::string const& room) {
  return "wspush:" + room;
}
constexpr std::string_view kChannelPrefix = "wspush:";

inline std::uint64_t number_of(std::string_view text) {
  return std::strtoull(std::string(text).c_str(), nullptr, 10);
}

inline std::string_view text_of(redisReply const* r) {
  return r && r->str ? std::string_view(r->str, r->len) : std::string_view();
}

}  // namespace wspush::redis_keys
