#include "core/ticker.hpp"

namespace wspush {

SteadyTime next_tick(SteadyTime start, Duration interval, SteadyTime now) {
  if (interval.count() <= 0) return now;
  if (now < start) return start;
  auto const elapsed = std::chrono::duration_cast<Duration>(now - start);
  auto const periods = elapsed / interval + 1;
  return start + periods * interval;
}

}  // namespace wspush
