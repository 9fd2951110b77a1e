// The loop's periodic look at every session (one timer per loop, no timer per session:
// an idle connection costs no more for having deadlines): a quiet peer is pinged, one
// that does not answer within --pong-timeout is closed with 4009, one idle past
// --idle-timeout with 4010, one whose token's exp has passed with 1008 "token expired".
// The shard runs the timer and calls look() on each session.
//
// Threading: the loop's thread.
#pragma once

#include <cstdint>

#include "core/metrics.hpp"
#include "server/loop/member.hpp"
#include "server/settings.hpp"

namespace wspush {

class KeepaliveSweep {
 public:
  KeepaliveSweep(ConnectionLimits const& limits, LoopCounters& counters)
      : limits_(limits), counters_(counters) {}

  // How often the loop looks: a quarter of the shortest of the ping interval, the pong
  // timeout and the idle timeout, from 10 ms to 1 s.
  Duration period() const;
  // One look at `member`: `now_ms` the loop's clock, `unix_now` the wall clock;
  // `expires_at` its token's exp (Unix seconds, 0: none), set to 0 once acted on.
  void look(Member& member, std::int64_t& expires_at, std::uint32_t now_ms, std::int64_t unix_now);

 private:
  ConnectionLimits const& limits_;
  LoopCounters& counters_;
};

}  // namespace wspush
