// What other threads hand a loop (Deliveries, in Hub order): filled from any thread,
// carried out on the loop's. One post wakes the loop however many items arrive before it
// runs.
//
// Threading: push(), take() and depth() from any thread.
#pragma once

#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <functional>
#include <mutex>
#include <vector>

namespace wspush {

template <typename T>
class Inbox {
 public:
  // `ready` runs on `io`'s thread after items arrived (it takes them).
  Inbox(asio::io_context& io, std::function<void()> ready) : io_(io), ready_(std::move(ready)) {}

  void push(T item) {
    std::lock_guard<std::mutex> lock(mutex_);
    items_.push_back(std::move(item));
    if (posted_) return;
    posted_ = true;
    asio::post(io_, [this] {
      {
        std::lock_guard<std::mutex> posted(mutex_);
        posted_ = false;
      }
      ready_();
    });
  }
  // Everything queued so far, oldest first; swapped out with `into` (cleared first), so
  // the vectors' memory is reused.
  void take(std::vector<T>& into) {
    into.clear();
    std::lock_guard<std::mutex> lock(mutex_);
    into.swap(items_);
  }
  std::size_t depth() {
    std::lock_guard<std::mutex> lock(mutex_);
    return items_.size();
  }

 private:
  asio::io_context& io_;
  std::function<void()> ready_;
  std::mutex mutex_;
  std::vector<T> items_;
  bool posted_ = false;
};

}  // namespace wspush
