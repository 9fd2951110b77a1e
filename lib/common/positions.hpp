// Where a connection that follows several rooms stands in each (SPEC §3.1): a room's
// last seq and the epoch of its stream. Written as one opaque token — the `id:` of a
// multi-room event stream, so that Last-Event-ID resumes every room at once — of items
// "SEQ.EPOCH:PATH" separated by spaces, the path percent-encoded.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace wspush {

struct RoomPosition {
  std::uint64_t seq = 0;
  std::optional<std::uint64_t> epoch;
};
using Positions = std::map<std::string, RoomPosition, std::less<>>;

std::string encode_positions(Positions const& positions);
// What it cannot read is left out (a token is the client's to send back, not to trust).
Positions parse_positions(std::string_view token);

}  // namespace wspush
