// Accounting for `wspush bench`, without sockets: the probe messages publishers send,
// what each subscriber received (lost, duplicated, reordered) and latency percentiles.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wspush {

// A publisher's probe: {"event":"publish","data":{"p":P,"i":I,"t":T,"pad":"xx…"}},
// padded so that the relayed data is about `size` bytes. T is the send time in ns.
// With `room`, into that followed room: {"event":"publish","room":ROOM,"data":…}.
// `prices`: the padding is a book of price levels, each price and quantity its own (JSON
// as a market feed pushes it, which compresses about 3x), not a run of x's (100x).
std::string make_probe(std::size_t publisher, std::uint64_t index, std::int64_t sent_ns,
                       std::size_t size, std::string_view room = {}, bool prices = false);

struct Probe {
  std::size_t publisher = 0;
  std::uint64_t index = 0;
  std::int64_t sent_ns = 0;
};
// Finds a probe in a relayed message by plain search (no JSON DOM on the hot path).
std::optional<Probe> read_probe(std::string_view message);

// What one subscriber received from `publishers` publishers of `messages` each.
class DeliveryLedger {
 public:
  DeliveryLedger(std::size_t publishers, std::uint64_t messages);

  void observe(Probe const& probe);

  std::uint64_t received() const { return received_; }  // unique probes
  std::uint64_t duplicated() const { return duplicated_; }
  std::uint64_t reordered() const { return reordered_; }  // arrived after a later one
  std::uint64_t lost() const;                             // never received (so far)
  bool complete() const { return received_ == publishers_ * messages_; }

 private:
  std::uint64_t publishers_;
  std::uint64_t messages_;
  std::vector<std::vector<bool>> seen_;  // per publisher, per index
  std::vector<std::uint64_t> highest_;   // per publisher: highest index + 1 seen
  std::uint64_t received_ = 0;
  std::uint64_t duplicated_ = 0;
  std::uint64_t reordered_ = 0;
};

struct LatencySummary {
  std::size_t count = 0;
  double p50_us = 0, p90_us = 0, p99_us = 0, max_us = 0;
};
// Nearest-rank percentiles; sorts `micros` in place.
LatencySummary summarize_latency(std::vector<double>& micros);

}  // namespace wspush
