// Ticker scheduling: when the next tick of a room is due.
#pragma once

#include <chrono>

#include "common/duration.hpp"

namespace wspush {

// Ticks stay on the grid start + k·interval, so they do not drift with timer latency.
// If the loop fell behind by more than one interval, the missed ticks are skipped
// (a ticker's newer value supersedes the older one) instead of fired in a burst.
// Returns the first grid point strictly after `now`.
SteadyTime next_tick(SteadyTime start, Duration interval, SteadyTime now);

}  // namespace wspush
