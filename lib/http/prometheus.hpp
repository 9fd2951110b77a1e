// GET /metrics: the server's figures in the Prometheus text exposition format
// (version 0.0.4). Counters are read from the per-loop blocks and summed at scrape
// time; the Hub's counts and gauges, the loops' inbox depths and the process's own
// figures are gathered by the caller into a Scrape.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/hub.hpp"
#include "core/metrics.hpp"
#include "process/process_stats.hpp"

namespace wspush {

inline constexpr const char* kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

// The Redis broker's state (--broker), as numbers.
struct BrokerScrape {
  bool up = false;
  std::uint64_t connects = 0;
  std::uint64_t stream_reads = 0;
  std::uint64_t lost = 0;
  std::uint64_t publish_refused = 0;
};

struct Scrape {
  std::uint64_t sessions_open = 0;
  std::uint64_t rooms = 0;
  Hub::Counts hub;
  std::vector<std::size_t> inbox_depths;  // one per loop
  bool draining = false;
  ProcessStats process;
  std::optional<BrokerScrape> broker;  // with --broker only
};

std::string prometheus_text(Metrics const& metrics, Scrape const& scrape);

}  // namespace wspush
