// One `wspush bench` run on --threads event loops ("lanes"). Each lane is a
// ConnectionFleet on its own thread with its share of the subscribers, their ledgers
// and latencies, touched by that thread only; lane 0 (the calling thread) also carries
// the publishers, their windows and --rate. The lanes meet in `Run` for the few events
// that concern all of them (every subscriber open, a lane done, a failure), under one
// mutex; the per-delivery path takes no lock and shares no counter.
#include "bench_run.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>
#include <mutex>
#include <thread>

#include "client/bench_ledger.hpp"
#include "client_transport/fleet.hpp"
#include "process/process_stats.hpp"

namespace wspush::cmd {
namespace {

using Clock = std::chrono::steady_clock;

// The fleet's TLS settings for `url`: on for wss://, verifying the URL's host.
ConnectionFleet::Tls fleet_tls(BenchFlags const& f) {
  ConnectionFleet::Tls tls;
  tls.enabled = f.url.rfind("wss://", 0) == 0;
  tls.insecure = f.insecure;
  tls.cacert = f.cacert;
  std::string_view rest = std::string_view(f.url).substr(tls.enabled ? 6 : 5);
  rest = rest.substr(0, rest.find_first_of("/?"));
  if (!rest.empty() && rest.front() == '[') {
    tls.host = std::string(rest.substr(1, rest.find(']') - 1));
  } else {
    tls.host = std::string(rest.substr(0, rest.rfind(':')));
  }
  return tls;
}

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

// Part k of n things cut into `parts` as even as can be (the first ones one larger).
std::size_t share(std::size_t n, std::size_t parts, std::size_t k) {
  return n / parts + (k < n % parts ? 1 : 0);
}

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

class Run;

class Lane {
 public:
  Lane(Run& run, std::size_t index, std::size_t subscribers);
  void open_subscribers();
  void open_publishers();
  void close_soon();
  ConnectionFleet& fleet() { return fleet_; }
  std::atomic<std::uint64_t> const& delivered() const { return delivered_; }
  void merge_into(BenchResult& r);

 private:
  bool is_publisher(std::size_t conn) const { return conn >= subscribers_; }
  void on_open(std::size_t conn);
  void on_message(std::size_t conn, std::string const& message);
  void pump(std::size_t p);
  std::uint64_t due() const;
  void tick();

  Run& run_;
  BenchFlags const& f_;
  std::size_t const index_;
  std::size_t const subscribers_;
  std::uint64_t const expected_;  // deliveries to this lane's subscribers
  ConnectionFleet fleet_;
  std::vector<DeliveryLedger> ledgers_;
  std::vector<double> latencies_;
  std::vector<std::uint64_t> sent_;    // lane 0: per publisher
  std::vector<std::uint64_t> echoed_;  // own probes back: sent_ - echoed_ are in flight
  std::size_t publishers_open_ = 0;
  Clock::time_point publish_start_;
  std::atomic<std::uint64_t> delivered_{0};  // written by this lane's thread only
};

class Run {
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

  BenchFlags const& flags() const { return f_; }
  std::uint64_t expected() const { return f_.subscribers * f_.publishers * f_.messages; }

  // Any lane: one more subscriber open. The last one starts the settle time on lane 0.
  void subscriber_open() {
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
    lanes_.front()->fleet().post([this] {
      lanes_.front()->fleet().after(settle_, [this] {
        if (!f_.server_pids.empty()) {
          std::lock_guard<std::mutex> lock(mutex_);
          result_.rss_idle_kib = rss_kib(f_.server_pids.front());
        }
        lanes_.front()->open_publishers();
      });
    });
  }

  // Lane 0, every publisher open: the measurement starts.
  void publishing() {
    std::cerr << "wspush bench: publishing " << f_.publishers << " x " << f_.messages
              << " messages of " << f_.size << " bytes\n";
    std::lock_guard<std::mutex> lock(mutex_);
    server_cpu_start_ = servers_cpu_us();
    own_cpu_start_ = own_cpu_s();
    publish_start_ = Clock::now();
  }

