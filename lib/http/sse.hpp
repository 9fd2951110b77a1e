// Server-Sent Events (SPEC §4): a room followed over plain HTTP, `curl -N` or a
// browser's EventSource. A GET of a room path (see wants_event_stream) passes
// the same admission as a WebSocket handshake and then becomes a session like any
// other (same send buffer, slow-consumer policy, keepalive and history), whose server
// frames are written as SSE instead (lib/server/sse_stream.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/positions.hpp"

namespace wspush {

// Whether a plain GET of a room with this Accept header gets the event stream:
// `text/event-stream` (EventSource), or anything but a browser's `text/html` (curl -N
// sends */*).
bool wants_event_stream(std::string_view accept);

// The resource to join: `target` with Last-Event-ID (the last seq the browser saw) as
// its ?since= (in place of one the URL was opened with: the id is newer). An id that
// is not a seq is ignored. For /events (several rooms, SPEC §3.1) the id is the rooms'
// positions (common/positions.hpp), passed on as &resume=.
std::string sse_resource(std::string_view target, std::string_view last_event_id);

// The response head, then a retry hint (reconnect after 1 s). The body is the events
// until the connection closes (no length, no chunking: RFC 9110 close-delimited).
std::string sse_response_head();

// One server message (the JSON envelope) as an event: `id:` its seq when it has one,
// `event:` its event, `data:` the envelope itself on one line. With `positions` (a
// stream of several rooms), the id is where each room stands so far, updated by this
// message (its room's seq; a `subscribed` or `recovery` event's epoch).
std::string sse_event(std::string_view envelope, Positions* positions = nullptr);

// A comment line: the heartbeat (and nothing else: EventSource ignores it).
inline std::string sse_comment(std::string_view text) {
  return ": " + std::string(text) + "\n\n";
}

// The server closing the session (code and reason of its close frame), as the last
// event before the connection ends: `event: close`.
std::string sse_close(std::uint16_t code, std::string_view reason);

}  // namespace wspush
