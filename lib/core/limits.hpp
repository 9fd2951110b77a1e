// Limits on who may connect (SPEC §6): how many connections in all and per address,
// how many handshakes per second (a token bucket), how long a path may be. Each is an
// AdmissionCheck that refuses with 503 + Retry-After (414 for a long path) before the
// upgrade, so a storm of reconnects is told when to come back instead of taking the
// loop down.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

#include "common/duration.hpp"
#include "core/admission.hpp"

namespace wspush {

// Sessions open, in all and per peer address. add() and remove() on any loop's thread
// (the one that accepted the connection, the one the session closed on): a mutex,
// taken once per connection and per close, never per message.
class ConnectionCounts {
 public:
  // Returns the address as kept here: stable until its last connection is removed, so
  // a session may hold the pointer instead of a copy.
  std::string const* add(std::string const& address);
  void remove(std::string const* address);
  std::size_t total() const;
  std::size_t of(std::string const& address) const;

 private:
  mutable std::mutex mutex_;
  std::size_t total_ = 0;
  std::unordered_map<std::string, std::size_t> by_address_;
};

class ConnectionLimitCheck final : public AdmissionCheck {
 public:
  // 0: no limit.
  ConnectionLimitCheck(ConnectionCounts const& counts, std::size_t max_total,
                       std::size_t max_per_address)
      : counts_(counts), max_total_(max_total), max_per_address_(max_per_address) {}
  std::optional<Refusal> check(HandshakeRequest const& request) const override;

 private:
  ConnectionCounts const& counts_;
  std::size_t max_total_;
  std::size_t max_per_address_;
};

// `rate` tokens a second, at most `burst` saved up. Single-threaded.
class TokenBucket {
 public:
  TokenBucket(double rate, double burst, SteadyTime now);
  bool take(SteadyTime now);
  // How long until a token is there (zero when one is).
  Duration wait(SteadyTime now);

 private:
  void refill(SteadyTime now);
  double rate_;
  double burst_;
  double tokens_;
  SteadyTime last_;
};

// One bucket for the whole server, whichever loop the handshake came to: a mutex, taken
// once per handshake.
class HandshakeRateCheck final : public AdmissionCheck {
 public:
  // `rate` handshakes a second (0: no limit), bursts of twice that.
  HandshakeRateCheck(double rate, std::function<SteadyTime()> clock);
  std::optional<Refusal> check(HandshakeRequest const& request) const override;

 private:
  double rate_;
  std::function<SteadyTime()> clock_;
  mutable std::mutex mutex_;
  mutable TokenBucket bucket_;
};

class PathLengthCheck final : public AdmissionCheck {
 public:
  explicit PathLengthCheck(std::size_t max) : max_(max) {}
  std::optional<Refusal> check(HandshakeRequest const& request) const override;

 private:
  std::size_t max_;
};

}  // namespace wspush
