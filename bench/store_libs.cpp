// Which embedded store keeps `wspush serve --data-dir`'s history (issue #30): LMDB
// against SQLite (WAL), both as Debian packages them, doing what the server does: append
// a room's message (a 200-byte JSON envelope under the room and its seq), drop the one
// that fell out of the room's last 1000, in transactions of 1 and of 32 messages (a loop
// turn's worth), without fsync and with it at each commit; then the restart: read back
// the last 1000 messages of each of 100 rooms. Prints µs per message (median of 5 runs).
// Not built by default: `cmake --build build --target store-libs` (needs liblmdb-dev
// and libsqlite3-dev); runs in a directory of its own under /tmp.
#include <lmdb.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kRooms = 100;
constexpr std::uint64_t kKeep = 1000;

std::string key_of(int room, std::uint64_t seq) {
  std::string k = "/room/" + std::to_string(room);
  k.push_back('\0');
  for (int i = 7; i >= 0; --i) k.push_back(static_cast<char>((seq >> (8 * i)) & 0xFF));
  return k;
}

void check(bool ok, char const* what) {
  if (!ok) {
    std::fprintf(stderr, "store-libs: %s failed\n", what);
    std::exit(1);
  }
}

struct Lmdb {
  MDB_env* env = nullptr;
  MDB_dbi dbi = 0;
  Lmdb(std::string const& dir, bool sync) {
    check(mdb_env_create(&env) == 0, "mdb_env_create");
    mdb_env_set_mapsize(env, std::size_t{4} << 30);
    check(mdb_env_open(env, dir.c_str(), sync ? 0 : MDB_NOSYNC, 0600) == 0, "mdb_env_open");
    MDB_txn* txn = nullptr;
    mdb_txn_begin(env, nullptr, 0, &txn);
    mdb_dbi_open(txn, nullptr, 0, &dbi);
    mdb_txn_commit(txn);
  }
  ~Lmdb() { mdb_env_close(env); }
  void write(std::vector<std::pair<std::string, std::string>> const& batch,
             std::vector<std::string> const& drop) {
    MDB_txn* txn = nullptr;
    mdb_txn_begin(env, nullptr, 0, &txn);
    for (auto const& [k, v] : batch) {
      MDB_val key{k.size(), const_cast<char*>(k.data())};
      MDB_val val{v.size(), const_cast<char*>(v.data())};
      mdb_put(txn, dbi, &key, &val, 0);
    }
    for (auto const& k : drop) {
      MDB_val key{k.size(), const_cast<char*>(k.data())};
      mdb_del(txn, dbi, &key, nullptr);
    }
    check(mdb_txn_commit(txn) == 0, "mdb_txn_commit");
  }
  std::size_t load() {
    MDB_txn* txn = nullptr;
    mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn);
    MDB_cursor* c = nullptr;
    mdb_cursor_open(txn, dbi, &c);
    MDB_val k, v;
    std::size_t bytes = 0;
    for (int rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
      bytes += std::string(static_cast<char*>(v.mv_data), v.mv_size).size();
    }
    mdb_cursor_close(c);
    mdb_txn_abort(txn);
    return bytes;
  }
};

struct Sqlite {
  sqlite3* db = nullptr;
  sqlite3_stmt* put = nullptr;
  sqlite3_stmt* del = nullptr;
  Sqlite(std::string const& dir, bool sync) {
    check(sqlite3_open((dir + "/history.db").c_str(), &db) == SQLITE_OK, "sqlite3_open");
    sqlite3_exec(db, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr);
    sqlite3_exec(db, sync ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=OFF", nullptr, nullptr,
                 nullptr);
    sqlite3_exec(db, "CREATE TABLE m(k BLOB PRIMARY KEY, v BLOB) WITHOUT ROWID", nullptr, nullptr,
                 nullptr);
    sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO m VALUES(?,?)", -1, &put, nullptr);
    sqlite3_prepare_v2(db, "DELETE FROM m WHERE k=?", -1, &del, nullptr);
  }
  ~Sqlite() {
    sqlite3_finalize(put);
    sqlite3_finalize(del);
    sqlite3_close(db);
  }
  void write(std::vector<std::pair<std::string, std::string>> const& batch,
             std::vector<std::string> const& drop) {
    sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
    for (auto const& [k, v] : batch) {
      sqlite3_bind_blob(put, 1, k.data(), static_cast<int>(k.size()), SQLITE_STATIC);
      sqlite3_bind_blob(put, 2, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
      check(sqlite3_step(put) == SQLITE_DONE, "insert");
      sqlite3_reset(put);
    }
    for (auto const& k : drop) {
      sqlite3_bind_blob(del, 1, k.data(), static_cast<int>(k.size()), SQLITE_STATIC);
      sqlite3_step(del);
      sqlite3_reset(del);
    }
    check(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK, "commit");
  }
  std::size_t load() {
    sqlite3_stmt* all = nullptr;
    sqlite3_prepare_v2(db, "SELECT k, v FROM m ORDER BY k", -1, &all, nullptr);
    std::size_t bytes = 0;
    while (sqlite3_step(all) == SQLITE_ROW) {
      bytes += std::string(static_cast<char const*>(sqlite3_column_blob(all, 1)),
                           static_cast<std::size_t>(sqlite3_column_bytes(all, 1)))
                   .size();
    }
    sqlite3_finalize(all);
    return bytes;
  }
};

struct Figures {
  double append_us;
  double load_ms;
};

template <typename Store>
Figures run(bool sync, int per_txn, int messages) {
  std::vector<double> appends, loads;
  for (int r = 0; r < 5; ++r) {
    char dir[] = "/tmp/store-libs-XXXXXX";
    check(mkdtemp(dir) != nullptr, "mkdtemp");
    std::string const value(200, 'x');
    {
      Store store(dir, sync);
      std::vector<std::uint64_t> seq(kRooms, 0);
      auto const start = Clock::now();
      for (int i = 0; i < messages; i += per_txn) {
        std::vector<std::pair<std::string, std::string>> batch;
        std::vector<std::string> drop;
        for (int j = 0; j < per_txn; ++j) {
          int const room = (i + j) % kRooms;
          std::uint64_t const s = ++seq[room];
          batch.emplace_back(key_of(room, s), value);
          if (s > kKeep) drop.push_back(key_of(room, s - kKeep));
        }
        store.write(batch, drop);
      }
      appends.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count() /
                        messages);
    }
    Store store(dir, sync);
    auto const start = Clock::now();
    check(store.load() > 0, "load");
    loads.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    std::system((std::string("rm -rf ") + dir).c_str());
  }
  std::sort(appends.begin(), appends.end());
  std::sort(loads.begin(), loads.end());
  return {appends[2], loads[2]};
}

}  // namespace

int main() {
  std::printf("%-7s %-6s %-8s %14s %22s\n", "store", "fsync", "per txn", "µs / message",
              "load 100×1000 (ms)");
  for (bool sync : {false, true}) {
    for (int per_txn : {1, 32}) {
      // Fewer messages with an fsync per commit: each costs a disk flush.
      int const messages = sync ? (per_txn == 1 ? 2000 : 32000) : 150000;
      Figures const l = run<Lmdb>(sync, per_txn, messages);
      Figures const s = run<Sqlite>(sync, per_txn, messages);
      std::printf("%-7s %-6s %-8d %14.2f %22.1f\n", "lmdb", sync ? "yes" : "no", per_txn,
                  l.append_us, l.load_ms);
      std::printf("%-7s %-6s %-8d %14.2f %22.1f\n", "sqlite", sync ? "yes" : "no", per_txn,
                  s.append_us, s.load_ms);
    }
  }
}
