// A shutdown closes every session of a loop in batches spread evenly over a time, so that
// clients do not all come back at the same moment.
//
// Threading: the loop's thread.
#pragma once

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <cstddef>
#include <functional>

#include "common/duration.hpp"

namespace wspush {

class SpreadClose {
 public:
  static constexpr Duration kEvery = std::chrono::milliseconds(10);

  explicit SpreadClose(asio::io_context& io) : timer_(io) {}
  // Sessions closed per batch, one batch every kEvery, so that `count` fit in `spread`.
  static std::size_t per_batch(std::size_t count, Duration spread);
  // Calls close(i) for every i below `count`, spread over `spread`.
  void start(std::size_t count, Duration spread, std::function<void(std::size_t)> close);

 private:
  void batch(std::size_t from);

  asio::steady_timer timer_;
  std::size_t count_ = 0;
  std::size_t per_batch_ = 1;
  std::function<void(std::size_t)> close_;
};

}  // namespace wspush
