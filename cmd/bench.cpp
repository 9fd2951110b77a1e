// `wspush bench`: a load generator. N subscribers join a relay room, P publishers
// send M probes each (at most --window in flight per publisher: a probe is in
// flight until the relay echoes it back to its sender; with --rate, also at most R
// a second per publisher), and the report gives the connection ramp, deliveries/s,
// end-to-end latency, lost/duplicated/reordered probes, its own CPU, and with
// --server-pid the servers' CPU per 1000 deliveries and RSS per idle connection
// (--subscribe-url: subscribers on other nodes too). One event loop on one thread.
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <iostream>

#include "client/bench_ledger.hpp"
#include "client/client_session.hpp"
#include "commands.hpp"
#include "common/codec.hpp"
#include "core/process_stats.hpp"
#include "net/fleet.hpp"
#include "options.hpp"

namespace wspush::cmd {
namespace {

using Clock = std::chrono::steady_clock;

struct BenchFlags {
  std::string url;
  std::size_t subscribers = 100;
  std::size_t publishers = 1;
  std::uint64_t messages = 1000;
  std::size_t size = 64;
  std::size_t window = 64;
  double rate = 0;               // probes per second per publisher; 0: as fast as the window allows
  std::vector<int> server_pids;  // CPU: their sum; RSS: the first's
  std::vector<std::string> also_urls;  // --subscribe-url: subscribers spread over these too
  bool json = false;
  std::string timeout = "120s";
  std::string settle = "1s";
  std::string cacert;
  bool insecure = false;
};

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

// The bench's own CPU, from getrusage: microseconds, where /proc counts clock ticks.
double own_cpu_s() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

class Bench {
 public:
  explicit Bench(BenchFlags const& f, Duration timeout, Duration settle)
      : f_(f),
        timeout_(timeout),
        settle_(settle),
        fleet_({[this](std::size_t c) { on_open(c); },
                [this](std::size_t c, std::string const& m) { on_message(c, m); },
                [this](std::size_t c, std::string const& why) { on_lost(c, why); }},
               fleet_tls(f)) {
    ledgers_.reserve(f.subscribers);
    for (std::size_t i = 0; i < f.subscribers; ++i) ledgers_.emplace_back(f.publishers, f.messages);
    sent_.assign(f.publishers, 0);
    echoed_.assign(f.publishers, 0);
    latencies_.reserve(f.subscribers * f.publishers * f.messages);
  }

  int run() {
    if (!f_.server_pids.empty()) rss_before_ = rss_kib(f_.server_pids.front());
    start_ = Clock::now();
    // Subscribers spread over the room URL and every --subscribe-url (other nodes).
    std::size_t const urls = 1 + f_.also_urls.size();
    for (std::size_t k = 0; k < urls; ++k) {
      std::size_t const count = f_.subscribers / urls + (k < f_.subscribers % urls ? 1 : 0);
      if (k == 0) on_first_url_ = count;  // RSS is the first server's: per its members
      if (count) fleet_.open(count, k == 0 ? f_.url : f_.also_urls[k - 1]);
    }
    fleet_.after(timeout_, [this] {
      failure_ = "timed out: " + std::to_string(delivered_) + " of " + std::to_string(expected()) +
                 " deliveries";
      exit_ = ExitCode::timeout;
      fleet_.stop();
    });
    std::cerr << "wspush bench: opening " << f_.subscribers << " subscribers\n";
    fleet_.run();
    return report();
  }

 private:
  std::uint64_t expected() const { return f_.subscribers * f_.publishers * f_.messages; }
  std::optional<double> servers_cpu_us() const {
    if (f_.server_pids.empty()) return std::nullopt;
    double sum = 0;
    for (int pid : f_.server_pids) {
      sum += read_process_stats(pid).value_or(ProcessStats{}).cpu_seconds * 1e6;
    }
    return sum;
  }
  bool is_publisher(std::size_t conn) const { return conn >= f_.subscribers; }

