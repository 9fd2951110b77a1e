#include "core/limits.hpp"

#include <algorithm>
#include <cmath>

namespace wspush {
namespace {

Refusal busy(Reason reason, std::string text, Duration retry_after) {
  return Refusal{reason, std::move(text), std::max<Duration>(retry_after, std::chrono::seconds(1))};
}

}  // namespace

std::string const* ConnectionCounts::add(std::string const& address) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++total_;
  auto const it = by_address_.try_emplace(address, 0).first;
  ++it->second;
  return &it->first;
}

void ConnectionCounts::remove(std::string const* address) {
  if (!address) return;
  std::lock_guard<std::mutex> lock(mutex_);
  auto const it = by_address_.find(*address);
  if (it == by_address_.end()) return;
  --total_;
  if (--it->second == 0) by_address_.erase(it);
}

std::size_t ConnectionCounts::total() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return total_;
}

std::size_t ConnectionCounts::of(std::string const& address) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto const it = by_address_.find(address);
  return it == by_address_.end() ? 0 : it->second;
}

std::optional<Refusal> ConnectionLimitCheck::check(HandshakeRequest const& request) const {
  if (max_total_ && counts_.total() >= max_total_) {
    return busy(Reason::max_connections,
                "the server is at its limit of " + std::to_string(max_total_) + " connections",
                std::chrono::seconds(5));
  }
  if (max_per_address_ && counts_.of(std::string(request.peer)) >= max_per_address_) {
    return busy(
        Reason::max_connections_per_ip,
        "this address is at its limit of " + std::to_string(max_per_address_) + " connections",
        std::chrono::seconds(5));
  }
  return std::nullopt;
}

TokenBucket::TokenBucket(double rate, double burst, SteadyTime now)
    : rate_(rate), burst_(burst), tokens_(burst), last_(now) {}

void TokenBucket::refill(SteadyTime now) {
  double const seconds = std::chrono::duration<double>(now - last_).count();
  if (seconds > 0) {
    tokens_ = std::min(burst_, tokens_ + seconds * rate_);
    last_ = now;
  }
}

bool TokenBucket::take(SteadyTime now) {
  refill(now);
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

Duration TokenBucket::wait(SteadyTime now) {
  refill(now);
  if (tokens_ >= 1 || rate_ <= 0) return Duration::zero();
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>((1 - tokens_) / rate_));
}

HandshakeRateCheck::HandshakeRateCheck(double rate, std::function<SteadyTime()> clock)
    : rate_(rate), clock_(std::move(clock)), bucket_(rate, 2 * rate, clock_()) {}

std::optional<Refusal> HandshakeRateCheck::check(HandshakeRequest const&) const {
  if (rate_ <= 0) return std::nullopt;
  SteadyTime const now = clock_();
  Duration wait;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (bucket_.take(now)) return std::nullopt;
    wait = bucket_.wait(now);
  }
  return busy(Reason::handshake_rate, "too many connections at once: retry shortly", wait);
}

std::optional<Refusal> PathLengthCheck::check(HandshakeRequest const& request) const {
  std::string_view const path = room_path_of(request.resource);
  if (max_ == 0 || path.size() <= max_) return std::nullopt;
  return Refusal{Reason::path_too_long, "path of " + std::to_string(path.size()) +
                                            " bytes: at most " + std::to_string(max_)};
}

}  // namespace wspush
