#include "server/disk/data_dir.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>

namespace wspush {
namespace {

constexpr std::string_view kFormat = "wspush-history-1";
constexpr std::size_t kMapSize = std::size_t{16} << 30;  // address space, not disk: LMDB grows

std::string_view mode_name(FsyncMode m) {
  return m == FsyncMode::always ? "always" : m == FsyncMode::batch ? "batch" : "off";
}

// Changes when the machine restarts: a page cache that was not written out is gone then.
std::string boot_id() {
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::string id;
  std::getline(in, id);
  return id;
}

}  // namespace

std::string epoch_change(bool clean, std::string const& last_fsync, std::string const& last_boot,
                         std::string const& boot) {
  if (clean || last_fsync == "always" || (last_boot == boot && !boot.empty())) return {};
  return "the last run did not close it, wrote with --fsync " + last_fsync +
         " and the machine restarted since: what it acknowledged last may be lost, so the "
         "rooms start a new epoch";
}

DataDir::DataDir(std::string path, FsyncMode fsync, std::uint64_t fresh_epoch)
    : path_(std::move(path)), fsync_(fsync) {
  std::error_code ec;
  std::filesystem::create_directories(path_, ec);
  if (ec) throw DataDirError("--data-dir " + path_ + ": cannot create it: " + ec.message());
  std::string const lock = path_ + "/wspush.lock";
  lock_fd_ = ::open(lock.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
  if (lock_fd_ < 0) {
    throw DataDirError("--data-dir " + path_ + ": cannot write in it: " + std::strerror(errno));
  }
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(lock_fd_);
    throw DataDirError("--data-dir " + path_ + ": in use by another wspush serve (" + lock +
                       " is locked)");
  }
  try {
    check_foreign();
    open_env();
    read_meta(fresh_epoch);
  } catch (...) {
    if (env_) mdb_env_close(env_);
    ::close(lock_fd_);
    throw;
  }
}

DataDir::~DataDir() {
  mdb_env_close(env_);
  ::close(lock_fd_);
}

std::string DataDir::error_of(std::string const& what, int rc) const {
  return "--data-dir " + path_ + ": " + what + ": " + mdb_strerror(rc);
}

// A directory with files of its own and no data.mdb is someone else's: refused, so that a
// wrong path never gets ours written into it.
void DataDir::check_foreign() const {
  if (std::filesystem::exists(path_ + "/data.mdb")) return;
  for (auto const& entry : std::filesystem::directory_iterator(path_)) {
    std::string const name = entry.path().filename().string();
    if (name == "wspush.lock" || name == "lock.mdb") continue;
    throw DataDirError("--data-dir " + path_ + " is not a wspush data dir: it holds " + name +
                       " and no data.mdb (give an empty or new directory)");
  }
}

void DataDir::open_env() {
  if (int rc = mdb_env_create(&env_); rc != 0) throw DataDirError(error_of("mdb_env_create", rc));
  mdb_env_set_maxdbs(env_, 8);
  mdb_env_set_mapsize(env_, kMapSize);
  unsigned flags = MDB_NOTLS;
  if (fsync_ != FsyncMode::always) flags |= MDB_NOSYNC;
  int const rc = mdb_env_open(env_, path_.c_str(), flags, 0600);
  if (rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH) {
    throw DataDirError("--data-dir " + path_ +
                       ": data.mdb is not an LMDB database wspush can read (corrupted, or "
                       "someone else's); it is left as it is: move it away to start afresh");
  }
  if (rc != 0) throw DataDirError(error_of("cannot open data.mdb", rc));
}

void DataDir::read_meta(std::uint64_t fresh_epoch) {
  MDB_txn* txn = nullptr;
  if (int rc = mdb_txn_begin(env_, nullptr, 0, &txn); rc != 0) {
    throw DataDirError(error_of("cannot write data.mdb", rc));
  }
  auto fail = [&](std::string const& why) {
    mdb_txn_abort(txn);
    throw DataDirError("--data-dir " + path_ + ": " + why);
  };
  MDB_dbi main_db = 0;  // named databases are its keys: none in a new environment
  MDB_stat st{};
  if (mdb_dbi_open(txn, nullptr, 0, &main_db) != 0 || mdb_stat(txn, main_db, &st) != 0) {
    fail("cannot read data.mdb");
  }
  bool const fresh = st.ms_entries == 0;
  unsigned const create = fresh ? MDB_CREATE : 0;
  if (mdb_dbi_open(txn, "meta", create, &meta_) != 0) {
    fail("data.mdb is an LMDB database but not wspush's (it has no meta); it is left as it is");
  }
  auto get = [&](std::string_view key) {
    MDB_val k = val_of(key), v{};
    if (mdb_get(txn, meta_, &k, &v) != 0) return std::string();
    return std::string(static_cast<char const*>(v.mv_data), v.mv_size);
  };
  auto put = [&](std::string_view key, std::string const& value) {
    MDB_val k = val_of(key), v = val_of(value);
    if (int rc = mdb_put(txn, meta_, &k, &v, 0); rc != 0) fail(mdb_strerror(rc));
  };
  if (!fresh && get("format") != kFormat) {
    fail("data.mdb holds format '" + get("format") + "', this wspush reads " +
         std::string(kFormat) + "; it is left as it is");
  }
  if (mdb_dbi_open(txn, "messages", MDB_CREATE, &messages_) != 0 ||
      mdb_dbi_open(txn, "seqs", MDB_CREATE, &seqs_) != 0 ||
      mdb_dbi_open(txn, "keys", MDB_CREATE, &keys_) != 0 ||
      mdb_dbi_open(txn, "epochs", MDB_CREATE, &epochs_) != 0) {
    fail("cannot open the history in data.mdb");
  }
  epoch_ = fresh_epoch;
  if (!fresh) {
    std::string const epoch = get("epoch");
    if (epoch.empty() || epoch.find_first_not_of("0123456789") != std::string::npos) {
      fail("data.mdb has no epoch (corrupted?); it is left as it is");
    }
    epoch_ = std::stoull(epoch);
    epoch_note_ = epoch_change(get("clean") == "1", get("fsync"), get("boot_id"), boot_id());
    if (!epoch_note_.empty()) epoch_ = fresh_epoch;
  }
  put("format", std::string(kFormat));
  put("epoch", std::to_string(epoch_));
  put("clean", "0");
  put("boot_id", boot_id());
  put("fsync", std::string(mode_name(fsync_)));
  if (int rc = mdb_txn_commit(txn); rc != 0) throw DataDirError(error_of("cannot commit", rc));
  sync();
}

void DataDir::sync() {
  mdb_env_sync(env_, 1);
}

void DataDir::close_clean() {
  MDB_txn* txn = nullptr;
  if (mdb_txn_begin(env_, nullptr, 0, &txn) != 0) return;
  MDB_val k = val_of("clean"), v = val_of("1");
  mdb_put(txn, meta_, &k, &v, 0);
  mdb_txn_commit(txn);
  sync();
}

}  // namespace wspush
