#include "client/seq_tracker.hpp"

namespace wspush {

SeqTracker::Verdict SeqTracker::observe(std::uint64_t seq) {
  if (!last_) {
    last_ = seq;
    return Verdict::first;  // joined mid-stream: whatever came before is not a gap
  }
  if (seq <= *last_) {
    ++duplicates_;
    return Verdict::duplicate;
  }
  Verdict const verdict = seq == *last_ + 1 ? Verdict::next : Verdict::gap;
  if (verdict == Verdict::gap) {
    ++gaps_;
    missed_ += seq - *last_ - 1;
  }
  last_ = seq;
  return verdict;
}

}  // namespace wspush
