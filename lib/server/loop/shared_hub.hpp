// The Hub (rooms, seq, history) shared by every event loop under one mutex, held to
// decide and queue, never while writing to a socket: each call into the Hub from any
// thread goes through run().
#pragma once

#include <mutex>

#include "core/hub.hpp"

namespace wspush {

class SharedHub {
 public:
  // `mutex` outlives it; the broker takes it too, for what Redis answers.
  SharedHub(Hub& hub, std::mutex& mutex) : hub_(hub), mutex_(mutex) {}
  template <typename Fn>
  decltype(auto) run(Fn&& fn) {
    std::lock_guard<std::mutex> lock(mutex_);
    return fn(hub_);
  }
  // For state that must change with the Hub's (the shards' session ids).
  std::mutex& mutex() { return mutex_; }

 private:
  Hub& hub_;
  std::mutex& mutex_;
};

}  // namespace wspush
