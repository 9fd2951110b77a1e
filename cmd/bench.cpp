// `wspush bench`: a load generator. N subscribers join a relay room, P publishers
// send M probes each (at most --window in flight per publisher: a probe is in
// flight until the relay echoes it back to its sender; with --rate, also at most R
// a second per publisher), and the report gives the connection ramp, deliveries/s,
// end-to-end latency, lost/duplicated/reordered probes, its own CPU, and with
// --server-pid the servers' CPU per 1000 deliveries and RSS per idle connection
// (--subscribe-url: subscribers on other nodes too). The run itself is bench_run.cpp
// (--threads event loops).
#include <iostream>

#include "bench_run.hpp"
#include "client/bench_ledger.hpp"
#include "commands.hpp"
#include "common/codec.hpp"
#include "options.hpp"
#include "process/process_stats.hpp"
#include "settings_cli.hpp"

namespace wspush::cmd {
namespace {

// Prints the run's figures (--json: one line) and returns the exit code.
int report(BenchFlags const& f, BenchResult& r) {
  LatencySummary const lat = summarize_latency(r.latencies_us);
  // The server delivers each probe to every member, publishers included.
  double const server_deliveries = static_cast<double>(f.publishers * f.messages) *
                                   static_cast<double>(f.subscribers + f.publishers);
  JsonScalar server_cpu = nullptr;
  if (r.server_cpu_us) server_cpu = *r.server_cpu_us / server_deliveries * 1000.0;
  // Accept, HTTP, upgrade and join, per subscriber (the servers' CPU while they connect).
  JsonScalar handshake_cpu = nullptr;
  if (r.server_connect_cpu_us) {
    handshake_cpu = *r.server_connect_cpu_us / static_cast<double>(f.subscribers);
  }
  JsonScalar rss = nullptr;
  JsonScalar rss_subscription = nullptr;
  // One server: all the subscribers are its (--subscribe-url then names another of
  // its addresses); several: the first's, over those on the room URL.
  double const members =
      static_cast<double>(f.server_pids.size() > 1 ? r.on_first_url : f.subscribers);
  if (r.rss_before_kib && r.rss_connected_kib && r.rss_idle_kib) {  // --rooms
    rss = (*r.rss_connected_kib - *r.rss_before_kib) / members;
    rss_subscription =
        (*r.rss_idle_kib - *r.rss_connected_kib) / (members * static_cast<double>(f.rooms));
  } else if (r.rss_before_kib && r.rss_idle_kib) {
    rss = (*r.rss_idle_kib - *r.rss_before_kib) / members;
  }
  double const rate = r.publish_s > 0 ? static_cast<double>(r.delivered) / r.publish_s : 0;
  // What reached the subscribers' sockets per delivery (handshake answers and welcomes
  // included: a few hundred bytes a subscriber, over all of its deliveries).
  JsonScalar wire = nullptr;
  if (r.delivered > 0 && r.wire_bytes > 0) {
    wire = static_cast<double>(r.wire_bytes) / static_cast<double>(r.delivered);
  }
  // Of the CPU its threads could use: near 1, the bench itself is the bottleneck.
  double const share =
      r.publish_s > 0 ? r.own_cpu_s / r.publish_s / static_cast<double>(r.threads) : 0;
  std::string const json = encode_object({
      {"event", std::string_view("bench")},
      {"subscribers", std::uint64_t{f.subscribers}},
      {"publishers", std::uint64_t{f.publishers}},
      {"messages", f.messages},
      {"size", std::uint64_t{f.size}},
      {"rooms", std::uint64_t{f.rooms}},
      {"rate", f.rate},
      {"threads", std::uint64_t{r.threads}},
      {"publish_s", r.publish_s},
      {"connect_s", r.connect_s},
      {"connects_per_s", r.connect_s > 0 ? static_cast<double>(f.subscribers) / r.connect_s : 0},
      {"deliveries", r.delivered},
      {"deliveries_per_s", rate},
      {"latency_p50_us", lat.p50_us},
      {"latency_p90_us", lat.p90_us},
      {"latency_p99_us", lat.p99_us},
      {"latency_max_us", lat.max_us},
      {"lost", r.lost},
      {"duplicated", r.duplicated},
      {"reordered", r.reordered},
      {"bench_cpu_s", r.own_cpu_s},
      {"bench_cpu_share", share},
      {"server_cpu_us_per_1000_deliveries", server_cpu},
      {"server_cpu_us_per_handshake", handshake_cpu},
      {"server_rss_kib_per_idle_connection", rss},
      {"server_rss_kib_per_idle_subscription", rss_subscription},
      {"wire_bytes_per_delivery", wire},
  });
  if (f.json) {
    std::cout << json << std::endl;
  } else {
    std::cout << "subscribers " << f.subscribers << ", publishers " << f.publishers << " x "
              << f.messages << " messages of " << f.size << " B"
              << (f.rooms > 1 ? ", " + std::to_string(f.rooms) + " rooms each" : "") << "\n"
              << "connect: " << r.connect_s << " s\n"
              << "deliveries: " << r.delivered << " (" << rate << "/s)\n"
              << "latency us: p50 " << lat.p50_us << ", p90 " << lat.p90_us << ", p99 "
              << lat.p99_us << ", max " << lat.max_us << "\n"
              << "lost " << r.lost << ", duplicated " << r.duplicated << ", reordered "
              << r.reordered << "\n"
              << "bench cpu: " << r.own_cpu_s << " s over " << r.publish_s << " s on " << r.threads
              << " thread(s) (share " << share << ")\n";
    if (auto const* v = std::get_if<double>(&server_cpu)) {
      std::cout << "server cpu per 1000 deliveries: " << *v << " us\n";
    }
    if (auto const* v = std::get_if<double>(&handshake_cpu)) {
      std::cout << "server cpu per handshake: " << *v << " us\n";
    }
    if (auto const* v = std::get_if<double>(&rss)) {
      std::cout << "server rss per idle connection: " << *v << " KiB\n";
    }
    if (auto const* v = std::get_if<double>(&rss_subscription)) {
      std::cout << "server rss per idle subscription: " << *v << " KiB\n";
    }
    if (auto const* v = std::get_if<double>(&wire)) {
      std::cout << "wire bytes per delivery: " << *v << "\n";
    }
  }
  if (!r.failure.empty()) {
    std::cerr << "wspush bench: " << r.failure << '\n';
    return static_cast<int>(r.exit);
  }
  if (r.lost || r.duplicated || r.reordered) {
    std::cerr << "wspush bench: " << r.lost << " lost, " << r.duplicated << " duplicated, "
              << r.reordered << " reordered\n";
    return kExitFailure;
  }
  return kExitOk;
}

int run_bench(BenchFlags& f) {
  if (f.url.rfind("ws://", 0) != 0 && f.url.rfind("wss://", 0) != 0) {
    return usage_error("bench: expected a ws:// or wss:// relay room URL");
  }
  for (int pid : f.server_pids) {
    if (!read_process_stats(pid)) {
      return usage_error("bench: --server-pid " + std::to_string(pid) + ": no such process");
    }
  }
  if (f.rooms > 1 && bench_room(f, 1).find_first_of("\"\\") != std::string::npos) {
    return usage_error("bench: --rooms: the URL's path names the rooms: no '\"' or '\\'");
  }
  for (std::string const& url : f.also_urls) {
    if (url.rfind(f.url.substr(0, f.url.find(':')) + "://", 0) != 0) {
      return usage_error("bench: --subscribe-url " + url + ": not the scheme of " + f.url);
    }
  }
  BenchResult r = run_bench_lanes(f, f.timeout, f.settle);
  return report(f, r);
}

}  // namespace

SettingsTable<BenchFlags> bench_settings() {
  using F = BenchFlags;
  namespace v = setting_value;
  SettingsTable<F> t;
  auto const count = [](std::uint64_t maximum) { return v::whole_as<std::size_t>(1, maximum); };
  t.add("url", &F::url, v::text())
      .positional()
      .required()
      .value_name("URL")
      .help("A relay room, ws://HOST:PORT/ROOM or wss://…");
  t.add("subscribers", &F::subscribers, count(10000000))
      .value_name("N")
      .default_value("100")
      .help("Subscribers");
  t.add("publishers", &F::publishers, count(100000))
      .value_name("N")
      .default_value("1")
      .help("Publishers");
  t.add("messages", &F::messages, v::whole(1, std::uint64_t{1} << 40))
      .value_name("N")
      .default_value("1000")
      .help("Messages per publisher");
  t.add("size", &F::size, size_setting(1, kGiB))
      .value_name("SIZE")
      .default_value("64")
      .help("Bytes of data per message");
  t.add("rooms", &F::rooms, count(1000))
      .value_name("N")
      .default_value("1")
      .help(
          "Every connection follows N rooms over one connection (SPEC 3.1): it opens the "
          "server's / and subscribes URLPATH/1 … URLPATH/N (a relay family URLPATH/* the "
          "server declares); the probes are spread over them");
  t.add("window", &F::window, count(1000000))
      .value_name("N")
      .default_value("64")
      .help("Messages in flight per publisher");
  t.add("threads", &F::threads, count(256))
      .value_name("N")
      .default_value("1")
      .help(
          "Event loops, one per thread, the subscribers spread over them (the publishers on "
          "the first): a generator that is not the bottleneck");
  t.add("rate", &F::rate, v::number(0, 1e6))
      .value_name("R")
      .default_value("0")
      .help(
          "Probes per second per publisher, still within --window (0: as fast as the window "
          "allows)");
  t.add("server-pid", &F::server_pids, v::whole_as<int>(1, 4194304))
      .value_name("PID")
      .help(
          "Measure this server's CPU per 1000 deliveries and RSS per idle connection "
          "(repeatable: the CPU of all of them, e.g. the nodes)");
  t.add("subscribe-url", &F::also_urls, v::text())
      .value_name("URL")
      .help(
          "The same room on another node (repeatable): subscribers spread over it and the "
          "URL; publishers stay on the URL");
  t.add("json", &F::json, v::boolean()).help("One JSON line on stdout");
  add_tls_settings(t, &F::cacert, &F::insecure);
  t.add("payload", &F::payload, v::one_of({"padding", "prices"}))
      .value_name("KIND")
      .default_value("padding")
      .choices({"padding", "prices"})
      .help(
          "What fills a probe up to --size: x's (padding), or a book of price levels "
          "(prices: JSON as a market feed pushes it, for --compress)");
  t.add("compress", &F::compress, v::boolean())
      .help("Offer permessage-deflate on every connection (messages of 128 B or more compressed)");
  t.add("timeout", &F::timeout, v::duration(Duration(1)))
      .value_name("DURATION")
      .default_value("120s")
      .help("Give up after this long (exit 7)");
  t.add("settle", &F::settle, v::duration(Duration::zero()))
      .value_name("DURATION")
      .default_value("1s")
      .help("Idle time before measuring RSS");
  return t;
}

Command bench_command() {
  return {"bench", "Load-test a relay room: deliveries/s, latency, loss", [](CLI::App& app) {
            auto cli = std::make_shared<CliSettings<BenchFlags>>(bench_settings(), "WSPUSH_BENCH_");
            cli->add_to(app, {"subscribers", "1000"}, "",
                        "Exit codes: 0 every message delivered once and in order, 1 lost,\n"
                        "duplicated or reordered messages, 2 usage, 6 a connection was lost,\n"
                        "7 timeout.");
            return CommandSetup{[cli] {
                                  BenchFlags flags;
                                  if (std::string const error = cli->resolve(flags);
                                      !error.empty()) {
                                    return usage_error("bench: " + error);
                                  }
                                  return run_bench(flags);
                                },
                                cli->describe()};
          }};
}

}  // namespace wspush::cmd
