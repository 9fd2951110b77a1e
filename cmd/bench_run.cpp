// One `wspush bench` run on --threads event loops ("lanes", bench_lane.hpp). The lanes
// meet in `Run` for the few events that concern all of them (every subscriber open or
// subscribed, a lane done, a failure), under one mutex; the per-delivery path takes no
// lock and shares no counter.
#include "bench_run.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>

#include "bench_lane.hpp"
#include "process/process_stats.hpp"

namespace wspush::cmd {
namespace {

using Clock = std::chrono::steady_clock;

// A server's resident memory in KiB, from /proc (core/process_stats, as its /metrics).
std::optional<double> rss_kib(int pid) {
  auto const stats = read_process_stats(pid);
  if (!stats) return std::nullopt;
  return static_cast<double>(stats->resident_bytes) / 1024;
}

// The bench's own CPU (all its threads), from getrusage: microseconds, where /proc
// counts clock ticks.
double own_cpu_s() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

class Run final : public LaneEvents {
 public:
  Run(BenchFlags const& f, Duration timeout, Duration settle)
      : f_(f), timeout_(timeout), settle_(settle) {
    std::size_t const lanes = std::max<std::size_t>(1, std::min(f.threads, f.subscribers));
    for (std::size_t k = 0; k < lanes; ++k) {
      lanes_.push_back(std::make_unique<Lane>(*this, k, share(f.subscribers, lanes, k)));
    }
    result_.threads = lanes;
  }

  BenchResult run() {
    if (!f_.server_pids.empty()) result_.rss_before_kib = rss_kib(f_.server_pids.front());
    connect_cpu_start_ = servers_cpu_us();
    start_ = Clock::now();
    std::cerr << "wspush bench: opening " << f_.subscribers << " subscribers"
              << (lanes_.size() > 1 ? " on " + std::to_string(lanes_.size()) + " threads" : "")
              << "\n";
    for (auto& lane : lanes_) lane->open_subscribers();
    Lane& first = *lanes_.front();
    first.fleet().after(timeout_, [this] {
      fail("timed out: " + std::to_string(delivered()) + " of " + std::to_string(expected()) +
               " deliveries",
           ExitCode::timeout);
    });
    if (progress_) show_progress();
    std::vector<std::thread> threads;
    for (std::size_t k = 1; k < lanes_.size(); ++k) {
      threads.emplace_back([lane = lanes_[k].get()] { lane->fleet().run(); });
    }
    first.fleet().run();
    for (auto& t : threads) t.join();
    for (auto& lane : lanes_) lane->merge_into(result_);
    return std::move(result_);
  }

  BenchFlags const& flags() const override { return f_; }
  std::uint64_t expected() const { return f_.subscribers * f_.publishers * f_.messages; }

  // Any lane: one more subscriber open. The last one starts the settle time on lane 0.
  void subscriber_open() override {
    if (++subscribers_open_ < f_.subscribers) return;
    double const connect_s = std::chrono::duration<double>(Clock::now() - start_).count();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      result_.connect_s = connect_s;
      auto const end = servers_cpu_us();
      if (connect_cpu_start_ && end) result_.server_connect_cpu_us = *end - *connect_cpu_start_;
    }
    std::cerr << "wspush bench: " << f_.subscribers << " subscribers in " << connect_s
              << " s; idle " << format_duration(settle_) << "\n";
    if (f_.rooms == 1) return idle_then([this] { lanes_.front()->open_publishers(); });
    idle_then([this] {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        result_.rss_connected_kib = result_.rss_idle_kib;
      }
      std::cerr << "wspush bench: subscribing each to " << f_.rooms << " rooms\n";
      for (auto& lane : lanes_) {
        lane->fleet().post([lane = lane.get()] { lane->subscribe_all(); });
      }
    });
  }

  // Any lane, --rooms: one more subscriber follows every room.
  void subscriber_subscribed() override {
    if (++subscribers_subscribed_ < f_.subscribers) return;
    std::cerr << "wspush bench: " << f_.subscribers * f_.rooms << " subscriptions; idle "
              << format_duration(settle_) << "\n";
    idle_then([this] { lanes_.front()->open_publishers(); });
  }

