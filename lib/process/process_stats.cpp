#include "process/process_stats.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace wspush {
namespace {

std::uint64_t count_fds(std::string const& proc) {
  DIR* dir = opendir((proc + "/fd").c_str());
  if (dir == nullptr) return 0;
  std::uint64_t n = 0;
  while (dirent const* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++n;
  }
  closedir(dir);
  return n > 0 ? n - 1 : 0;  // not the descriptor of the listing itself
}

// The figures under `proc` (/proc/self or /proc/PID); nullopt if its stat is unreadable.
std::optional<ProcessStats> read_from(std::string const& proc) {
  ProcessStats stats;
  double const ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  std::ifstream stat_file(proc + "/stat");
  std::string line;
  if (!std::getline(stat_file, line)) return std::nullopt;
  // Fields after the command name (which may hold spaces, so from the last ')'):
  // state is field 3; utime 14, stime 15, starttime 22, rss 24 (in pages).
  std::istringstream fields(line.substr(line.rfind(')') + 2));
  std::string field;
  for (int k = 3; fields >> field; ++k) {
    if (k == 14 || k == 15) stats.cpu_seconds += std::stod(field) / ticks;
    if (k == 22) {
      struct sysinfo info {};
      sysinfo(&info);
      double const boot = static_cast<double>(time(nullptr) - info.uptime);
      stats.start_time_seconds = boot + std::stod(field) / ticks;
    }
    if (k == 24) {
      stats.resident_bytes = std::stoull(field) * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
      break;
    }
  }
  stats.open_fds = count_fds(proc);
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    stats.max_fds = limit.rlim_cur;
  }
  return stats;
}

}  // namespace

std::optional<double> thread_cpu_seconds(int pid) {
  std::string const tasks = "/proc/" + std::to_string(pid) + "/task";
  DIR* dir = opendir(tasks.c_str());
  if (dir == nullptr) return std::nullopt;
  std::uint64_t nanoseconds = 0;
  bool any = false;
  while (dirent const* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    std::ifstream schedstat(tasks + "/" + entry->d_name + "/schedstat");
    std::uint64_t on_cpu = 0;  // its first field: time on a CPU, in ns
    if (schedstat >> on_cpu) {
      nanoseconds += on_cpu;
      any = true;
    }
  }
  closedir(dir);
  if (!any) return std::nullopt;
  return static_cast<double>(nanoseconds) / 1e9;
}

ProcessStats read_process_stats() {
  return read_from("/proc/self").value_or(ProcessStats{});
}

std::optional<ProcessStats> read_process_stats(int pid) {
  return read_from("/proc/" + std::to_string(pid));
}

}  // namespace wspush
