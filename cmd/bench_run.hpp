// `wspush bench`'s flags and what one run measured; bench_run.cpp runs it, bench.cpp
// reads the flags and reports.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "client/client_session.hpp"  // ExitCode
#include "common/duration.hpp"

namespace wspush::cmd {

// Its settings; their defaults, flags and help are bench.cpp's table.
struct BenchFlags {
  std::string url;
  std::size_t subscribers = 0;
  std::size_t publishers = 0;
  std::uint64_t messages = 0;
  std::size_t size = 0;
  std::size_t window = 0;
  std::size_t threads = 0;       // event loops; subscribers spread over them
  double rate = 0;               // probes per second per publisher; 0: as fast as the window allows
  std::vector<int> server_pids;  // CPU: their sum; RSS: the first's
  std::vector<std::string> also_urls;  // --subscribe-url: subscribers spread over these too
  // --rooms N > 1: every connection goes to the server's / and subscribes the rooms
  // PATH/1 … PATH/N of the URL's PATH; publisher p's probe i goes to room (p + i) % N + 1.
  std::size_t rooms = 1;
  bool json = false;
  Duration timeout{};
  Duration settle{};
  std::string cacert;
  bool insecure = false;
  bool compress = false;
  std::string payload;  // "prices": probes padded with a price book, not x's
};

struct BenchResult {
  std::size_t threads = 1;  // loops that ran (no more than the subscribers)
  double connect_s = 0;
  double publish_s = 0;
  std::uint64_t delivered = 0;
  std::uint64_t wire_bytes = 0;      // what the subscribers' sockets received, handshakes too
  std::vector<double> latencies_us;  // one per delivery to a subscriber
  std::uint64_t lost = 0, duplicated = 0, reordered = 0;
  double own_cpu_s = 0;                         // every thread of the bench, while publishing
  std::optional<double> server_cpu_us;          // the servers', while publishing
  std::optional<double> server_connect_cpu_us;  // the servers', while the subscribers connect
  std::optional<double> rss_idle_kib, rss_before_kib;  // the first server's
  std::optional<double> rss_connected_kib;  // --rooms: its subscribers open, none subscribed
  std::size_t on_first_url = 0;             // subscribers on the first server (RSS is per these)
  std::string failure;                      // empty: every delivery arrived
  ExitCode exit = ExitCode::failure;
};

// The URL a connection opens: `url` itself, or with --rooms the server's "/".
std::string connection_url(BenchFlags const& f, std::string const& url);
// Room k (1 … --rooms) of the run: the URL's path, "/", k.
std::string bench_room(BenchFlags const& f, std::size_t k);

// Opens the subscribers (with --rooms, lets them idle for `settle`, then subscribes
// each to every room), lets them idle for `settle`, publishes, and waits until every
// subscriber has every probe (or `timeout`, or a lost connection).
BenchResult run_bench_lanes(BenchFlags const& flags, Duration timeout, Duration settle);

}  // namespace wspush::cmd
