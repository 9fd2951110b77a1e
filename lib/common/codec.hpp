// The wire format of SPEC §3. Every server message is one envelope,
// {"status":INT,"event":STRING,"data":ANY} plus "seq" on room broadcasts; every
// client message is a JSON object with an "event". RapidJSON stays inside codec.cpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "common/utf8.hpp"

namespace wspush {

// JSON nested deeper than this is refused before it is parsed (RapidJSON builds and
// destroys documents recursively; a deep "[[[[…" must not reach it).
inline constexpr std::size_t kMaxJsonDepth = 64;
// Whether `text` opens more than `max_depth` arrays or objects at once (strings skipped).
bool json_too_deep(std::string_view text, std::size_t max_depth = kMaxJsonDepth);

// data is a plain string, JSON-escaped by the encoder.
std::string encode_text_event(int status, std::string_view event, std::string_view text,
                              std::optional<std::uint64_t> seq = std::nullopt);

// data is already JSON text (compact, as produced by compact_json); it is copied verbatim.
std::string encode_json_event(int status, std::string_view event, std::string_view json,
                              std::optional<std::uint64_t> seq = std::nullopt);

// `text` as a JSON string value (quoted, escaped).
std::string encode_json_string(std::string_view text);

// {"event":"listening","host":H,"port":P}: the server's readiness line.
std::string encode_listening(std::string_view host, unsigned port);

// `envelope` (one compact JSON object) with "room":ROOM added as its last field: what a
// message says when it comes through a subscription (SPEC §3.1).
std::string with_room(std::string_view envelope, std::string_view room);

// A flat JSON object of scalars, in the order given: summaries and status lines.
using JsonScalar =
    std::variant<std::nullptr_t, bool, std::int64_t, std::uint64_t, double, std::string_view>;
std::string encode_object(std::vector<std::pair<std::string_view, JsonScalar>> const& fields);

// What a client needs to know of a text frame from a server.
struct ServerText {
  bool json = false;                      // one valid JSON value
  bool one_line = true;                   // no raw newline: can be printed as one line unchanged
  std::optional<std::uint64_t> seq;       // the envelope's "seq", if any
  std::optional<bool> recovered;          // a "recovery" event: whether nothing was lost
  std::optional<std::uint64_t> epoch;     // … and the epoch of the room's stream (also in
                                          // a "subscribed" event)
  std::optional<std::uint64_t> last_seq;  // a "subscribed" event: the room's last seq then
  std::optional<std::string> room;        // the envelope's "room": it came by a subscription
  std::string event;                      // the envelope's "event"
};
ServerText inspect_server_text(std::string_view text);

// One input line as an event's data (`wspush publish`, `serve --stdin`): a line that
// is valid JSON is that value (compacted), any other line a JSON string, or an error
// with `require_json`. Invalid UTF-8 is always an error.
struct LineData {
  std::optional<std::string> json;
  std::string error;
};
LineData line_to_json(std::string_view line, bool require_json);
// The same, after refusing a line longer than `max_size` bytes.
LineData line_to_json(std::string_view line, bool require_json, std::size_t max_size);

struct ClientMessage {
  enum class Kind { close, ping, publish, subscribe, unsubscribe, invalid };
  Kind kind = Kind::invalid;
  std::string data;                    // publish: the "data" value, re-encoded compactly
  std::optional<std::string> room;     // subscribe, unsubscribe; publish (optional)
  std::optional<std::uint64_t> since;  // subscribe: resume after this seq
  std::optional<std::uint64_t> epoch;  // … of this stream
  std::string error;                   // invalid: the reason sent back with status 400
};

ClientMessage decode_client_message(std::string_view text);

// Validates `text` as one JSON value and returns it without insignificant whitespace;
// on failure returns nullopt and fills `error` with the parser's reason and offset.
std::optional<std::string> compact_json(std::string_view text, std::string* error);

// A keyed publish-stream frame, {"idempotency_key":K,"data":D}: D compact, K (a
// non-empty string) in *key; nullopt and *error when it is not that.
std::optional<std::string> keyed_frame(std::string_view text, std::string* key, std::string* error);

}  // namespace wspush
