#include "server/disk/lmdb_journal.hpp"

#include <asio/post.hpp>

#include "core/history.hpp"

namespace wspush {
namespace {

std::string big_endian(std::uint64_t v) {
  std::string s;
  for (int i = 7; i >= 0; --i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  return s;
}

std::uint64_t of_big_endian(char const* data) {
  auto const* p = reinterpret_cast<unsigned char const*>(data);
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

// room '\0' seq as 8 big-endian bytes: a room's messages are adjacent, in seq order.
std::string message_key(std::string const& room, std::uint64_t seq) {
  return room + '\0' + big_endian(seq);
}

std::uint64_t seq_of_key(MDB_val const& k) {
  return of_big_endian(static_cast<char const*>(k.mv_data) + k.mv_size - 8);
}

// Whether a key of the messages database is one of `room`'s.
bool of_room(MDB_val const& k, std::string const& room) {
  return k.mv_size == room.size() + 9 &&
         std::string_view(static_cast<char const*>(k.mv_data), room.size() + 1) ==
             std::string_view(room.c_str(), room.size() + 1);
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

LmdbJournal::LmdbJournal(DataDir& dir, asio::io_context& io, std::mutex& hub_mutex,
                         std::int64_t key_window_ms)
    : dir_(dir), io_(io), hub_mutex_(hub_mutex), key_window_ms_(key_window_ms), sync_timer_(io) {}

std::vector<Journal::Key> LmdbJournal::keys(std::int64_t since_ms) {
  std::vector<Key> out;
  MDB_txn* txn = nullptr;
  if (mdb_txn_begin(dir_.env(), nullptr, MDB_RDONLY, &txn) != 0) return out;
  MDB_cursor* c = nullptr;
  mdb_cursor_open(txn, dir_.keys(), &c);
  std::string const start =
      big_endian(static_cast<std::uint64_t>(std::max<std::int64_t>(0, since_ms)));
  MDB_val k = val_of(start), v{};
  for (int rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
       rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
    std::string_view const key(static_cast<char const*>(k.mv_data), k.mv_size);
    std::size_t const zero = key.find('\0', 8);
    if (key.size() < 9 || zero == std::string_view::npos) continue;
    out.push_back(Key{static_cast<std::int64_t>(of_big_endian(key.data())),
                      std::string(key.substr(8, zero - 8)), std::string(key.substr(zero + 1)),
                      u64_of(v)});
  }
  mdb_cursor_close(c);
  mdb_txn_abort(txn);
  return out;
}

Journal::Stored LmdbJournal::load(std::string const& room, std::size_t keep) {
  Stored out;
  MDB_txn* txn = nullptr;
  if (mdb_txn_begin(dir_.env(), nullptr, MDB_RDONLY, &txn) != 0) return out;
  std::string const name = room;
  MDB_val k = val_of(name), v{};
  if (mdb_get(txn, dir_.seqs(), &k, &v) == 0) out.last_seq = u64_of(v);
  if (mdb_get(txn, dir_.epochs(), &k, &v) == 0) out.epoch = u64_of(v);  // deleted once
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
                        std::string envelope, std::size_t keep, std::string const& key,
                        std::function<void(std::string const& error)> kept) {
  add(Pending{Kind::message, room, seq, std::move(envelope), keep, ms, std::move(kept), key});
}

void LmdbJournal::trim(std::string const& room, std::uint64_t seq) {
  add(Pending{Kind::trim, room, seq, {}, 0, 0, nullptr, {}});
}

void LmdbJournal::erase(std::string const& room, std::uint64_t epoch) {
  add(Pending{Kind::erase, room, epoch, {}, 0, 0, nullptr, {}});
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

// One message: its room's last seq, the message (with history), its idempotency key.
// A trim (no `kept`) writes nothing. Then the room's messages before what it keeps go.
int LmdbJournal::put_message(MDB_txn* txn, MDB_cursor* messages, Pending const& p) {
  int rc = 0;
  if (p.kind == Kind::erase) {  // seq 0 in the room's own epoch
    std::string const zero = u64_bytes(0), epoch = u64_bytes(p.seq);
    MDB_val room = val_of(p.room), v = val_of(zero), e = val_of(epoch);
    rc = mdb_put(txn, dir_.seqs(), &room, &v, 0);
    if (rc == 0) rc = mdb_put(txn, dir_.epochs(), &room, &e, 0);
  }
  if (p.kind == Kind::message) {
    std::string const seq = u64_bytes(p.seq);
    MDB_val room = val_of(p.room), seq_val = val_of(seq);
    rc = mdb_put(txn, dir_.seqs(), &room, &seq_val, 0);
    if (rc == 0 && p.keep > 0) {
      std::string const key = message_key(p.room, p.seq);
      std::string const value = u64_bytes(static_cast<std::uint64_t>(p.ms)) + p.envelope;
      MDB_val k = val_of(key), v = val_of(value);
      rc = mdb_put(txn, dir_.messages(), &k, &v, 0);
    }
    if (rc == 0 && !p.key.empty()) {
      std::string const key = big_endian(static_cast<std::uint64_t>(p.ms)) + p.room + '\0' + p.key;
      MDB_val k = val_of(key);
      rc = mdb_put(txn, dir_.keys(), &k, &seq_val, 0);
    }
  }
  std::uint64_t keep_from = p.seq >= p.keep ? p.seq - p.keep + 1 : 0;
  if (p.kind == Kind::trim) keep_from = p.seq;
  if (p.kind == Kind::erase) keep_from = UINT64_MAX;
  std::string const first = message_key(p.room, 0);
  MDB_val k = val_of(first), v{};
  for (int got = mdb_cursor_get(messages, &k, &v, MDB_SET_RANGE);
       rc == 0 && got == 0 && of_room(k, p.room) && seq_of_key(k) < keep_from;
       got = mdb_cursor_get(messages, &k, &v, MDB_GET_CURRENT)) {
    rc = mdb_cursor_del(messages, 0);
  }
  return rc;
}

// Idempotency keys written before `before_ms` go (they are ordered by time).
int LmdbJournal::forget_keys(MDB_txn* txn, std::int64_t before_ms) {
  MDB_cursor* c = nullptr;
  int rc = mdb_cursor_open(txn, dir_.keys(), &c);
  MDB_val k{}, v{};
  for (int got = rc == 0 ? mdb_cursor_get(c, &k, &v, MDB_FIRST) : MDB_NOTFOUND;
       rc == 0 && got == 0 && k.mv_size >= 8 &&
       static_cast<std::int64_t>(of_big_endian(static_cast<char const*>(k.mv_data))) < before_ms;
       got = mdb_cursor_get(c, &k, &v, MDB_GET_CURRENT)) {
    rc = mdb_cursor_del(c, 0);
  }
  if (c) mdb_cursor_close(c);
  return rc;
}

// One transaction for the batch; keys past their window go with it.
std::string LmdbJournal::commit(std::vector<Pending> const& batch) {
  MDB_txn* txn = nullptr;
  if (int rc = mdb_txn_begin(dir_.env(), nullptr, 0, &txn); rc != 0) return mdb_strerror(rc);
  MDB_cursor* messages = nullptr;
  int rc = mdb_cursor_open(txn, dir_.messages(), &messages);
  for (Pending const& p : batch) {
    if (rc == 0) rc = put_message(txn, messages, p);
  }
  if (messages) mdb_cursor_close(messages);
  if (rc == 0 && key_window_ms_ > 0) rc = forget_keys(txn, wall_clock_ms() - key_window_ms_);
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