  void on_open(std::size_t conn) {
    if (is_publisher(conn)) {
      if (++publishers_open_ == f_.publishers) start_publishing();
      return;
    }
    if (++subscribers_open_ < f_.subscribers) return;
    connect_s_ = std::chrono::duration<double>(Clock::now() - start_).count();
    std::cerr << "wspush bench: " << f_.subscribers << " subscribers in " << connect_s_
              << " s; idle " << format_duration(settle_) << "\n";
    fleet_.after(settle_, [this] {
      if (!f_.server_pids.empty()) rss_idle_ = rss_kib(f_.server_pids.front());
      fleet_.open(f_.publishers, f_.url);
    });
  }

  void start_publishing() {
    std::cerr << "wspush bench: publishing " << f_.publishers << " x " << f_.messages
              << " messages of " << f_.size << " bytes\n";
    server_cpu_start_ = servers_cpu_us();
    own_cpu_start_ = own_cpu_s();
    publish_start_ = Clock::now();
    for (std::size_t p = 0; p < f_.publishers; ++p) pump(p);
    if (f_.rate > 0) tick();
  }

  // Sends what publisher p may send now: below --messages, fewer than --window in
  // flight, and with --rate no more than the rate allows since publishing began.
  void pump(std::size_t p) {
    while (sent_[p] < f_.messages && sent_[p] - echoed_[p] < f_.window &&
           (f_.rate <= 0 || sent_[p] < due())) {
      fleet_.send(f_.subscribers + p, make_probe(p, sent_[p]++, now_ns(), f_.size));
    }
  }

  // Probes due per publisher at --rate: one at once, then one every 1/rate seconds.
  std::uint64_t due() const {
    double const elapsed = std::chrono::duration<double>(Clock::now() - publish_start_).count();
    return 1 + static_cast<std::uint64_t>(elapsed * f_.rate);
  }

  // At --rate, the clock (not only the echoes) lets probes out; ticks stop once every
  // probe is out, so their number is bounded by --messages.
  void tick() {
    bool more = false;
    for (std::size_t p = 0; p < f_.publishers; ++p) {
      pump(p);
      more = more || sent_[p] < f_.messages;
    }
    if (!more || finished_) return;
    auto const period = std::chrono::duration<double>(1.0 / f_.rate);
    fleet_.after(std::max<Duration>(std::chrono::milliseconds(1),
                                    std::chrono::duration_cast<Duration>(period)),
                 [this] { tick(); });
  }

  void on_message(std::size_t conn, std::string const& message) {
    auto const probe = read_probe(message);
    if (!probe) return;  // welcome, recovery, …
    if (is_publisher(conn)) {
      std::size_t const p = conn - f_.subscribers;
      if (probe->publisher == p) {  // its own probe is back: one slot free
        ++echoed_[p];
        pump(p);
      }
      return;
    }
    latencies_.push_back(static_cast<double>(now_ns() - probe->sent_ns) / 1e3);
    ledgers_[conn].observe(*probe);
    // Progress on a terminal only: one line rewritten in place, every 1 %.
    ++delivered_;
    if (progress_ && (delivered_ % (expected() / 100 + 1) == 0 || delivered_ == expected())) {
      std::cerr << "\rwspush bench: " << delivered_ << " of " << expected() << " deliveries ("
                << delivered_ * 100 / expected() << " %)" << std::flush;
    }
    if (delivered_ >= expected()) finish();
  }

  void on_lost(std::size_t conn, std::string const& why) {
    if (finished_) return;
    failure_ = (is_publisher(conn) ? "publisher " : "subscriber ") + std::to_string(conn) +
               " lost: " + why;
    exit_ = ExitCode::protocol;
    fleet_.stop();
  }

  void finish() {
    if (progress_ && delivered_ > expected() / 100) std::cerr << '\n';  // end the line
    finished_ = true;
    publish_s_ = std::chrono::duration<double>(Clock::now() - publish_start_).count();
    own_cpu_s_ = own_cpu_s() - own_cpu_start_;
    server_cpu_end_ = servers_cpu_us();
    fleet_.close_all();
    fleet_.after(std::chrono::milliseconds(200), [this] { fleet_.stop(); });
  }

