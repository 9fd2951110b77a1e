// Durations as written on the command line: a decimal number followed by a unit
// (us, ms, s, m, h), e.g. "200ms", "1s", "1.5s", "2m". A bare number is refused so
// that "--interval 5" cannot silently mean 5 µs or 5 hours.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace wspush {

using Duration = std::chrono::microseconds;
using SteadyTime = std::chrono::steady_clock::time_point;

struct DurationParse {
  std::optional<Duration> value;  // set on success
  std::string error;              // why it failed, otherwise empty
};

DurationParse parse_duration(std::string_view text);

// The inverse, for --help defaults and logs: "1s", "250ms", "1500us".
std::string format_duration(Duration d);

// Why `text` is not a duration of at least `minimum`; empty when it is.
std::string check_duration(std::string_view text, Duration minimum);

// Whole milliseconds, for APIs that count in them (websocketpp's timeouts).
long whole_millis(Duration d);

}  // namespace wspush
