// Where `wspush serve` keeps its rooms' messages, chosen from its settings: in memory
// (the default), in memory with a --data-dir journal (disk/), or in Redis (--broker).
//
// Threading: made and closed on the main thread; the broker is then the Hub's.
#pragma once

#include <asio/io_context.hpp>
#include <memory>
#include <mutex>

#include "core/broker.hpp"
#include "server/broker/redis_broker.hpp"
#include "server/disk/lmdb_journal.hpp"
#include "server/settings.hpp"

namespace wspush {

class MessageStore {
 public:
  // Throws std::invalid_argument (a usage error: a bad --broker, --data-dir with
  // --broker) or DataDirError. Redis and the journal run on `io`, under `hub_mutex`.
  MessageStore(ServeSettings const& settings, asio::io_context& io, std::mutex& hub_mutex);

  Broker& broker() { return *broker_; }
  RedisBroker* redis() const { return redis_; }  // the broker, when it is Redis
  // The stop, once the loops are done: the data dir is closed clean.
  void close();

 private:
  std::unique_ptr<DataDir> data_dir_;
  std::unique_ptr<LmdbJournal> journal_;
  RedisBroker* redis_ = nullptr;
  std::unique_ptr<Broker> broker_;
};

}  // namespace wspush
