// Which paths are rooms. Declared rooms live as long as the server; rooms under a
// family ("/chat/*") are created on first use and dropped when their last member
// leaves. Owned by the Hub; single-threaded like it.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/room.hpp"

namespace wspush {

class RoomRegistry {
 public:
  // `history`: messages kept per room when its spec does not say; nullopt: by kind.
  // `loops`: the event loops that count each room's slow members (RoomCounters).
  explicit RoomRegistry(std::optional<std::size_t> history = std::nullopt, std::size_t loops = 1)
      : history_(history), loops_(loops) {}

  // --history-ttl: rooms whose spec does not say keep no message older than this (0:
  // by count only). Before the first declare().
  void set_history_ttl(Duration ttl) { history_ttl_ = ttl; }

  // Returns an error message when the spec clashes with one declared before.
  std::string declare(RoomSpec const& spec);

  // The kind `path` would have, whether or not its room exists yet; nullopt if no
  // declared room or family covers it. The longest family prefix wins.
  std::optional<RoomKind> resolve(std::string_view path) const;

  Room* find(std::string_view path);
  // Finds the room or creates it from its family. nullptr when resolve() fails.
  // `created` tells the caller to start what a new room needs (its ticker).
  Room* get_or_create(std::string_view path, bool* created);
  // Drops a family room with no members; returns whether it was dropped. A room that
  // still holds history (`holds_history`) stays, so that ?since= works after a lull.
  bool drop_if_unused(Room const& room, bool holds_history);

  void for_each(std::function<void(Room&)> const& fn);
  void for_each(std::function<void(Room const&)> const& fn) const;

  struct FamilyInfo {
    std::string pattern;  // "/chat/*"
    RoomKind kind;
    SlowConsumerPolicy slow_consumer;
  };
  std::vector<FamilyInfo> families() const;
  // "/chat/*" for a room of that family (the longest prefix that covers it).
  std::optional<std::string> family_pattern(std::string_view path) const;
  // Whether "/chat/*" is a declared family.
  bool is_family(std::string_view pattern) const;
  // Whether `path` would be a new room of a family that already has `max` live rooms.
  bool family_full(std::string_view path, std::size_t max) const;
  std::size_t size() const { return rooms_.size(); }

 private:
  struct Family {
    std::string prefix;  // ends with '/'
    RoomKind kind;
    std::size_t history;
    SlowConsumerPolicy slow_consumer;
    std::size_t live = 0;  // rooms of it that exist now
    Duration history_ttl{};
  };
  Family const* family_of(std::string_view path) const;
  Family* family_of(std::string_view path);
  std::size_t history_for(RoomSpec const& spec) const;

  std::optional<std::size_t> history_;
  Duration history_ttl_{};
  std::size_t loops_;
  RoomId next_id_ = 1;

  std::unordered_map<std::string, std::unique_ptr<Room>> rooms_;
  std::vector<Family> families_;
};

}  // namespace wspush
