// The Hub (rooms, seq, history) shared by every event loop under one mutex, held to
// decide and queue, never while writing to a socket: each call into the Hub from any
// thread goes through run().
//
// The Hub and the loops call each other (it delivers through them, they hand it what
// their sessions say): the SharedHub is made first, empty, for the loops to hold, and
// the Hub is attached once it is built (push_server.cpp), before any loop runs.
#pragma once

#include <cassert>
#include <mutex>

#include "core/hub.hpp"

namespace wspush {

class SharedHub {
 public:
  SharedHub() = default;
  SharedHub(SharedHub const&) = delete;
  SharedHub& operator=(SharedHub const&) = delete;

  // Once, before any run().
  void attach(Hub& hub) { hub_ = &hub; }

  template <typename Fn>
  decltype(auto) run(Fn&& fn) {
    assert(hub_ != nullptr);
    std::lock_guard<std::mutex> lock(mutex_);
    return fn(*hub_);
  }
  // The broker takes it too, for what Redis answers.
  std::mutex& mutex() { return mutex_; }

 private:
  Hub* hub_ = nullptr;
  std::mutex mutex_;
};

}  // namespace wspush