  int report() {
    std::uint64_t lost = 0, duplicated = 0, reordered = 0;
    for (auto const& l : ledgers_) {
      lost += l.lost();
      duplicated += l.duplicated();
      reordered += l.reordered();
    }
    LatencySummary const lat = summarize_latency(latencies_);
    // The server delivers each probe to every member, publishers included.
    double const server_deliveries = static_cast<double>(f_.publishers * f_.messages) *
                                     static_cast<double>(f_.subscribers + f_.publishers);
    JsonScalar server_cpu = nullptr;
    if (server_cpu_start_ && server_cpu_end_) {
      server_cpu = (*server_cpu_end_ - *server_cpu_start_) / server_deliveries * 1000.0;
    }
    JsonScalar rss = nullptr;
    if (rss_before_ && rss_idle_) rss = (*rss_idle_ - *rss_before_) / on_first_url_;
    double const rate = publish_s_ > 0 ? static_cast<double>(delivered_) / publish_s_ : 0;
    std::string const json = encode_object({
        {"event", std::string_view("bench")},
        {"subscribers", std::uint64_t{f_.subscribers}},
        {"publishers", std::uint64_t{f_.publishers}},
        {"messages", f_.messages},
        {"size", std::uint64_t{f_.size}},
        {"rate", f_.rate},
        {"publish_s", publish_s_},
        {"connect_s", connect_s_},
        {"connects_per_s", connect_s_ > 0 ? static_cast<double>(f_.subscribers) / connect_s_ : 0},
        {"deliveries", delivered_},
        {"deliveries_per_s", rate},
        {"latency_p50_us", lat.p50_us},
        {"latency_p90_us", lat.p90_us},
        {"latency_p99_us", lat.p99_us},
        {"latency_max_us", lat.max_us},
        {"lost", lost},
        {"duplicated", duplicated},
        {"reordered", reordered},
        {"bench_cpu_s", own_cpu_s_},
        {"bench_cpu_share", publish_s_ > 0 ? own_cpu_s_ / publish_s_ : 0},
        {"server_cpu_us_per_1000_deliveries", server_cpu},
        {"server_rss_kib_per_idle_connection", rss},
    });
    if (f_.json) {
      std::cout << json << std::endl;
    } else {
      std::cout << "subscribers " << f_.subscribers << ", publishers " << f_.publishers << " x "
                << f_.messages << " messages of " << f_.size << " B\n"
                << "connect: " << connect_s_ << " s\n"
                << "deliveries: " << delivered_ << " (" << rate << "/s)\n"
                << "latency us: p50 " << lat.p50_us << ", p90 " << lat.p90_us << ", p99 "
                << lat.p99_us << ", max " << lat.max_us << "\n"
                << "lost " << lost << ", duplicated " << duplicated << ", reordered " << reordered
                << "\n"
                << "bench cpu: " << own_cpu_s_ << " s over " << publish_s_ << " s\n";
      if (auto const* v = std::get_if<double>(&server_cpu)) {
        std::cout << "server cpu per 1000 deliveries: " << *v << " us\n";
      }
      if (auto const* v = std::get_if<double>(&rss)) {
        std::cout << "server rss per idle connection: " << *v << " KiB\n";
      }
    }
    if (!failure_.empty()) {
      std::cerr << "wspush bench: " << failure_ << '\n';
      return static_cast<int>(exit_);
    }
    if (lost || duplicated || reordered) {
      std::cerr << "wspush bench: " << lost << " lost, " << duplicated << " duplicated, "
                << reordered << " reordered\n";
      return kExitFailure;
    }
    return kExitOk;
  }

