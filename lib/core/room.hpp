// A room: a URL path, its kind, its slow-consumer policy and how many members it has.
// Its messages (seq, history) live in the broker; who its members are, for fan-out,
// lives with the transport. Owned by RoomRegistry; touched only under the Hub's lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/duration.hpp"
#include "core/metrics.hpp"

namespace wspush {

using SessionId = std::uint64_t;
// A room instance; never reused, so a dropped room's id cannot reach a new one.
using RoomId = std::uint64_t;

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

// "--room PATH[:KIND][,OPTION…]": a path starting with '/', optionally ending in "/*"
// for a family (every path below it is a room of that kind, created on first use);
// options: history=N (messages kept for ?since=), history_ttl=DURATION (and no older
// than this), slow_consumer=disconnect|latest.
struct RoomSpec {
  std::string path;  // for a family, the prefix without the trailing '*' ("/chat/")
  RoomKind kind = RoomKind::feed;
  bool family = false;
  std::optional<std::size_t> history;               // messages kept for ?since=; default by kind
  std::optional<Duration> history_ttl;              // 0: by count only; default --history-ttl
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

// Kind defaults to `feed` when the spec names none. A path cannot hold ','.
RoomSpecParse parse_room_spec(std::string_view text);

class Room {
 public:
  Room(RoomId id, std::string path, RoomKind kind, bool dynamic, std::size_t history,
       SlowConsumerPolicy slow_consumer, std::size_t loops);

  RoomId id() const { return id_; }
  std::string const& path() const { return path_; }
  RoomKind kind() const { return kind_; }
  bool dynamic() const { return dynamic_; }  // created from a family, dropped when empty
  std::size_t history_capacity() const { return history_; }
  // Messages older than this leave its history (--history-ttl); 0: kept by count only.
  std::int64_t history_ttl_ms() const { return history_ttl_ms_; }
  void set_history_ttl(Duration ttl) {
    history_ttl_ms_ = std::chrono::duration_cast<std::chrono::milliseconds>(ttl).count();
  }
  SlowConsumerPolicy slow_consumer() const { return slow_consumer_; }

  // The event name of ticks: the path's last segment ("/nowtime" -> "nowtime").
  std::string const& tick_event() const { return tick_event_; }

  // Sessions that receive the room: by their URL, or `tagged` (by a subscription: their
  // copy of each message names the room); `deflate`: they take compressed messages
  // (permessage-deflate), so the room's messages are compressed once for them.
  std::size_t members() const { return members_; }
  std::size_t tagged_members() const { return tagged_; }
  std::size_t deflate_members(bool tagged) const { return deflate_[tagged]; }
  bool empty() const { return members_ == 0; }
  void add_member(bool tagged = false, bool deflate = false) {
    ++members_;
    tagged_ += tagged;
    deflate_[tagged] += deflate;
  }
  void remove_member(bool tagged = false, bool deflate = false) {
    --members_;
    tagged_ -= tagged;
    deflate_[tagged] -= deflate;
  }

  // Members that could not keep up, counted by the loops that deliver to them.
  std::shared_ptr<RoomCounters> const& counters() const { return counters_; }

 private:
  RoomId id_;
  std::string path_;
  RoomKind kind_;
  bool dynamic_;
  std::size_t history_;
  std::int64_t history_ttl_ms_ = 0;
  SlowConsumerPolicy slow_consumer_;
  std::string tick_event_;
  std::size_t members_ = 0;
  std::size_t tagged_ = 0;
  std::size_t deflate_[2] = {0, 0};  // by the URL, by a subscription
  std::shared_ptr<RoomCounters> counters_;
};

}  // namespace wspush
