// The Journal of `serve --data-dir` (core/journal.hpp) in LMDB (data_dir.hpp). Writes
// are grouped: those made under the Hub's lock from any loop wait in one batch, and the
// first loop commits the batch in one transaction at its next turn, outside the lock,
// then tells each message's broker it is kept. --fsync says when the commit reaches the
// disk: in it (always), within kBatchSync (batch), or when the kernel writes it (off).
//
// Threading: write() and load() under the Hub's lock from any loop; the commits and the
// sync timer on the first loop; close() once the loops have stopped.
#pragma once

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <mutex>
#include <vector>

#include "core/journal.hpp"
#include "server/disk/data_dir.hpp"

namespace wspush {

class LmdbJournal final : public Journal {
 public:
  static constexpr std::chrono::milliseconds kBatchSync{100};

  // Idempotency keys older than `key_window_ms` are deleted as commits pass.
  LmdbJournal(DataDir& dir, asio::io_context& io, std::mutex& hub_mutex,
              std::int64_t key_window_ms = 0);

  Stored load(std::string const& room, std::size_t keep) override;
  std::uint64_t epoch() const override { return dir_.epoch(); }
  void write(std::string const& room, std::uint64_t seq, std::int64_t ms, std::string envelope,
             std::size_t keep, std::string const& key,
             std::function<void(std::string const& error)> kept) override;
  std::vector<Key> keys(std::int64_t since_ms) override;
  void trim(std::string const& room, std::uint64_t seq) override;
  void erase(std::string const& room, std::uint64_t epoch) override;

  // The stop: the data dir is synced and marked clean. What still waits was never
  // acknowledged and is not written.
  void close();

 private:
  // A message to keep; the room's messages before `seq` to drop (trim); or the room to
  // erase, starting again in epoch `seq`.
  enum class Kind { message, trim, erase };
  struct Pending {
    Kind kind;
    std::string room;
    std::uint64_t seq;
    std::string envelope;
    std::size_t keep;
    std::int64_t ms;  // when it was published (wall clock)
    std::function<void(std::string const&)> kept;
    std::string key;  // its idempotency key, if any
  };
  int put_message(MDB_txn* txn, MDB_cursor* messages, Pending const& p);
  int forget_keys(MDB_txn* txn, std::int64_t before_ms);
  void add(Pending p);
  void flush();
  std::string commit(std::vector<Pending> const& batch);
  void sync_soon();

  DataDir& dir_;
  asio::io_context& io_;
  std::mutex& hub_mutex_;
  std::int64_t key_window_ms_;
  std::vector<Pending> pending_;  // under the Hub's lock
  bool flush_posted_ = false;     // under the Hub's lock
  asio::steady_timer sync_timer_;
  bool sync_armed_ = false;
};

}  // namespace wspush
