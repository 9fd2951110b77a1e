#include "server/loop/spread_close.hpp"

#include <algorithm>

namespace wspush {

std::size_t SpreadClose::per_batch(std::size_t count, Duration spread) {
  std::size_t const batches = std::max<std::size_t>(1, static_cast<std::size_t>(spread / kEvery));
  return std::max<std::size_t>(1, (count + batches - 1) / batches);
}

void SpreadClose::start(std::size_t count, Duration spread,
                        std::function<void(std::size_t)> close) {
  count_ = count;
  per_batch_ = per_batch(count, spread);
  close_ = std::move(close);
  batch(0);
}

void SpreadClose::batch(std::size_t from) {
  std::size_t const end = std::min(count_, from + per_batch_);
  for (std::size_t i = from; i < end; ++i) close_(i);
  if (end >= count_) return;
  timer_.expires_after(kEvery);
  timer_.async_wait([this, end](asio::error_code const& ec) {
    if (!ec) batch(end);
  });
}

}  // namespace wspush
