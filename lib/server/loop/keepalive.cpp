#include "server/loop/keepalive.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/frame_reader.hpp"

namespace wspush {

Duration KeepaliveSweep::period() const {
  Duration shortest = std::chrono::seconds(1);
  for (Duration d : {limits_.ping_interval, limits_.pong_timeout, limits_.idle_timeout}) {
    if (d > Duration::zero()) shortest = std::min(shortest, d / 4);
  }
  return std::max<Duration>(shortest, std::chrono::milliseconds(10));
}

void KeepaliveSweep::look(Member& member, std::int64_t& expires_at, std::uint32_t now_ms,
                          std::int64_t unix_now) {
  if (expires_at != 0 && expires_at <= unix_now) {
    expires_at = 0;
    counters_.tokens_expired.add();
    member.close(kClosePolicy, "token expired");
    return;
  }
  switch (member.keepalive(now_ms)) {
    case Member::Keepalive::nothing:
      break;
    case Member::Keepalive::pinged:
      counters_.pings_sent.add();
      break;
    case Member::Keepalive::ping_timeout:
      counters_.ping_timeouts.add();
      spdlog::info("session from {}: ping timeout", member.remote());
      break;
    case Member::Keepalive::idle:
      counters_.idle_timeouts.add();
      break;
  }
}

}  // namespace wspush
