// Timestamps on the wire: ISO 8601 UTC with microseconds and a 'Z', as the
// reference server prints them ("2026-11-28T01:02:06.227639Z").
#pragma once

#include <chrono>
#include <string>

namespace wspush {

std::string iso8601_utc(std::chrono::system_clock::time_point t);

// Wall-clock source, injected so that protocol tests see fixed times.
class WallClock {
 public:
  virtual ~WallClock() = default;
  virtual std::chrono::system_clock::time_point now() const = 0;
};

class SystemWallClock final : public WallClock {
 public:
  std::chrono::system_clock::time_point now() const override {
    return std::chrono::system_clock::now();
  }
};

}  // namespace wspush
