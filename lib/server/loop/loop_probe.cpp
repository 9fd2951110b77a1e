#include "server/loop/loop_probe.hpp"

#include <algorithm>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <memory>

namespace wspush {
namespace {

// One probe in flight: which loops answered, and the deadline. Owned by the posted
// handlers and the timer; only the home thread touches it.
struct Round {
  Round(asio::io_context& home, std::size_t loops) : answered(loops, false), timer(home) {}
  std::vector<bool> answered;
  asio::steady_timer timer;
  std::function<void(std::vector<std::size_t> const&)> done;

  void finish() {
    if (!done) return;
    std::vector<std::size_t> stalled;
    for (std::size_t k = 0; k < answered.size(); ++k) {
      if (!answered[k]) stalled.push_back(k);
    }
    timer.cancel();
    std::exchange(done, nullptr)(stalled);
  }
};

}  // namespace

LoopProbe::LoopProbe(asio::io_context& home, std::vector<asio::io_context*> loops,
                     Duration deadline)
    : home_(home), loops_(std::move(loops)), deadline_(deadline) {}

void LoopProbe::probe(std::function<void(std::vector<std::size_t> const& stalled)> done) {
  auto round = std::make_shared<Round>(home_, loops_.size());
  round->done = std::move(done);
  round->timer.expires_after(deadline_);
  round->timer.async_wait([round](asio::error_code const& ec) {
    if (!ec) round->finish();
  });
  for (std::size_t k = 0; k < loops_.size(); ++k) {
    asio::post(*loops_[k], [round, k, &home = home_] {
      asio::post(home, [round, k] {
        if (!round->done) return;
        round->answered[k] = true;
        auto const& all = round->answered;
        if (std::find(all.begin(), all.end(), false) == all.end()) round->finish();
      });
    });
  }
}

}  // namespace wspush
