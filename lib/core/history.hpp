// A room's last N broadcasts with their seq, for ?since= replay. A fixed ring:
// memory is bounded by the capacity, whatever the traffic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "common/payload.hpp"

namespace wspush {

// Now, in ms since the Unix epoch: when a message was published, for History::expire.
std::int64_t wall_clock_ms();

class History {
 public:
  explicit History(std::size_t capacity = 0);

  // Seqs must increase by one per call (they are the room's broadcast seqs); `ms`: when
  // it was published (wall clock, ms), for expire().
  void append(std::uint64_t seq, Payload message, std::int64_t ms = 0);
  // Messages published before `before_ms` go (--history-ttl); how many went.
  std::size_t expire(std::int64_t before_ms);
  // The message numbered `seq`, compressed (permessage-deflate), kept beside it for the
  // replays of members that take it that way; nothing if it is no longer held.
  void keep_deflated(std::uint64_t seq, Payload deflated);

  struct Replay {
    // Every message after `since` is in `messages`: nothing was lost.
    bool complete = true;
    std::vector<Payload> messages;  // oldest first
    std::vector<Payload> deflated;  // each one's compressed twin, or null
  };
  // What a client that last saw `since` missed, given the room's last seq.
  Replay after(std::uint64_t since, std::uint64_t last_seq) const;

  std::size_t size() const { return size_; }
  std::size_t capacity() const { return ring_.size(); }
  std::optional<std::uint64_t> first_seq() const;

 private:
  struct Entry {
    std::uint64_t seq = 0;
    Payload message;
    Payload deflated;
    std::int64_t ms = 0;
  };
  std::vector<Entry> ring_;
  std::size_t next_ = 0;  // where the next entry goes
  std::size_t size_ = 0;
};

}  // namespace wspush
