// Idempotent publishing on one node (SPEC §8.1): a publish with a key already seen in
// the room within the window publishes nothing and answers the first one's seq, also
// while the first is still on its way (then once it is answered). Bounded: keys leave
// when their window passes, and the oldest leave early beyond `max_keys` (README
// "Idempotent publishing"). With --broker the Redis script keeps the keys instead.
//
// Threading: under the Hub's lock, like the broker that owns it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace wspush {

struct PublishAck;

class IdempotencyKeys {
 public:
  using Done = std::function<void(PublishAck const&)>;
  IdempotencyKeys(std::int64_t window_ms, std::size_t max_keys)
      : window_ms_(window_ms), max_keys_(max_keys) {}

  // The key seen first now: true, and the caller publishes, then calls finish(). Seen
  // before: false, and `done` has been answered (or will be, with the first's answer).
  bool begin(std::string const& room, std::string const& key, std::int64_t now_ms, Done& done);
  // The first publish of the key was answered: a seq is kept for the window; a refusal
  // forgets the key (a retry may publish). Waiting repeats get the same answer.
  void finish(std::string const& room, std::string const& key, PublishAck const& ack);
  // A key kept across a restart (the data dir): seen at `ms`, answered `seq`.
  void restore(std::string const& room, std::string const& key, std::int64_t ms, std::uint64_t seq);

  std::size_t size() const { return keys_.size(); }

 private:
  struct Entry {
    std::int64_t ms = 0;
    std::uint64_t seq = 0;  // 0: on its way
    std::vector<Done> waiting;
  };
  void forget_old(std::int64_t now_ms);

  std::int64_t window_ms_;
  std::size_t max_keys_;
  std::unordered_map<std::string, Entry> keys_;             // room '\0' key
  std::deque<std::pair<std::int64_t, std::string>> order_;  // oldest first
};

}  // namespace wspush
