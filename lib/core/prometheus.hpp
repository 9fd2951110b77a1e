// GET /metrics: the server's counters in the Prometheus text exposition format
// (version 0.0.4), read from the per-loop blocks and summed at scrape time.
#pragma once

#include <string>

#include "core/metrics.hpp"

namespace wspush {

inline constexpr const char* kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

// `sessions_open` and `rooms` are gauges the caller reads from the Hub.
std::string prometheus_text(Metrics const& metrics, std::uint64_t sessions_open,
                            std::uint64_t rooms);

}  // namespace wspush
