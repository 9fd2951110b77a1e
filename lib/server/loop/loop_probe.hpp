// /healthz's question: does every event loop still turn? A probe posts a no-op to
// each loop and waits, on the home loop, for them to answer within a deadline. A
// loop stuck in a long walk or a blocking call misses it and is named; the home loop
// itself answers the HTTP request, so if it is stuck the request times out instead.
//
// Threading: probe() and its callback on the home loop's thread; the loops' answers
// are posted back to it.
#pragma once

#include <asio/io_context.hpp>
#include <functional>
#include <vector>

#include "common/duration.hpp"

namespace wspush {

class LoopProbe {
 public:
  LoopProbe(asio::io_context& home, std::vector<asio::io_context*> loops, Duration deadline);
  // Calls `done` with the indexes of the loops that did not answer in time (none: all
  // alive), once all have answered or at the deadline.
  void probe(std::function<void(std::vector<std::size_t> const& stalled)> done);

 private:
  asio::io_context& home_;
  std::vector<asio::io_context*> loops_;
  Duration deadline_;
};

}  // namespace wspush
