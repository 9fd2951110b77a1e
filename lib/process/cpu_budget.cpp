#include "process/cpu_budget.hpp"

#include <sched.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

namespace wspush {
namespace {

std::string read_text(std::string const& path) {
  std::ifstream in(path);
  if (!in) return {};
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::optional<double> number(std::string_view text) {
  std::string const s(text);
  char* end = nullptr;
  double const v = std::strtod(s.c_str(), &end);
  if (end == s.c_str()) return std::nullopt;
  return v;
}

void tighten(std::optional<double>& quota, std::optional<double> found) {
  if (found && (!quota || *found < *quota)) quota = found;
}

// `path` and each of its parents up to the root, under `dir`.
template <typename Read>
void each_level(std::string dir, std::string path, Read&& read) {
  while (true) {
    read(dir + (path == "/" ? "" : path));
    if (path.empty() || path == "/") return;
    std::size_t const slash = path.rfind('/');
    path = slash == 0 ? "/" : path.substr(0, slash);
  }
}

}  // namespace

std::size_t CpuBudget::loops() const {
  std::size_t n = affinity == 0 ? 1 : affinity;
  if (quota) n = std::min(n, static_cast<std::size_t>(std::ceil(*quota - 1e-9)));
  return std::max<std::size_t>(1, n);
}

std::string CpuBudget::describe() const {
  std::string text = std::to_string(affinity) + " in the affinity mask";
  if (quota) {
    std::ostringstream q;
    q << *quota;
    text += ", a cgroup quota of " + q.str();
  }
  return text;
}

std::optional<double> parse_cpu_max(std::string_view text) {
  std::istringstream in{std::string(text)};
  std::string quota, period;
  if (!(in >> quota >> period) || quota == "max") return std::nullopt;
  auto const q = number(quota);
  auto const p = number(period);
  if (!q || !p || *q <= 0 || *p <= 0) return std::nullopt;
  return *q / *p;
}

std::optional<double> parse_cfs(std::string_view quota_us, std::string_view period_us) {
  auto const q = number(quota_us);
  auto const p = number(period_us);
  if (!q || !p || *q <= 0 || *p <= 0) return std::nullopt;
  return *q / *p;
}

std::optional<std::string> cgroup_path(std::string_view proc_self_cgroup,
                                       std::string_view controller) {
  std::istringstream in{std::string(proc_self_cgroup)};
  std::string line;
  while (std::getline(in, line)) {
    std::size_t const a = line.find(':');
    std::size_t const b = a == std::string::npos ? a : line.find(':', a + 1);
    if (b == std::string::npos) continue;
    std::string const list = line.substr(a + 1, b - a - 1);
    std::string const path = line.substr(b + 1);
    if (controller.empty()) {
      if (line.compare(0, a, "0") == 0 && list.empty()) return path;
      continue;
    }
    std::istringstream names(list);
    std::string name;
    while (std::getline(names, name, ',')) {
      if (name == controller) return path;
    }
  }
  return std::nullopt;
}

CpuBudget read_cpu_budget(std::string const& cgroup_root) {
  CpuBudget budget;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    budget.affinity = static_cast<std::size_t>(CPU_COUNT(&set));
  }
  std::string const cgroups = read_text("/proc/self/cgroup");
  if (auto const v2 = cgroup_path(cgroups, "")) {
    each_level(cgroup_root, *v2, [&](std::string const& dir) {
      tighten(budget.quota, parse_cpu_max(read_text(dir + "/cpu.max")));
    });
  }
  if (auto const v1 = cgroup_path(cgroups, "cpu")) {
    for (char const* mount : {"/cpu", "/cpu,cpuacct", "/cpuacct,cpu"}) {
      each_level(cgroup_root + mount, *v1, [&](std::string const& dir) {
        tighten(budget.quota, parse_cfs(read_text(dir + "/cpu.cfs_quota_us"),
                                        read_text(dir + "/cpu.cfs_period_us")));
      });
    }
  }
  return budget;
}

}  // namespace wspush
