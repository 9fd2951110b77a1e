// One lane of a `wspush bench` run: a ConnectionFleet on its own thread with its share
// of the subscribers, their ledgers and latencies, touched by that thread only; lane 0
// (the calling thread) also carries the publishers, their windows and --rate. A lane
// tells the run (LaneEvents, bench_run.cpp) of the few events that concern all lanes.
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "bench_run.hpp"
#include "client/bench_ledger.hpp"
#include "client_transport/fleet.hpp"

namespace wspush::cmd {

// What the lanes share: called from any lane's thread.
class LaneEvents {
 public:
  virtual ~LaneEvents() = default;
  virtual BenchFlags const& flags() const = 0;
  virtual void subscriber_open() = 0;        // one more subscriber connected
  virtual void subscriber_subscribed() = 0;  // --rooms: one more follows every room
  virtual void publishing() = 0;             // lane 0: every publisher is ready
  virtual void lane_done() = 0;              // a lane's subscribers have every probe
  virtual void fail(std::string why, ExitCode code) = 0;
};

// Part k of n things cut into `parts` as even as can be (the first ones one larger).
std::size_t share(std::size_t n, std::size_t parts, std::size_t k);

class Lane {
 public:
  Lane(LaneEvents& run, std::size_t index, std::size_t subscribers);
  void open_subscribers();
  void subscribe_all();
  void open_publishers();
  void close_soon();
  ConnectionFleet& fleet() { return fleet_; }
  std::atomic<std::uint64_t> const& delivered() const { return delivered_; }
  void merge_into(BenchResult& r);

 private:
  bool is_publisher(std::size_t conn) const { return conn >= subscribers_; }
  void on_open(std::size_t conn);
  void subscribe(std::size_t conn);
  void publisher_ready();
  void on_message(std::size_t conn, std::string const& message);
  void on_answer(std::size_t conn, std::string const& message);
  void pump(std::size_t p);
  std::uint64_t due() const;
  void tick();

  LaneEvents& run_;
  BenchFlags const& f_;
  std::size_t const index_;
  std::size_t const subscribers_;
  std::uint64_t const expected_;  // deliveries to this lane's subscribers
  ConnectionFleet fleet_;
  std::vector<DeliveryLedger> ledgers_;
  std::vector<double> latencies_;
  std::vector<std::uint64_t> sent_;      // lane 0: per publisher
  std::vector<std::uint64_t> echoed_;    // own probes back: sent_ - echoed_ are in flight
  std::vector<std::size_t> subscribed_;  // --rooms: `subscribed` answers, per connection
  std::uint64_t wire_bytes_ = 0;         // the subscribers' sockets', at the end
  std::vector<std::string> rooms_;       // --rooms: their paths
  std::size_t publishers_open_ = 0;
  std::chrono::steady_clock::time_point publish_start_;
  std::atomic<std::uint64_t> delivered_{0};  // written by this lane's thread only
};

}  // namespace wspush::cmd