  BenchFlags const& f_;
  Duration timeout_;
  Duration settle_;
  ConnectionFleet fleet_;
  std::vector<DeliveryLedger> ledgers_;
  std::vector<std::uint64_t> sent_;
  std::vector<std::uint64_t> echoed_;  // own probes back: sent_ - echoed_ are in flight
  std::vector<double> latencies_;
  std::size_t subscribers_open_ = 0;
  std::size_t on_first_url_ = 0;
  std::size_t publishers_open_ = 0;
  std::uint64_t delivered_ = 0;
  Clock::time_point start_;
  Clock::time_point publish_start_;
  double connect_s_ = 0;
  double publish_s_ = 0;
  double own_cpu_start_ = 0;
  double own_cpu_s_ = 0;
  std::optional<double> rss_before_, rss_idle_;
  std::optional<double> server_cpu_start_, server_cpu_end_;
  bool finished_ = false;
  bool const progress_ = isatty(STDERR_FILENO) != 0;
  std::string failure_;
  ExitCode exit_ = ExitCode::failure;
};

int run_bench(BenchFlags& f) {
  if (f.url.rfind("ws://", 0) != 0 && f.url.rfind("wss://", 0) != 0) {
    return usage_error("bench: expected a ws:// or wss:// relay room URL");
  }
  if (f.subscribers == 0 || f.publishers == 0 || f.messages == 0 || f.window == 0) {
    return usage_error("bench: --subscribers, --publishers, --messages, --window must be >= 1");
  }
  for (int pid : f.server_pids) {
    if (!read_process_stats(pid)) {
      return usage_error("bench: --server-pid " + std::to_string(pid) + ": no such process");
    }
  }
  for (std::string const& url : f.also_urls) {
    if (url.rfind(f.url.substr(0, f.url.find(':')) + "://", 0) != 0) {
      return usage_error("bench: --subscribe-url " + url + ": not the scheme of " + f.url);
    }
  }
  return Bench(f, *duration_of(f.timeout), *duration_of(f.settle)).run();
}

}  // namespace

Command bench_command() {
  return {
      "bench", "Load-test a relay room: deliveries/s, latency, loss", [](CLI::App& app) {
        auto f = std::make_shared<BenchFlags>();
        app.add_option("url", f->url, "A relay room, ws://HOST:PORT/ROOM or wss://…")->required();
        app.add_option("--subscribers", f->subscribers, "Subscribers")->capture_default_str();
        app.add_option("--publishers", f->publishers, "Publishers")->capture_default_str();
        app.add_option("--messages", f->messages, "Messages per publisher")->capture_default_str();
        app.add_option("--size", f->size, "Bytes of data per message")
            ->transform(size_check(1, std::uint64_t{1} << 30))
            ->capture_default_str();
        app.add_option("--window", f->window, "Messages in flight per publisher")
            ->capture_default_str();
        app.add_option("--rate", f->rate,
                       "Probes per second per publisher, still within --window (default 0: "
                       "as fast as the window allows)")
            ->check(CLI::Range(0.0, 1e6))
            ->type_name("R");
        app.add_option("--server-pid", f->server_pids,
                       "Measure this server's CPU per 1000 deliveries and RSS per idle "
                       "connection (repeatable: the CPU of all of them, e.g. the nodes)")
            ->type_name("PID");
        app.add_option("--subscribe-url", f->also_urls,
                       "The same room on another node (repeatable): subscribers spread over "
                       "it and the URL; publishers stay on the URL")
            ->type_name("URL");
        app.add_flag("--json", f->json, "One JSON line on stdout");
        add_tls_flags(app, f->cacert, f->insecure);
        app.add_option("--timeout", f->timeout, "Give up after this long (exit 7)")
            ->check(duration_check())
            ->capture_default_str();
        app.add_option("--settle", f->settle, "Idle time before measuring RSS")
            ->check(duration_check(Duration::zero()))
            ->capture_default_str();
        app.footer(
            "Exit codes: 0 every message delivered once and in order, 1 lost,\n"
            "duplicated or reordered messages, 2 usage, 6 a connection was lost,\n"
            "7 timeout.");
        return [f] { return run_bench(*f); };
      }};
}

}  // namespace wspush::cmd
