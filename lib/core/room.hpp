// A room: a URL path, its kind, its members and its broadcast sequence.
// Owned by RoomRegistry; touched only by the thread that owns the Hub.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/history.hpp"

namespace wspush {

using SessionId = std::uint64_t;

enum class RoomKind { ticker, relay, echo, feed };

// What happens to a member whose send queue is full (SPEC §6): `disconnect` closes it
// with 4008 naming the last seq queued to it, so it can resume with ?since=;
// `latest` drops what it cannot take and keeps only the newest pending message.
enum class SlowConsumerPolicy { disconnect, latest };
std::optional<SlowConsumerPolicy> parse_slow_consumer_policy(std::string_view name);
std::string_view to_string(SlowConsumerPolicy policy);
// `latest` for ticker rooms (a newer time supersedes an older one), else `disconnect`.
SlowConsumerPolicy default_slow_consumer_policy(RoomKind kind);

std::optional<RoomKind> parse_room_kind(std::string_view name);
std::string_view to_string(RoomKind kind);

// "--room PATH[:KIND]": a path starting with '/', optionally ending in "/*" for a
// family (every path below it is a room of that kind, created on first use).
struct RoomSpec {
  std::string path;  // for a family, the prefix without the trailing '*' ("/chat/")
  RoomKind kind = RoomKind::feed;
  bool family = false;
  std::optional<std::size_t> history;               // messages kept for ?since=; default by kind
  std::optional<SlowConsumerPolicy> slow_consumer;  // default by kind
};

// History kept when neither the room nor --history says: 100 for feed and relay
// rooms, 0 for ticker rooms (a newer time supersedes an older one) and echo rooms.
std::size_t default_history(RoomKind kind);

// Paths under /api/ belong to the HTTP API, never to rooms.
inline constexpr std::string_view kApiPrefix = "/api/";

struct RoomSpecParse {
  std::optional<RoomSpec> spec;
  std::string error;
};

// Kind defaults to `feed` when the spec names none.
RoomSpecParse parse_room_spec(std::string_view text);

class Room {
 public:
  Room(std::string path, RoomKind kind, bool dynamic, std::size_t history,
       SlowConsumerPolicy slow_consumer);

  std::string const& path() const { return path_; }
  RoomKind kind() const { return kind_; }
  bool dynamic() const { return dynamic_; }  // created from a family, dropped when empty
  std::vector<SessionId> const& members() const { return members_; }
  bool empty() const { return members_.empty(); }

  // The event name of ticks: the path's last segment ("/nowtime" -> "nowtime").
  std::string const& tick_event() const { return tick_event_; }

  std::uint64_t last_seq() const { return seq_; }
  std::uint64_t next_seq() { return ++seq_; }

  History& history() { return history_; }
  History const& history() const { return history_; }

  SlowConsumerPolicy slow_consumer() const { return slow_consumer_; }
  // Members that could not keep up: messages dropped for them (`latest`) and members
  // cut off (`disconnect`).
  std::uint64_t dropped() const { return dropped_; }
  std::uint64_t disconnected() const { return disconnected_; }
  void count_slow(std::uint64_t dropped, std::uint64_t disconnected) {
    dropped_ += dropped;
    disconnected_ += disconnected;
  }

  // Members are kept in a vector for fast broadcast; the caller remembers each
  // member's index so that removal is O(1) (swap with the last one).
  std::size_t add(SessionId id);
  // Removes the member at `index`; returns the member that moved into `index`, if any.
  std::optional<SessionId> remove_at(std::size_t index);

 private:
  std::string path_;
  RoomKind kind_;
  bool dynamic_;
  std::string tick_event_;
  std::uint64_t seq_ = 0;
  History history_;
  SlowConsumerPolicy slow_consumer_;
  std::uint64_t dropped_ = 0;
  std::uint64_t disconnected_ = 0;
  std::vector<SessionId> members_;
};

}  // namespace wspush
