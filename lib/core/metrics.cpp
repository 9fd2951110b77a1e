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

std::uint64_t Metrics::total(Counter LoopCounters::*counter) const {
  std::uint64_t n = 0;
  for (auto const& l : loops_) n += ((*l).*counter).get();
  return n;
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
