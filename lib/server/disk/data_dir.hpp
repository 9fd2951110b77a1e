// `serve --data-dir DIR`: the directory and the LMDB environment in it (data.mdb) that
// keep every room's seq, epoch and history across restarts. Opening it checks that it
// is wspush's (or empty), that no other process uses it (an flock on DIR/wspush.lock),
// and decides the epoch: kept, unless the last run did not stop cleanly, did not fsync
// each commit, and the machine restarted since (then what it acknowledged last may be
// gone, and a new epoch tells the clients).
//
// Threading: opened on the main thread; then used by LmdbJournal (writes on its loop,
// reads under the Hub's lock from any loop: the environment is opened MDB_NOTLS).
#pragma once

#include <lmdb.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "server/settings.hpp"

namespace wspush {

// The data dir cannot be used: corrupted, foreign, in use or not writable. Exit code 3.
class DataDirError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Why a start after a run that wrote with --fsync `last_fsync` on the boot `last_boot`
// must take a new epoch, or "" when it keeps the last one: only when that run did not
// close the dir (`clean`), did not fsync each commit, and the machine restarted since
// (a killed process leaves its commits in the page cache; a power cut does not).
std::string epoch_change(bool clean, std::string const& last_fsync, std::string const& last_boot,
                         std::string const& boot);

// A byte string as LMDB takes it (LMDB does not write through it).
inline MDB_val val_of(std::string_view s) {
  return MDB_val{s.size(), const_cast<char*>(s.data())};
}

class DataDir {
 public:
  // Throws DataDirError with what is wrong, never wipes anything.
  DataDir(std::string path, FsyncMode fsync, std::uint64_t fresh_epoch);
  ~DataDir();
  DataDir(DataDir const&) = delete;
  DataDir& operator=(DataDir const&) = delete;

  MDB_env* env() const { return env_; }
  MDB_dbi messages() const { return messages_; }  // room '\0' seq(8, big-endian) → ms(8) text
  MDB_dbi seqs() const { return seqs_; }          // room → last seq(8)
  MDB_dbi keys() const { return keys_; }          // ms(8, big-endian) room '\0' key → seq(8)
  MDB_dbi epochs() const { return epochs_; }      // room → its own epoch(8), once deleted
  std::string const& path() const { return path_; }
  FsyncMode fsync() const { return fsync_; }
  std::uint64_t epoch() const { return epoch_; }
  // Why the epoch changed at this start, or "" when it was kept (or the dir is new).
  std::string const& epoch_note() const { return epoch_note_; }

  // Everything committed reaches the disk now (batch mode's timer, and the stop).
  void sync();
  // The stop: synced, and marked clean, so the next start keeps the epoch.
  void close_clean();

 private:
  std::string error_of(std::string const& what, int rc) const;
  void check_foreign() const;
  void open_env();
  void read_meta(std::uint64_t fresh_epoch);

  std::string path_;
  FsyncMode fsync_;
  int lock_fd_ = -1;
  MDB_env* env_ = nullptr;
  MDB_dbi meta_ = 0;
  MDB_dbi messages_ = 0;
  MDB_dbi seqs_ = 0;
  MDB_dbi keys_ = 0;
  MDB_dbi epochs_ = 0;
  std::uint64_t epoch_ = 0;
  std::string epoch_note_;
};

}  // namespace wspush
