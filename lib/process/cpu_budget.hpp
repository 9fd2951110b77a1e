// How many CPUs this process may use, for the default number of event loops (as Go's
// runtime and the JVM decide in containers): the CPUs in its affinity mask
// (`taskset`, cpusets) and its cgroup's CPU quota (cgroup v2 `cpu.max`, v1
// `cpu.cfs_quota_us` / `cpu.cfs_period_us`), the tightest quota on the way from its
// cgroup up to the root. A quota of 1.5 CPUs gives 2 loops; no quota, the affinity alone.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace wspush {

struct CpuBudget {
  std::size_t affinity = 1;     // CPUs in the affinity mask
  std::optional<double> quota;  // CPUs' worth of time the cgroup allows; nullopt: no limit
  std::size_t loops() const;    // max(1, min(affinity, ceil(quota)))
  std::string describe() const;
};

// What the running process may use; `cgroup_root` is where cgroups are mounted.
CpuBudget read_cpu_budget(std::string const& cgroup_root = "/sys/fs/cgroup");

// The pieces, pure (for tests):
// cgroup v2 `cpu.max` ("max 100000", "150000 100000"): CPUs, or nullopt for no limit.
std::optional<double> parse_cpu_max(std::string_view text);
// cgroup v1 quota and period in µs (quota -1: no limit).
std::optional<double> parse_cfs(std::string_view quota_us, std::string_view period_us);
// The process's cgroup path from /proc/self/cgroup: the v2 line ("0::/a/b") when
// `controller` is empty, else the v1 line whose controller list holds it ("4:cpu,cpuacct:/a").
std::optional<std::string> cgroup_path(std::string_view proc_self_cgroup,
                                       std::string_view controller);

}  // namespace wspush
