// The default number of event loops: affinity and cgroup quota, parsed from the text
// the kernel shows (and read from a cgroup tree laid out in a temporary directory).
#include "process/cpu_budget.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace wspush;

TEST(CpuBudget, CgroupV2CpuMax) {
  EXPECT_FALSE(parse_cpu_max("max 100000\n"));
  EXPECT_DOUBLE_EQ(*parse_cpu_max("200000 100000\n"), 2.0);
  EXPECT_DOUBLE_EQ(*parse_cpu_max("150000 100000"), 1.5);
  EXPECT_FALSE(parse_cpu_max(""));
  EXPECT_FALSE(parse_cpu_max("garbage"));
}

TEST(CpuBudget, CgroupV1Cfs) {
  EXPECT_FALSE(parse_cfs("-1\n", "100000\n"));
  EXPECT_DOUBLE_EQ(*parse_cfs("50000\n", "100000\n"), 0.5);
  EXPECT_FALSE(parse_cfs("", ""));
}

TEST(CpuBudget, CgroupPathsV1AndV2) {
  std::string const hybrid = "4:memory:/m\n3:cpu,cpuacct:/docker/abc\n0::/user.slice\n";
  EXPECT_EQ(*cgroup_path(hybrid, ""), "/user.slice");
  EXPECT_EQ(*cgroup_path(hybrid, "cpu"), "/docker/abc");
  EXPECT_EQ(*cgroup_path(hybrid, "cpuacct"), "/docker/abc");
  EXPECT_FALSE(cgroup_path("4:memory:/m\n", "cpu"));
  EXPECT_FALSE(cgroup_path("4:memory:/m\n", ""));
}

TEST(CpuBudget, LoopsAreTheTighterOfAffinityAndQuotaRoundedUp) {
  EXPECT_EQ((CpuBudget{64, 2.0}).loops(), 2u);          // a 2-CPU container on a 64-core host
  EXPECT_EQ((CpuBudget{64, 1.5}).loops(), 2u);          // part of a CPU still needs a loop
  EXPECT_EQ((CpuBudget{1, std::nullopt}).loops(), 1u);  // taskset -c 1
  EXPECT_EQ((CpuBudget{4, 0.25}).loops(), 1u);
  EXPECT_EQ((CpuBudget{2, 8.0}).loops(), 2u);
  EXPECT_EQ((CpuBudget{0, std::nullopt}).loops(), 1u);
}

TEST(CpuBudget, TheTightestQuotaOnThePathToTheRootCounts) {
  // A fake cgroup root with quotas at two levels of this process's own cgroup path.
  namespace fs = std::filesystem;
  fs::path const root = fs::temp_directory_path() / ("wspush-cg-" + std::to_string(getpid()));
  std::ifstream self("/proc/self/cgroup");
  std::string const text((std::istreambuf_iterator<char>(self)), {});
  auto const v2 = cgroup_path(text, "");
  auto const v1 = cgroup_path(text, "cpu");
  fs::remove_all(root);
  auto const write = [](fs::path const& file, std::string const& content) {
    fs::create_directories(file.parent_path());
    std::ofstream(file) << content;
  };
  if (v2) {
    if (*v2 != "/") write(root / "cpu.max", "max 100000\n");  // the root: no limit
    write(root / ("." + *v2) / "cpu.max", "300000 100000\n");
  }
  if (v1) {
    write(root / "cpu" / ("." + *v1) / "cpu.cfs_quota_us", "250000\n");
    write(root / "cpu" / ("." + *v1) / "cpu.cfs_period_us", "100000\n");
  }
  CpuBudget const budget = read_cpu_budget(root.string());
  fs::remove_all(root);
  ASSERT_TRUE(v1 || v2);
  ASSERT_TRUE(budget.quota);
  EXPECT_DOUBLE_EQ(*budget.quota, v1 ? 2.5 : 3.0);
  EXPECT_GE(budget.affinity, 1u);
}
