// The Timers of ticker rooms: one Asio timer per room on the first loop, on the grid
// start + k·interval (core/ticker.hpp), each expiry a Hub::tick under the Hub's lock.
//
// Threading: start/stop may be called from any thread (the Hub's caller holds its
// lock); the timers themselves live on `io`'s thread.
#pragma once

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <memory>
#include <string>
#include <unordered_map>

#include "core/outbox.hpp"
#include "server/loop/shared_hub.hpp"

namespace wspush {

class Tickers final : public Timers {
 public:
  Tickers(asio::io_context& io, SharedHub& hub) : io_(io), hub_(hub) {}
  void start_ticker(std::string const& room_path, Duration interval) override;
  void stop_ticker(std::string const& room_path) override;
  // Stops every ticker (shutdown); on `io`'s thread.
  void stop_all();

 private:
  struct Ticker {
    Ticker(asio::io_context& io, Duration every);
    asio::steady_timer timer;
    Duration interval;
    SteadyTime start;
    bool stopped = false;
  };
  void arm(std::string const& room_path, std::shared_ptr<Ticker> const& ticker);

  asio::io_context& io_;
  SharedHub& hub_;
  std::unordered_map<std::string, std::shared_ptr<Ticker>> tickers_;
};

}  // namespace wspush