  // Lane 0, every publisher open: the measurement starts.
  void publishing() override {
    std::cerr << "wspush bench: publishing " << f_.publishers << " x " << f_.messages
              << " messages of " << f_.size << " bytes\n";
    std::lock_guard<std::mutex> lock(mutex_);
    server_cpu_start_ = servers_cpu_us();
    own_cpu_start_ = own_cpu_s();
    publish_start_ = Clock::now();
  }

  // Any lane: its subscribers have every probe. The last one ends the measurement and
  // closes every lane.
  void lane_done() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (++lanes_done_ < lanes_.size() || !result_.failure.empty()) return;
      finished_ = true;
      result_.publish_s = std::chrono::duration<double>(Clock::now() - publish_start_).count();
      result_.own_cpu_s = own_cpu_s() - own_cpu_start_;
      auto const end = servers_cpu_us();
      if (server_cpu_start_ && end) result_.server_cpu_us = *end - *server_cpu_start_;
    }
    if (progress_) print_progress(expected());
    // The measurement's end, for whoever watches a phase of the server (bench/run's
    // system call counts); what follows is the clients closing.
    std::cerr << "wspush bench: published; closing\n";
    for (auto& lane : lanes_) {
      lane->fleet().post([lane = lane.get()] { lane->close_soon(); });
    }
  }

  // Any lane: the run cannot complete; every lane stops.
  void fail(std::string why, ExitCode code) override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (finished_ || !result_.failure.empty()) return;
      result_.failure = std::move(why);
      result_.exit = code;
    }
    for (auto& lane : lanes_) lane->fleet().stop();
  }

  bool finished() {
    std::lock_guard<std::mutex> lock(mutex_);
    return finished_;
  }

 private:
  std::uint64_t delivered() const {
    std::uint64_t sum = 0;
    for (auto const& lane : lanes_) sum += lane->delivered().load(std::memory_order_relaxed);
    return sum;
  }
  std::optional<double> servers_cpu_us() const {
    if (f_.server_pids.empty()) return std::nullopt;
    double sum = 0;
    for (int pid : f_.server_pids) {
      // To the nanosecond where the kernel keeps it: /proc's ticks are 10 ms, as much as
      // a whole run of handshakes may take.
      std::optional<double> const precise = thread_cpu_seconds(pid);
      sum += precise.value_or(read_process_stats(pid).value_or(ProcessStats{}).cpu_seconds) * 1e6;
    }
    return sum;
  }
  // On a terminal: one line rewritten in place, every 100 ms, by lane 0.
  void show_progress() {
    lanes_.front()->fleet().after(std::chrono::milliseconds(100), [this] {
      if (finished()) return;
      if (std::uint64_t const n = delivered(); n > 0) print_progress(n);
      show_progress();
    });
  }
  void print_progress(std::uint64_t n) const {
    std::cerr << "\rwspush bench: " << n << " of " << expected() << " deliveries ("
              << n * 100 / expected() << " %)" << (n == expected() ? "\n" : "") << std::flush;
  }

  // On lane 0: after --settle, the first server's RSS is read, then `next` runs.
  void idle_then(std::function<void()> next) {
    lanes_.front()->fleet().post([this, next = std::move(next)] {
      lanes_.front()->fleet().after(settle_, [this, next] {
        if (!f_.server_pids.empty()) {
          std::lock_guard<std::mutex> lock(mutex_);
          result_.rss_idle_kib = rss_kib(f_.server_pids.front());
        }
        next();
      });
    });
  }

  BenchFlags const& f_;
  Duration timeout_;
  Duration settle_;
  std::vector<std::unique_ptr<Lane>> lanes_;
  std::atomic<std::size_t> subscribers_open_{0};
  std::atomic<std::size_t> subscribers_subscribed_{0};
  Clock::time_point start_;
  std::optional<double> connect_cpu_start_;  // written before the lanes start
  bool const progress_ = isatty(STDERR_FILENO) != 0;
  std::mutex mutex_;  // guards what follows
  BenchResult result_;
  std::size_t lanes_done_ = 0;
  bool finished_ = false;
  Clock::time_point publish_start_;
  double own_cpu_start_ = 0;
  std::optional<double> server_cpu_start_;
};

}  // namespace

BenchResult run_bench_lanes(BenchFlags const& flags, Duration timeout, Duration settle) {
  return Run(flags, timeout, settle).run();
}

}  // namespace wspush::cmd
