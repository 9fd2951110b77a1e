#include "common/timefmt.hpp"

#include <cstdio>
#include <ctime>

namespace wspush {

std::string iso8601_utc(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  auto const since_epoch = duration_cast<microseconds>(t.time_since_epoch());
  // Floor division so that instants before 1970 still get a non-negative fraction.
  auto secs = duration_cast<seconds>(since_epoch);
  if (secs > since_epoch) secs -= seconds(1);
  auto const micros = (since_epoch - secs).count();
  std::time_t const tt = static_cast<std::time_t>(secs.count());
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(micros));
  return buf;
}

}  // namespace wspush
