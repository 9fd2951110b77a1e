// The data dir (server/disk/): its epoch across starts, and the journal's writes, reads
// and trimming, on real LMDB files in a temporary directory.
#include "server/disk/data_dir.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <asio/io_context.hpp>
#include <filesystem>
#include <mutex>

#include "server/disk/lmdb_journal.hpp"

using namespace wspush;

namespace {

struct TempDir {
  TempDir() {
    char name[] = "/tmp/wspush-data-dir-test-XXXXXX";
    path = mkdtemp(name);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string path;
};

// Writes `messages` into `room` through a journal and commits them (the io's turn).
void write_all(DataDir& dir, std::string const& room, std::uint64_t from, std::uint64_t to,
               std::size_t keep, std::vector<std::string>* errors = nullptr) {
  asio::io_context io;
  std::mutex hub;
  LmdbJournal journal(dir, io, hub);
  for (std::uint64_t seq = from; seq <= to; ++seq) {
    std::lock_guard<std::mutex> lock(hub);
    journal.write(room, seq, static_cast<std::int64_t>(seq) * 10, "m" + std::to_string(seq), keep,
                  seq % 2 ? "k" + std::to_string(seq) : "", [errors](std::string const& e) {
                    if (errors) errors->push_back(e);
                  });
  }
  io.run();
}

// Runs `change` on a journal of `dir` as the Hub would (under its lock) and commits it;
// the journal is returned for reading back.
template <typename Change>
std::unique_ptr<LmdbJournal> commit(DataDir& dir, Change change, std::int64_t key_window_ms = 0) {
  static asio::io_context io;
  static std::mutex hub;
  auto journal = std::make_unique<LmdbJournal>(dir, io, hub, key_window_ms);
  {
    std::lock_guard<std::mutex> lock(hub);
    change(*journal);
  }
  io.restart();
  io.run();
  return journal;
}

}  // namespace

TEST(EpochChange, OnlyAnUncleanStopWithoutFsyncAndARebootTakesANewEpoch) {
  EXPECT_EQ(epoch_change(true, "off", "boot-a", "boot-b"), "");
  EXPECT_EQ(epoch_change(false, "always", "boot-a", "boot-b"), "");
  EXPECT_EQ(epoch_change(false, "batch", "boot-a", "boot-a"), "");  // kill -9: page cache kept
  EXPECT_NE(epoch_change(false, "batch", "boot-a", "boot-b"), "");
  EXPECT_NE(epoch_change(false, "off", "boot-a", "boot-b"), "");
  EXPECT_NE(epoch_change(false, "off", "", ""), "");  // no boot id to compare: assume lost
}

TEST(DataDir, KeepsItsEpochAcrossCleanAndKilledStops) {
  TempDir tmp;
  std::uint64_t epoch = 0;
  {
    DataDir dir(tmp.path, FsyncMode::batch, 111);
    epoch = dir.epoch();
    EXPECT_EQ(epoch, 111u);
    dir.close_clean();
  }
  {
    DataDir dir(tmp.path, FsyncMode::batch, 222);
    EXPECT_EQ(dir.epoch(), epoch);
    EXPECT_EQ(dir.epoch_note(), "");
    // Not closed clean: as after kill -9, on the same boot.
  }
  DataDir dir(tmp.path, FsyncMode::off, 333);
  EXPECT_EQ(dir.epoch(), epoch);
}

TEST(DataDir, OneProcessAtATime) {
  TempDir tmp;
  DataDir first(tmp.path, FsyncMode::batch, 1);
  EXPECT_THROW(DataDir(tmp.path, FsyncMode::batch, 2), DataDirError);
}

TEST(LmdbJournal, KeepsEachRoomsLastMessagesAndLastSeq) {
  TempDir tmp;
  DataDir dir(tmp.path, FsyncMode::always, 1);
  std::vector<std::string> errors;
  write_all(dir, "/a", 1, 50, 5, &errors);
  write_all(dir, "/a/b", 1, 3, 5);  // a room whose name extends another's
  write_all(dir, "/none", 1, 4, 0);
  EXPECT_EQ(errors, std::vector<std::string>(50, ""));
  asio::io_context io;
  std::mutex hub;
  LmdbJournal journal(dir, io, hub);
  Journal::Stored a = journal.load("/a", 5);
  EXPECT_EQ(a.last_seq, 50u);
  ASSERT_EQ(a.messages.size(), 5u);
  EXPECT_EQ(a.messages.front().seq, 46u);
  EXPECT_EQ(a.messages.front().ms, 460);
  EXPECT_EQ(a.messages.front().envelope, "m46");
  EXPECT_EQ(a.messages.back().seq, 50u);
  EXPECT_EQ(journal.load("/a", 2).messages.size(), 2u);  // a smaller history reads less
  EXPECT_EQ(journal.load("/a/b", 5).messages.size(), 3u);
  Journal::Stored none = journal.load("/none", 5);
  EXPECT_EQ(none.last_seq, 4u);  // the seq is kept without history
  EXPECT_TRUE(none.messages.empty());
  EXPECT_EQ(journal.load("/never", 5).last_seq, 0u);
  // A smaller history the next time: the older messages go with the next write.
  write_all(dir, "/a", 51, 51, 2);
  EXPECT_EQ(journal.load("/a", 100).messages.size(), 2u);
}

TEST(LmdbJournal, TrimDropsARoomsMessagesBeforeASeqAndKeepsItsSeq) {
  TempDir tmp;
  DataDir dir(tmp.path, FsyncMode::off, 1);
  write_all(dir, "/a", 1, 10, 100);
  auto journal = commit(dir, [](LmdbJournal& j) { j.trim("/a", 8); });
  Journal::Stored a = journal->load("/a", 100);
  EXPECT_EQ(a.last_seq, 10u);
  ASSERT_EQ(a.messages.size(), 3u);
  EXPECT_EQ(a.messages.front().seq, 8u);
}

TEST(LmdbJournal, KeepsIdempotencyKeysByTimeAndForgetsThoseOutOfTheWindow) {
  TempDir tmp;
  DataDir dir(tmp.path, FsyncMode::off, 1);
  write_all(dir, "/a", 1, 5, 10);  // keys k1, k3, k5 at 10, 30, 50 ms
  asio::io_context io;
  std::mutex hub;
  LmdbJournal journal(dir, io, hub);
  std::vector<Journal::Key> const keys = journal.keys(20);
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].room, "/a");
  EXPECT_EQ(keys[0].key, "k3");
  EXPECT_EQ(keys[0].seq, 3u);
  EXPECT_EQ(keys[0].ms, 30);
  EXPECT_EQ(keys[1].key, "k5");
  // A journal with a window deletes keys older than it with its next commit (these,
  // written at 10..50 ms after 1970, all are).
  auto windowed = commit(
      dir, [](LmdbJournal& j) { j.trim("/a", 1); }, 60000);
  EXPECT_TRUE(windowed->keys(0).empty());
}

TEST(LmdbJournal, EraseEmptiesARoomAndKeepsItsNewEpoch) {
  TempDir tmp;
  DataDir dir(tmp.path, FsyncMode::off, 1);
  write_all(dir, "/a", 1, 10, 100);
  write_all(dir, "/ab", 1, 2, 100);
  auto j = commit(dir, [](LmdbJournal& journal) { journal.erase("/a", 777); });
  LmdbJournal& journal = *j;
  Journal::Stored a = journal.load("/a", 100);
  EXPECT_EQ(a.last_seq, 0u);
  EXPECT_TRUE(a.messages.empty());
  EXPECT_EQ(a.epoch, 777u);
  write_all(dir, "/a", 1, 1, 100);  // the next publish keeps the room's epoch
  EXPECT_EQ(journal.load("/a", 100).epoch, 777u);
  EXPECT_EQ(journal.load("/a", 100).last_seq, 1u);
  EXPECT_EQ(journal.load("/ab", 100).messages.size(), 2u);  // another room's untouched
  EXPECT_EQ(journal.load("/ab", 100).epoch, 0u);
}
