// Where InMemoryBroker keeps what it numbers when the server has a --data-dir: a room's
// last seq and its last messages, so that a restart keeps its epoch, seqs and history.
// InMemoryBroker numbers a message, hands it here, and publishes it (to the members,
// the history and the publisher's answer) only once the journal says it is kept, so no
// one sees a message a restart could take back. The LMDB implementation is
// server/disk/lmdb_journal.hpp.
//
// Threading: called under the Hub's lock; `kept` is called under it too, later, on the
// journal's own loop.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace wspush {

class Journal {
 public:
  virtual ~Journal() = default;

  // What the journal holds of `room`: its last seq (0: nothing ever published) and its
  // last `keep` messages (oldest first).
  struct Message {
    std::uint64_t seq = 0;
    std::int64_t ms = 0;  // when it was published (wall clock)
    std::string envelope;
  };
  struct Stored {
    std::uint64_t last_seq = 0;
    std::vector<Message> messages;
    std::uint64_t epoch = 0;  // the room's own, since it was deleted; 0: the journal's
  };
  virtual Stored load(std::string const& room, std::size_t keep) = 0;

  // The epoch of every room's stream: the same after a restart, unless what the last
  // run acknowledged may have been lost (then a new one, so clients know).
  virtual std::uint64_t epoch() const = 0;

  // Keeps message `seq` of `room`, published at `ms` (the room keeps its last `keep`;
  // older ones go), and its idempotency `key` if any. Calls `kept` with an empty string
  // once it is kept, or with why not.
  virtual void write(std::string const& room, std::uint64_t seq, std::int64_t ms,
                     std::string envelope, std::size_t keep, std::string const& key,
                     std::function<void(std::string const& error)> kept) = 0;
  // The idempotency keys written since `since_ms`, oldest first.
  struct Key {
    std::int64_t ms = 0;
    std::string room;
    std::string key;
    std::uint64_t seq = 0;
  };
  virtual std::vector<Key> keys(std::int64_t since_ms) = 0;
  // The messages of `room` before `seq` go (they expired: --history-ttl).
  virtual void trim(std::string const& room, std::uint64_t seq) = 0;
  // The room is deleted: its messages and seq go, and it starts again in `epoch`.
  virtual void erase(std::string const& room, std::uint64_t epoch) = 0;
};

}  // namespace wspush