  // Any lane: its subscribers have every probe. The last one ends the measurement and
  // closes every lane.
  void lane_done() {
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
  void fail(std::string why, ExitCode code) {
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

  BenchFlags const& f_;
  Duration timeout_;
  Duration settle_;
  std::vector<std::unique_ptr<Lane>> lanes_;
  std::atomic<std::size_t> subscribers_open_{0};
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

Lane::Lane(Run& run, std::size_t index, std::size_t subscribers)
    : run_(run),
      f_(run.flags()),
      index_(index),
      subscribers_(subscribers),
      expected_(subscribers * f_.publishers * f_.messages),
      fleet_({[this](std::size_t c) { on_open(c); },
              [this](std::size_t c, std::string const& m) { on_message(c, m); },
              [this](std::size_t c, std::string const& why) {
                run_.fail((is_publisher(c) ? "publisher " : "subscriber ") + std::to_string(c) +
                              (index_ ? " of thread " + std::to_string(index_) : "") +
                              " lost: " + why,
                          ExitCode::protocol);
              }},
             fleet_tls(f_)) {
  ledgers_.reserve(subscribers);
  for (std::size_t i = 0; i < subscribers; ++i) ledgers_.emplace_back(f_.publishers, f_.messages);
  latencies_.reserve(expected_);
  if (index == 0) {
    sent_.assign(f_.publishers, 0);
    echoed_.assign(f_.publishers, 0);
  }
}

// This lane's subscribers, spread over the room URL and every --subscribe-url.
void Lane::open_subscribers() {
  std::size_t const urls = 1 + f_.also_urls.size();
  for (std::size_t k = 0; k < urls; ++k) {
    std::size_t const count = share(subscribers_, urls, k);
    if (count) fleet_.open(count, k == 0 ? f_.url : f_.also_urls[k - 1]);
  }
}

void Lane::open_publishers() {
  fleet_.open(f_.publishers, f_.url);
}

void Lane::close_soon() {
  fleet_.close_all();
  fleet_.after(std::chrono::milliseconds(200), [this] { fleet_.stop(); });
}

void Lane::merge_into(BenchResult& r) {
  r.on_first_url += share(subscribers_, 1 + f_.also_urls.size(), 0);
  r.delivered += delivered_.load();
  for (auto const& l : ledgers_) {
    r.lost += l.lost();
    r.duplicated += l.duplicated();
    r.reordered += l.reordered();
  }
  r.latencies_us.insert(r.latencies_us.end(), latencies_.begin(), latencies_.end());
}

void Lane::on_open(std::size_t conn) {
  if (!is_publisher(conn)) return run_.subscriber_open();
  if (++publishers_open_ < f_.publishers) return;
  run_.publishing();
  publish_start_ = Clock::now();
  for (std::size_t p = 0; p < f_.publishers; ++p) pump(p);
  if (f_.rate > 0) tick();
}

// Sends what publisher p may send now: below --messages, fewer than --window in
// flight, and with --rate no more than the rate allows since publishing began.
void Lane::pump(std::size_t p) {
  while (sent_[p] < f_.messages && sent_[p] - echoed_[p] < f_.window &&
         (f_.rate <= 0 || sent_[p] < due())) {
    fleet_.send(subscribers_ + p, make_probe(p, sent_[p]++, now_ns(), f_.size));
  }
}

// Probes due per publisher at --rate: one at once, then one every 1/rate seconds.
std::uint64_t Lane::due() const {
  double const elapsed = std::chrono::duration<double>(Clock::now() - publish_start_).count();
  return 1 + static_cast<std::uint64_t>(elapsed * f_.rate);
}

// At --rate, the clock (not only the echoes) lets probes out; ticks stop once every
// probe is out, so their number is bounded by --messages.
void Lane::tick() {
  bool more = false;
  for (std::size_t p = 0; p < f_.publishers; ++p) {
    pump(p);
    more = more || sent_[p] < f_.messages;
  }
  if (!more) return;
  auto const period = std::chrono::duration<double>(1.0 / f_.rate);
  fleet_.after(std::max<Duration>(std::chrono::milliseconds(1),
                                  std::chrono::duration_cast<Duration>(period)),
               [this] { tick(); });
}

void Lane::on_message(std::size_t conn, std::string const& message) {
  auto const probe = read_probe(message);
  if (!probe) return;  // welcome, recovery, …
  if (is_publisher(conn)) {
    std::size_t const p = conn - subscribers_;
    if (probe->publisher == p) {  // its own probe is back: one slot free
      ++echoed_[p];
      pump(p);
    }
    return;
  }
  latencies_.push_back(static_cast<double>(now_ns() - probe->sent_ns) / 1e3);
  ledgers_[conn].observe(*probe);
  std::uint64_t const n = delivered_.load(std::memory_order_relaxed) + 1;
  delivered_.store(n, std::memory_order_relaxed);
  if (n == expected_) run_.lane_done();
}

}  // namespace

BenchResult run_bench_lanes(BenchFlags const& flags, Duration timeout, Duration settle) {
  return Run(flags, timeout, settle).run();
}

}  // namespace wspush::cmd
