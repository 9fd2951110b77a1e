#include "common/duration.hpp"

#include <cmath>
#include <cstdlib>

namespace wspush {
namespace {

struct Unit {
  std::string_view suffix;
  double micros;
};

// Longest suffixes first so that "ms" is not read as "m" + garbage.
constexpr Unit kUnits[] = {
    {"us", 1.0}, {"ms", 1e3}, {"s", 1e6}, {"m", 60e6}, {"h", 3600e6},
};

}  // namespace

DurationParse parse_duration(std::string_view text) {
  DurationParse out;
  size_t digits = 0;
  while (digits < text.size() &&
         ((text[digits] >= '0' && text[digits] <= '9') || text[digits] == '.')) {
    ++digits;
  }
  std::string_view number = text.substr(0, digits);
  std::string_view suffix = text.substr(digits);
  if (number.empty() || number == "." || number.find('.') != number.rfind('.')) {
    out.error = "invalid duration '" + std::string(text) +
                "': expected a number with a unit, e.g. 200ms, 1s, 1.5s, 2m";
    return out;
  }
  if (suffix.empty()) {
    out.error = "invalid duration '" + std::string(text) + "': missing unit (us, ms, s, m or h)";
    return out;
  }
  for (Unit const& unit : kUnits) {
    if (suffix != unit.suffix) continue;
    double const micros = std::strtod(std::string(number).c_str(), nullptr) * unit.micros;
    if (!std::isfinite(micros) || micros > 1e15) {
      out.error = "invalid duration '" + std::string(text) + "': too large";
      return out;
    }
    out.value = Duration(static_cast<Duration::rep>(std::llround(micros)));
    return out;
  }
  out.error = "invalid duration '" + std::string(text) + "': unknown unit '" + std::string(suffix) +
              "' (use us, ms, s, m or h)";
  return out;
}

std::string check_duration(std::string_view text, Duration minimum) {
  DurationParse const parsed = parse_duration(text);
  if (!parsed.value) return parsed.error;
  if (*parsed.value < minimum) return "must be at least " + format_duration(minimum);
  return {};
}

long whole_millis(Duration d) {
  return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

std::string format_duration(Duration d) {
  auto const us = d.count();
  if (us % 3600000000LL == 0 && us != 0) return std::to_string(us / 3600000000LL) + "h";
  if (us % 60000000LL == 0 && us != 0) return std::to_string(us / 60000000LL) + "m";
  if (us % 1000000LL == 0) return std::to_string(us / 1000000LL) + "s";
  if (us % 1000LL == 0) return std::to_string(us / 1000LL) + "ms";
  return std::to_string(us) + "us";
}

}  // namespace wspush
