// This node's copy of one room's shared stream (SPEC §8): the messages the broker
// numbered, delivered here once each and in seq order, whatever order and with whatever
// holes they arrive in. Pub/sub brings messages live; a read of the stream (a snapshot)
// fills what pub/sub missed — at the start, after a reconnection, or when a seq jumps.
// It decides; the Redis broker does the reading.
//
// Threading: none of its own; the broker calls it under the Hub's lock.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/payload.hpp"
#include "core/broker.hpp"
#include "core/history.hpp"

namespace wspush {

struct StreamEntry {
  std::uint64_t seq = 0;
  std::string envelope;  // {"status":200,"event":…,"data":…,"seq":N}
  std::int64_t ms = 0;   // when Redis took it (ms since the epoch); 0: not said
};

class StreamMirror {
 public:
  // How many live messages wait for a read of the stream at most; past it they are
  // dropped and the read (which has them too, within history) brings them.
  static constexpr std::size_t kMaxPending = 4096;

  explicit StreamMirror(std::size_t history) : history_(history) {}

  // What to do after an event: deliver these (framed, in order) to the members, and
  // read the stream after `read_after` when set.
  struct Step {
    std::vector<std::pair<std::uint64_t, Payload>> deliver;
    std::optional<std::uint64_t> read_after;
    bool reset = false;      // the stream's epoch changed: what was held is gone
    std::uint64_t lost = 0;  // seqs the stream no longer held when read
  };

  // A message from pub/sub.
  Step on_message(std::uint64_t epoch, std::uint64_t seq, std::string_view envelope);
  // A read of the stream: its epoch and last seq, and its entries after the seq asked
  // for (oldest first). The first read only sets where this node starts.
  Step on_snapshot(std::uint64_t epoch, std::uint64_t last_seq, std::vector<StreamEntry> entries);
  // The subscription is gone (the broker is unreachable): what comes next must be
  // read from the stream, after last_seq().
  void on_link_lost();

  bool started() const { return started_; }
  bool reading() const { return reading_; }
  std::uint64_t last_seq() const { return last_; }
  std::uint64_t epoch() const { return epoch_; }
  // Asks for a read (after a reconnection); false when one is in flight already.
  bool begin_read();
  // Starts here, before the first read: a room first heard of by a message numbered
  // `seq + 1` (a followed family's, made elsewhere) delivers that message and what follows
  // rather than taking the stream as history.
  void start_after(std::uint64_t seq, std::uint64_t epoch);

  History::Replay replay_after(std::uint64_t since) const { return history_.after(since, last_); }
  // The room was deleted: nothing held, seq 0 in `epoch` (what waits is of the old one).
  void reset(std::uint64_t epoch) {
    Step ignored;
    reset_to(epoch, ignored);
    pending_.clear();
  }
  // --history-ttl: messages published before `before_ms` leave the mirror's history.
  void expire(std::int64_t before_ms) { history_.expire(before_ms); }
  void keep_deflated(std::uint64_t seq, Payload deflated) {
    history_.keep_deflated(seq, std::move(deflated));
  }
  StreamState state() const;

 private:
  void deliver(Step& step, std::uint64_t seq, std::string_view envelope);
  void deliver_waiting(Step& step, bool after_read);
  void reset_to(std::uint64_t epoch, Step& step);

  History history_;
  bool started_ = false;  // a first read set where this node starts
  bool reading_ = false;  // a read is in flight: live messages wait in pending_
  std::uint64_t epoch_ = 0;
  std::uint64_t last_ = 0;  // the last seq delivered here
  std::map<std::uint64_t, std::pair<std::uint64_t, std::string>> pending_;  // seq → epoch, env
};

}  // namespace wspush
