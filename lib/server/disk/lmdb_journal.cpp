#include "server/disk/lmdb_journal.hpp"

#include <asio/post.hpp>

namespace wspush {
namespace {

// room '\0' seq as 8 big-endian bytes: a room's messages are adjacent, in seq order.
std::string message_key(std::string const& room, std::uint64_t seq) {
  std::string k = room;
  k.push_back('\0');
  for (int i = 7; i >= 0; --i) k.push_back(static_cast<char>((seq >> (8 * i)) & 0xFF));
  return k;
}

std::uint64_t seq_of_key(MDB_val const& k) {
  auto const* p = static_cast<unsigned char const*>(k.mv_data) + k.mv_size - 8;
  std::uint64_t seq = 0;
  for (int i = 0; i < 8; ++i) seq = (seq << 8) | p[i];
  return seq;
}

// Whether a key of the messages database is one of `room`'s.
bool of_room(MDB_val const& k, std::string const& room) {
  return k.mv_size == room.size() + 9 &&
         std::string_view(static_cast<char const*>(k.mv_data), room.size() + 1) ==
             std::string_view(room.c_str(), room.size() + 1);
}

MDB_val val_of(std::string const& s) {
  return MDB_val{s.size(), const_cast<char*>(s.data())};
}

std::string u64_bytes(std::uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[static_cast<std::size_t>(i)] = static_cast<char>(v >> (8 * i));
  return s;
}

std::uint64_t u64_of(MDB_val const& v) {
  if (v.mv_size < 8) return 0;
  auto const* p = static_cast<unsigned char const*>(v.mv_data);
  std::uint64_t x = 0;
  for (int i = 7; i >= 0; --i) x = (x << 8) | p[i];
  return x;
}

}  // namespace

LmdbJournal::LmdbJournal(DataDir& dir, asio::io_context& io, std::mutex& hub_mutex)
    : dir_(dir), io_(io), hub_mutex_(hub_mutex), sync_timer_(io) {}

Journal::Stored LmdbJournal::load(std::string const& room, std::size_t keep) {
  Stored out;
  MDB_txn* txn = nullptr;
  if (mdb_txn_begin(dir_.env(), nullptr, MDB_RDONLY, &txn) != 0) return out;
  std::string const name = room;
  MDB_val k = val_of(name), v{};
  if (mdb_get(txn, dir_.seqs(), &k, &v) == 0) out.last_seq = u64_of(v);
  if (out.last_seq > 0 && keep > 0) {
    std::uint64_t const from = out.last_seq > keep ? out.last_seq - keep + 1 : 0;
    std::string const start = message_key(room, from);
    MDB_cursor* c = nullptr;
    mdb_cursor_open(txn, dir_.messages(), &c);
    k = val_of(start);
    for (int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0 && of_room(k, room);
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
      if (v.mv_size < 8) continue;
      out.messages.push_back(
          Message{seq_of_key(k), static_cast<std::int64_t>(u64_of(v)),
                  std::string(static_cast<char const*>(v.mv_data) + 8, v.mv_size - 8)});
    }
    mdb_cursor_close(c);
  }
  mdb_txn_abort(txn);
  return out;
}

void LmdbJournal::write(std::string const& room, std::uint64_t seq, std::int64_t ms,
                        std::string envelope, std::size_t keep,
                        std::function<void(std::string const& error)> kept) {
  add(Pending{room, seq, std::move(envelope), keep, ms, std::move(kept)});
}

void LmdbJournal::trim(std::string const& room, std::uint64_t seq) {
  add(Pending{room, seq, {}, 0, 0, nullptr});
}

void LmdbJournal::add(Pending p) {
  pending_.push_back(std::move(p));
  if (flush_posted_) return;
  flush_posted_ = true;
  asio::post(io_, [this] { flush(); });
}

void LmdbJournal::flush() {
  std::vector<Pending> batch;
  {
    std::lock_guard<std::mutex> lock(hub_mutex_);
    batch.swap(pending_);
    flush_posted_ = false;
  }
  if (batch.empty()) return;
  std::string const error = commit(batch);
  if (error.empty() && dir_.fsync() == FsyncMode::batch) sync_soon();
  std::lock_guard<std::mutex> lock(hub_mutex_);
  for (Pending const& p : batch) {
    if (p.kept) p.kept(error);
  }
}

// One transaction for the batch: each message, its room's last seq, and the room's
// messages older than its last `keep` deleted; each trim's older messages deleted.
std::string LmdbJournal::commit(std::vector<Pending> const& batch) {
  MDB_txn* txn = nullptr;
  if (int rc = mdb_txn_begin(dir_.env(), nullptr, 0, &txn); rc != 0) return mdb_strerror(rc);
  MDB_cursor* c = nullptr;
  int rc = mdb_cursor_open(txn, dir_.messages(), &c);
  for (Pending const& p : batch) {
    if (rc != 0) break;
    std::string const seq = u64_bytes(p.seq);
    MDB_val room = val_of(p.room), seq_val = val_of(seq);
    if (p.kept) rc = mdb_put(txn, dir_.seqs(), &room, &seq_val, 0);
    if (rc == 0 && p.kept && p.keep > 0) {
      std::string const key = message_key(p.room, p.seq);
      std::string const value = u64_bytes(static_cast<std::uint64_t>(p.ms)) + p.envelope;
      MDB_val k = val_of(key), v = val_of(value);
      rc = mdb_put(txn, dir_.messages(), &k, &v, 0);
    }
    std::uint64_t keep_from = p.seq >= p.keep ? p.seq - p.keep + 1 : 0;
    if (!p.kept) keep_from = p.seq;  // a trim
    std::string const first = message_key(p.room, 0);
    MDB_val k = val_of(first), v{};
    for (int got = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
         rc == 0 && got == 0 && of_room(k, p.room) && seq_of_key(k) < keep_from;
         got = mdb_cursor_get(c, &k, &v, MDB_GET_CURRENT)) {
      rc = mdb_cursor_del(c, 0);
    }
  }
  if (c) mdb_cursor_close(c);
  if (rc != 0) {
    mdb_txn_abort(txn);
    return mdb_strerror(rc);
  }
  rc = mdb_txn_commit(txn);
  return rc == 0 ? std::string() : mdb_strerror(rc);
}

// --fsync batch: what was committed reaches the disk within kBatchSync.
void LmdbJournal::sync_soon() {
  if (sync_armed_) return;
  sync_armed_ = true;
  sync_timer_.expires_after(kBatchSync);
  sync_timer_.async_wait([this](asio::error_code const& ec) {
    sync_armed_ = false;
    if (!ec) dir_.sync();
  });
}

void LmdbJournal::close() {
  sync_timer_.cancel();
  dir_.close_clean();
}

}  // namespace wspush
