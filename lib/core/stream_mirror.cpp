#include "core/stream_mirror.hpp"

#include "common/frame.hpp"

namespace wspush {

StreamMirror::Step StreamMirror::on_message(std::uint64_t epoch, std::uint64_t seq,
                                            std::string_view envelope) {
  Step step;
  if (!started_ || reading_) {
    if (pending_.size() < kMaxPending) pending_.emplace(seq, std::make_pair(epoch, envelope));
    return step;
  }
  if (epoch != epoch_) reset_to(epoch, step);
  if (seq <= last_) return step;  // had it already (from a read of the stream)
  if (seq == last_ + 1) {
    deliver(step, seq, envelope);
    return step;
  }
  // A seq jumped: pub/sub missed something. It waits, and the stream fills the hole.
  pending_.emplace(seq, std::make_pair(epoch, envelope));
  reading_ = true;
  step.read_after = last_;
  return step;
}

StreamMirror::Step StreamMirror::on_snapshot(std::uint64_t epoch, std::uint64_t last_seq,
                                             std::vector<StreamEntry> entries) {
  Step step;
  reading_ = false;
  if (!started_) {
    // Where this node starts: what the stream holds is history, not news.
    started_ = true;
    epoch_ = epoch;
    for (StreamEntry const& e : entries) {
      history_.append(e.seq, framed_message(Opcode::text, e.envelope),
                      e.ms != 0 ? e.ms : wall_clock_ms());
    }
    last_ = last_seq;
  } else {
    if (epoch != epoch_) reset_to(epoch, step);
    for (StreamEntry const& e : entries) {
      if (e.seq <= last_) continue;
      step.lost += e.seq - last_ - 1;  // trimmed from the stream before this node read it
      deliver(step, e.seq, e.envelope);
    }
    if (last_seq > last_) {  // a room without history keeps no entries to read
      step.lost += last_seq - last_;
      last_ = last_seq;
    }
  }
  deliver_waiting(step, /*after_read=*/true);
  return step;
}

void StreamMirror::on_link_lost() {
  reading_ = false;
  pending_.clear();
}

void StreamMirror::start_after(std::uint64_t seq, std::uint64_t epoch) {
  if (started_) return;
  started_ = true;
  last_ = seq;
  epoch_ = epoch;
}

bool StreamMirror::begin_read() {
  if (reading_) return false;
  reading_ = true;
  return true;
}

StreamState StreamMirror::state() const {
  StreamState st;
  st.last_seq = last_;
  st.epoch = epoch_;
  st.first_seq = history_.first_seq();
  st.size = history_.size();
  st.capacity = history_.capacity();
  return st;
}

void StreamMirror::deliver(Step& step, std::uint64_t seq, std::string_view envelope) {
  Payload framed = framed_message(Opcode::text, envelope);
  history_.append(seq, framed, wall_clock_ms());
  last_ = seq;
  step.deliver.emplace_back(seq, std::move(framed));
}

// The live messages that waited, now in order after last_. A hole starts another read,
// unless a read just happened: then the stream does not have it either (it was trimmed,
// or the message never was one of ours), and waiting for it would never end.
void StreamMirror::deliver_waiting(Step& step, bool after_read) {
  while (!pending_.empty()) {
    auto const it = pending_.begin();
    auto const& [epoch, envelope] = it->second;
    std::uint64_t const seq = it->first;
    if (epoch != epoch_ || seq <= last_) {
      pending_.erase(it);  // read already, or from a stream that is gone
      continue;
    }
    if (seq != last_ + 1 && after_read) {
      step.lost += seq - last_ - 1;
    } else if (seq != last_ + 1) {
      reading_ = true;
      step.read_after = last_;
      return;
    }
    deliver(step, seq, envelope);
    pending_.erase(it);
  }
}

void StreamMirror::reset_to(std::uint64_t epoch, Step& step) {
  history_ = History(history_.capacity());
  epoch_ = epoch;
  last_ = 0;
  step.reset = true;
}

}  // namespace wspush
