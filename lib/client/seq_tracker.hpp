// Per-room sequence accounting on the client side: every broadcast carries "seq",
// +1 per message, so a jump is a gap and a repeat (or step back) a duplicate.
#pragma once

#include <cstdint>
#include <optional>

namespace wspush {

class SeqTracker {
 public:
  enum class Verdict { first, next, gap, duplicate };

  Verdict observe(std::uint64_t seq);

  std::optional<std::uint64_t> last() const { return last_; }
  std::uint64_t gaps() const { return gaps_; }      // jumps forward
  std::uint64_t missed() const { return missed_; }  // messages the jumps skipped
  std::uint64_t duplicates() const { return duplicates_; }

  // The stream restarted at a known point (a resume): the next seq must follow `seq`.
  void expect_after(std::uint64_t seq) { last_ = seq; }
  // The stream restarted at an unknown point (the server could not replay): the next
  // seq starts afresh.
  void forget() { last_.reset(); }

 private:
  std::optional<std::uint64_t> last_;
  std::uint64_t gaps_ = 0;
  std::uint64_t missed_ = 0;
  std::uint64_t duplicates_ = 0;
};

}  // namespace wspush
