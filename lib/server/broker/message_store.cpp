#include "server/broker/message_store.hpp"

#include <chrono>
#include <stdexcept>

#include "core/redis_url.hpp"
#include "process/log.hpp"

namespace wspush {
namespace {

// A new epoch per process: in-memory streams do not survive a restart.
std::uint64_t fresh_epoch() {
  return static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch() /
                                    std::chrono::microseconds(1));
}

// Idempotency keys one node remembers at most (README "Idempotent publishing"): about
// 200 MB at 200 bytes a key; the oldest go early beyond it.
constexpr std::size_t kMaxKeys = 1'000'000;

}  // namespace

MessageStore::MessageStore(ServeSettings const& settings, asio::io_context& io,
                           std::mutex& hub_mutex) {
  std::int64_t const window_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(settings.idempotency_window).count();
  if (!settings.data.dir.empty()) {
    if (!settings.broker.empty()) {
      throw std::invalid_argument(
          "--data-dir excludes --broker: with a broker, Redis keeps the history");
    }
    data_dir_ = std::make_unique<DataDir>(settings.data.dir, settings.data.fsync, fresh_epoch());
    if (!data_dir_->epoch_note().empty()) spdlog::warn("data dir: {}", data_dir_->epoch_note());
    journal_ = std::make_unique<LmdbJournal>(*data_dir_, io, hub_mutex, window_ms);
    spdlog::info("data dir: history kept in {} (epoch {})", settings.data.dir, data_dir_->epoch());
    auto memory = std::make_unique<InMemoryBroker>(*journal_);
    memory->keep_keys(window_ms, kMaxKeys);
    broker_ = std::move(memory);
    return;
  }
  if (settings.broker.empty()) {
    auto memory = std::make_unique<InMemoryBroker>(fresh_epoch());
    memory->keep_keys(window_ms, kMaxKeys);
    broker_ = std::move(memory);
    return;
  }
  auto const parsed = parse_redis_url(settings.broker);
  if (auto const* error = std::get_if<std::string>(&parsed)) throw std::invalid_argument(*error);
  auto const& address = std::get<RedisAddress>(parsed);
  if (address.sentinels.empty()) {
    spdlog::info("broker: rooms shared through redis {}:{}", address.host, address.port);
  } else {
    spdlog::info("broker: rooms shared through the redis primary '{}' that {} sentinel(s) name",
                 address.master, address.sentinels.size());
  }
  auto redis = std::make_unique<RedisBroker>(io, address, hub_mutex, fresh_epoch());
  redis->keep_keys(window_ms, kMaxKeys);
  redis_ = redis.get();
  broker_ = std::move(redis);
}

void MessageStore::close() {
  if (journal_) journal_->close();
}

}  // namespace wspush
