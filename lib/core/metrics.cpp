#include "core/metrics.hpp"

namespace wspush {

std::uint64_t RoomCounters::dropped() const {
  std::uint64_t n = 0;
  for (Slot const& s : slots_) n += s.dropped.get();
  return n;
}

std::uint64_t RoomCounters::disconnected() const {
  std::uint64_t n = 0;
  for (Slot const& s : slots_) n += s.disconnected.get();
  return n;
}

Metrics::Metrics(std::size_t loops) {
  for (std::size_t k = 0; k < (loops == 0 ? 1 : loops); ++k) {
    loops_.push_back(std::make_unique<LoopCounters>());
  }
}

Metrics::Totals Metrics::sum() const {
  Totals t;
  for (auto const& l : loops_) {
    t.sessions_opened += l->sessions_opened.get();
    t.sessions_closed += l->sessions_closed.get();
    t.frames_received += l->frames_received.get();
    t.deliveries += l->deliveries.get();
    t.bytes_queued += l->bytes_queued.get();
    t.slow_dropped += l->slow_dropped.get();
    t.slow_disconnected += l->slow_disconnected.get();
    t.pings_sent += l->pings_sent.get();
    t.ping_timeouts += l->ping_timeouts.get();
    t.idle_timeouts += l->idle_timeouts.get();
    t.tokens_expired += l->tokens_expired.get();
  }
  return t;
}

void Metrics::count_refusal(std::string_view reason) {
  std::lock_guard<std::mutex> lock(refusals_mutex_);
  auto it = refusals_.find(reason);
  if (it == refusals_.end()) it = refusals_.emplace(std::string(reason), 0).first;
  ++it->second;
}

std::map<std::string, std::uint64_t, std::less<>> Metrics::refusals() const {
  std::lock_guard<std::mutex> lock(refusals_mutex_);
  return refusals_;
}

}  // namespace wspush
