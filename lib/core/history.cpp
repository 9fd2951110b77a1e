#include "core/history.hpp"

#include <chrono>

namespace wspush {

std::int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

History::History(std::size_t capacity) : ring_(capacity) {}

void History::append(std::uint64_t seq, Payload message, std::int64_t ms) {
  if (ring_.empty()) return;
  ring_[next_] = Entry{seq, std::move(message), nullptr, ms};
  next_ = (next_ + 1) % ring_.size();
  if (size_ < ring_.size()) ++size_;
}

void History::keep_deflated(std::uint64_t seq, Payload deflated) {
  auto const first = first_seq();
  if (!first || seq < *first || seq - *first >= size_) return;
  std::size_t const start = (next_ + ring_.size() - size_) % ring_.size();
  Entry& e = ring_[(start + (seq - *first)) % ring_.size()];
  if (e.seq == seq) e.deflated = std::move(deflated);
}

std::size_t History::expire(std::int64_t before_ms) {
  std::size_t gone = 0;
  while (size_ > 0) {
    Entry& oldest = ring_[(next_ + ring_.size() - size_) % ring_.size()];
    if (oldest.ms >= before_ms) break;
    oldest = Entry{};  // its buffers go now, not when the ring comes round
    --size_;
    ++gone;
  }
  return gone;
}

std::optional<std::uint64_t> History::first_seq() const {
  if (size_ == 0) return std::nullopt;
  return ring_[(next_ + ring_.size() - size_) % ring_.size()].seq;
}

History::Replay History::after(std::uint64_t since, std::uint64_t last_seq) const {
  Replay r;
  if (since > last_seq) {
    // The client saw more than this room ever sent: the stream was reset (e.g. a
    // server restart without a broker). Everything held is new to it.
    r.complete = false;
    since = 0;
  } else if (since == last_seq) {
    return r;  // up to date
  }
  auto const first = first_seq();
  if (!first || *first > since + 1) r.complete = false;
  std::size_t const start = (next_ + ring_.size() - size_) % (ring_.empty() ? 1 : ring_.size());
  for (std::size_t i = 0; i < size_; ++i) {
    Entry const& e = ring_[(start + i) % ring_.size()];
    if (e.seq > since) {
      r.messages.push_back(e.message);
      r.deflated.push_back(e.deflated);
    }
  }
  return r;
}

}  // namespace wspush
