#include "server/loop/tickers.hpp"

#include <asio/post.hpp>

#include "core/ticker.hpp"

namespace wspush {

Tickers::Ticker::Ticker(asio::io_context& io, Duration every)
    : timer(io), interval(every), start(std::chrono::steady_clock::now()) {}

void Tickers::start_ticker(std::string const& room_path, Duration interval) {
  asio::post(io_, [this, room_path, interval] {
    auto ticker = std::make_shared<Ticker>(io_, interval);
    tickers_[room_path] = ticker;
    arm(room_path, ticker);
  });
}

void Tickers::stop_ticker(std::string const& room_path) {
  asio::post(io_, [this, room_path] {
    auto const it = tickers_.find(room_path);
    if (it == tickers_.end()) return;
    it->second->stopped = true;
    it->second->timer.cancel();
    tickers_.erase(it);
  });
}

void Tickers::stop_all() {
  for (auto& [path, ticker] : tickers_) {
    ticker->stopped = true;
    ticker->timer.cancel();
  }
  tickers_.clear();
}

void Tickers::arm(std::string const& room_path, std::shared_ptr<Ticker> const& ticker) {
  ticker->timer.expires_at(
      next_tick(ticker->start, ticker->interval, std::chrono::steady_clock::now()));
  // The handler owns the ticker, so a stop while it is queued cannot dangle.
  ticker->timer.async_wait([this, room_path, ticker](asio::error_code const& ec) {
    if (ec || ticker->stopped) return;
    hub_.run([&](Hub& hub) { hub.tick(room_path); });
    arm(room_path, ticker);
  });
}

}  // namespace wspush
