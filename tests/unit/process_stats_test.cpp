// A process's figures from /proc: the per-thread CPU time that `wspush bench
// --server-pid` reads follows this process's own CPU clock, to well under a tick.
#include "process/process_stats.hpp"

#include <gtest/gtest.h>
#include <time.h>
#include <unistd.h>

#include <thread>

using namespace wspush;

namespace {

double cpu_clock(clockid_t clock) {
  timespec t{};
  clock_gettime(clock, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

// Spins until the calling thread has used `seconds` more CPU (bounded by 10 s of wall
// time).
void burn(double seconds) {
  double const until = cpu_clock(CLOCK_THREAD_CPUTIME_ID) + seconds;
  auto const give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (cpu_clock(CLOCK_THREAD_CPUTIME_ID) < until && std::chrono::steady_clock::now() < give_up) {
  }
}

}  // namespace

TEST(ProcessStats, ThreadCpuSecondsCountsEveryThread) {
  std::optional<double> const before = thread_cpu_seconds(getpid());
  if (!before) GTEST_SKIP() << "this kernel keeps no /proc/PID/task/*/schedstat";
  double const clock_before = cpu_clock(CLOCK_PROCESS_CPUTIME_ID);
  double const own_before = cpu_clock(CLOCK_THREAD_CPUTIME_ID);
  std::thread other([] { burn(0.02); });
  burn(0.02);
  other.join();  // a thread that ended drops out of the sum: read while it is there
  double const clock_spent = cpu_clock(CLOCK_PROCESS_CPUTIME_ID) - clock_before;
  double const own_spent = cpu_clock(CLOCK_THREAD_CPUTIME_ID) - own_before;
  std::optional<double> const after = thread_cpu_seconds(getpid());
  ASSERT_TRUE(after);
  double const spent = *after - *before;
  // The joined thread's share is gone from the task list, so the main thread's 20 ms
  // (less what the kernel has not yet added for the running thread: a scheduler tick
  // at most), and never more than the process clock says.
  EXPECT_GE(spent, 0.015);
  EXPECT_LE(spent, clock_spent + 0.005);
  // Finer than /proc/PID/stat's 10 ms ticks: the main thread's own clock, to a few ms.
  EXPECT_NEAR(spent, own_spent, 0.005);
}

TEST(ProcessStats, ThreadCpuSecondsOfNoProcessIsNothing) {
  EXPECT_FALSE(thread_cpu_seconds(-1));
  EXPECT_FALSE(thread_cpu_seconds(0x7ffffff0));
}

TEST(ProcessStats, ReadsItsOwnProcess) {
  std::optional<ProcessStats> const stats = read_process_stats(getpid());
  ASSERT_TRUE(stats);
  EXPECT_GT(stats->resident_bytes, 0u);
  EXPECT_GT(stats->open_fds, 0u);
}
