// The metrics sink: counters that each event loop writes on its own thread and that
// anyone may read at any time, summed over the loops when read (GET /api/rooms, and
// later /metrics). No lock and no locked instruction per event: a Counter has one
// writer, which does a relaxed load and store (a plain add on x86); readers see a
// value that is at most a few events old.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace wspush {

class Counter {
 public:
  // The owning loop's thread only.
  void add(std::uint64_t n = 1) {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  // Any thread.
  std::uint64_t get() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

// What one event loop counts. Aligned so that two loops never share a cache line.
struct alignas(64) LoopCounters {
  Counter sessions_opened;
  Counter sessions_closed;
  Counter sessions_deflate;   // of those opened, those that agreed on permessage-deflate
  Counter frames_received;    // text and binary messages from clients
  Counter deliveries;         // messages queued to a session (broadcast, replay, replies)
  Counter bytes_queued;       // bytes of those messages
  Counter slow_dropped;       // `latest`: messages a slow member never got
  Counter slow_disconnected;  // `disconnect`: slow members cut off
  Counter pings_sent;
  Counter ping_timeouts;   // closed 4009
  Counter idle_timeouts;   // closed 4010
  Counter tokens_expired;  // closed 1008 when their JWT's exp passed
};

// A room's slow-consumer counts, one slot per loop (a room has members on several).
class RoomCounters {
 public:
  explicit RoomCounters(std::size_t loops) : slots_(loops == 0 ? 1 : loops) {}
  struct alignas(64) Slot {
    Counter dropped;
    Counter disconnected;
  };
  Slot& loop(std::size_t index) { return slots_[index % slots_.size()]; }
  std::uint64_t dropped() const;
  std::uint64_t disconnected() const;

 private:
  std::vector<Slot> slots_;
};

// The server's counters: one block per loop, created up front (their addresses never
// change, so a loop may keep a reference).
class Metrics {
 public:
  explicit Metrics(std::size_t loops);
  LoopCounters& loop(std::size_t index) { return *loops_[index]; }
  LoopCounters const& loop(std::size_t index) const { return *loops_[index]; }
  std::size_t loops() const { return loops_.size(); }

  // One counter summed over the loops, e.g. total(&LoopCounters::deliveries).
  std::uint64_t total(Counter LoopCounters::*counter) const;

  // Connections refused before they became sessions, by reason ("version", "key",
  // "unknown_room", "handshake_timeout", …). Rare events: a lock, not a per-loop block.
  void count_refusal(std::string_view reason);
  std::map<std::string, std::uint64_t, std::less<>> refusals() const;

 private:
  std::vector<std::unique_ptr<LoopCounters>> loops_;
  mutable std::mutex refusals_mutex_;
  std::map<std::string, std::uint64_t, std::less<>> refusals_;
};

}  // namespace wspush
