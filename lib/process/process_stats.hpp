// What /metrics says about the process itself, read from /proc on each scrape:
// CPU time, resident memory, open descriptors and their limit, start time. `wspush
// bench --server-pid` reads the same figures of another process.
#pragma once

#include <cstdint>
#include <optional>

namespace wspush {

struct ProcessStats {
  double cpu_seconds = 0;  // user + system
  std::uint64_t resident_bytes = 0;
  std::uint64_t open_fds = 0;
  std::uint64_t max_fds = 0;
  double start_time_seconds = 0;  // since the Unix epoch
};

// The calling process's figures; a field it cannot read stays 0.
ProcessStats read_process_stats();

// Another process's, by PID (max_fds is this process's limit, not its); nullopt when
// there is no such process (or /proc does not show it).
std::optional<ProcessStats> read_process_stats(int pid);

// Another process's CPU time to the nanosecond: the sum of its threads' run time
// (/proc/PID/task/*/schedstat), where /proc/PID/stat counts 10 ms ticks. Threads that
// ended are not in it, so only differences over a span in which none ends mean
// anything (`wspush bench --server-pid`); nullopt when the kernel does not keep it.
std::optional<double> thread_cpu_seconds(int pid);

}  // namespace wspush
