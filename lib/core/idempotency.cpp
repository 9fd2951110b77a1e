#include "core/idempotency.hpp"

#include "core/broker.hpp"

namespace wspush {
namespace {

std::string full_key(std::string const& room, std::string const& key) {
  std::string k = room;
  k.push_back('\0');
  return k + key;
}

PublishAck repeat_of(PublishAck ack) {
  ack.duplicate = true;
  return ack;
}

}  // namespace

// Keys past their window, and the oldest beyond max_keys_, go. One on its way stays
// until answered (it is young: a publish is answered within seconds).
void IdempotencyKeys::forget_old(std::int64_t now_ms) {
  while (!order_.empty()) {
    auto const& [ms, k] = order_.front();
    if (ms >= now_ms - window_ms_ && keys_.size() <= max_keys_) break;
    auto const it = keys_.find(k);
    if (it != keys_.end() && it->second.ms == ms) {  // not a newer entry of the same key
      if (it->second.seq == 0) break;
      keys_.erase(it);
    }
    order_.pop_front();
  }
}

bool IdempotencyKeys::begin(std::string const& room, std::string const& key, std::int64_t now_ms,
                            Done& done) {
  forget_old(now_ms);
  std::string k = full_key(room, key);
  auto const it = keys_.find(k);
  if (it == keys_.end()) {
    keys_.emplace(k, Entry{now_ms, 0, {}});
    order_.emplace_back(now_ms, std::move(k));
    return true;
  }
  if (it->second.seq == 0) {
    it->second.waiting.push_back(std::move(done));
  } else if (done) {
    PublishAck ack;
    ack.seq = it->second.seq;
    ack.duplicate = true;
    done(ack);
  }
  return false;
}

void IdempotencyKeys::finish(std::string const& room, std::string const& key,
                             PublishAck const& ack) {
  auto const it = keys_.find(full_key(room, key));
  if (it == keys_.end()) return;
  std::vector<Done> waiting = std::move(it->second.waiting);
  if (ack.refusal) {
    keys_.erase(it);  // its place in order_ goes when it comes round
  } else {
    it->second.seq = ack.seq;
    it->second.waiting.clear();
  }
  for (Done& d : waiting) {
    if (d) d(repeat_of(ack));
  }
}

void IdempotencyKeys::restore(std::string const& room, std::string const& key, std::int64_t ms,
                              std::uint64_t seq) {
  std::string k = full_key(room, key);
  if (!keys_.emplace(k, Entry{ms, seq, {}}).second) return;
  order_.emplace_back(ms, std::move(k));
}

}  // namespace wspush
