#include "core/broker.hpp"

#include "common/codec.hpp"
#include "common/frame.hpp"

namespace wspush {

void InMemoryBroker::open_stream(std::string const& room, std::size_t history, StreamScope) {
  if (streams_.find(room) != streams_.end()) return;
  Journal::Stored stored;
  if (journal_) stored = journal_->load(room, history);
  auto stream = std::make_unique<Stream>(history, epoch_of(room, stored.epoch), next_stream_id_++);
  if (journal_) {
    stream->seq = stream->published = stored.last_seq;
    for (Journal::Message const& m : stored.messages) {
      stream->messages.append(m.seq, framed_message(Opcode::text, m.envelope), m.ms);
    }
  }
  streams_.emplace(room, std::move(stream));
}

std::uint64_t InMemoryBroker::epoch_of(std::string const& room, std::uint64_t stored) const {
  if (auto const it = room_epochs_.find(room); it != room_epochs_.end()) return it->second;
  return stored != 0 ? stored : epoch_;
}

void InMemoryBroker::delete_stream(std::string const& room,
                                   std::function<void(std::optional<Refusal> const&)> done) {
  // A new epoch: later than any this room had (the process's, or a deletion's).
  std::uint64_t epoch =
      std::max<std::uint64_t>(epoch_, static_cast<std::uint64_t>(wall_clock_ms()) * 1000);
  auto const it = streams_.find(room);
  if (it != streams_.end()) epoch = std::max(epoch, it->second->epoch + 1);
  if (auto const known = room_epochs_.find(room); known != room_epochs_.end()) {
    epoch = std::max(epoch, known->second + 1);
  }
  room_epochs_[room] = epoch;
  if (it != streams_.end()) {
    it->second =
        std::make_unique<Stream>(it->second->messages.capacity(), epoch, next_stream_id_++);
  }
  if (journal_) journal_->erase(room, epoch);
  if (sink_) sink_->on_stream_deleted(room);
  if (done) done(std::nullopt);
}

void InMemoryBroker::drop_stream(std::string const& room) {
  auto const it = streams_.find(room);
  // A stream with messages on their way to the journal stays: its next seq is theirs.
  if (it != streams_.end() && it->second->seq == it->second->published) streams_.erase(it);
}

void InMemoryBroker::keep_keys(std::int64_t window_ms, std::size_t max_keys) {
  keys_.reset();
  if (window_ms <= 0) return;  // keys ignored
  keys_ = std::make_unique<IdempotencyKeys>(window_ms, max_keys);
  if (!journal_) return;
  for (Journal::Key const& k : journal_->keys(wall_clock_ms() - window_ms)) {
    keys_->restore(k.room, k.key, k.ms, k.seq);
  }
}

void InMemoryBroker::publish(std::string const& room, std::string_view event,
                             std::string_view data_json,
                             std::function<void(PublishAck const&)> done, std::string const& key) {
  if (key.empty() || !keys_) return publish_new(room, event, data_json, std::move(done), {});
  if (!keys_->begin(room, key, wall_clock_ms(), done)) return;
  publish_new(
      room, event, data_json,
      [this, room, key, done = std::move(done)](PublishAck const& ack) {
        if (done) done(ack);
        keys_->finish(room, key, ack);  // then the repeats that waited
      },
      key);
}

void InMemoryBroker::publish_new(std::string const& room, std::string_view event,
                                 std::string_view data_json,
                                 std::function<void(PublishAck const&)> done,
                                 std::string const& key) {
  auto const it = streams_.find(room);
  if (it == streams_.end()) {
    if (done) done(PublishAck{Refusal{Reason::unknown_room, "unknown room: " + room}, 0});
    return;
  }
  Stream& s = *it->second;
  std::uint64_t const seq = ++s.seq;
  std::uint64_t const id = s.id;
  std::int64_t const ms = wall_clock_ms();
  std::string envelope = encode_json_event(200, event, data_json, seq);
  if (!journal_) {
    // Encoded and framed once: the same bytes go to every member and into the history.
    return published(room, id, seq, ms, framed_message(Opcode::text, envelope), done);
  }
  Payload framed = framed_message(Opcode::text, envelope);
  journal_->write(
      room, seq, ms, std::move(envelope), s.messages.capacity(), key,
      [this, room, id, seq, ms, framed = std::move(framed),
       done = std::move(done)](std::string const& error) {
        if (error.empty()) return published(room, id, seq, ms, framed, done);
        if (done) {
          done(PublishAck{Refusal{Reason::broker_unavailable, "data dir: " + error}, 0});
        }
      });
}

void InMemoryBroker::published(std::string const& room, std::uint64_t id, std::uint64_t seq,
                               std::int64_t ms, Payload const& framed,
                               std::function<void(PublishAck const&)> const& done) {
  if (auto const it = streams_.find(room); it != streams_.end() && it->second->id == id) {
    it->second->published = seq;
    it->second->messages.append(seq, framed, ms);
    if (sink_) sink_->on_published(room, seq, framed);
  }
  if (done) done(PublishAck{std::nullopt, seq});
}

void InMemoryBroker::expire(std::string const& room, std::int64_t ttl_ms, std::int64_t now_ms) {
  auto const it = streams_.find(room);
  if (it == streams_.end() || it->second->messages.expire(now_ms - ttl_ms) == 0) return;
  Stream const& s = *it->second;
  if (journal_) journal_->trim(room, s.messages.first_seq().value_or(s.published + 1));
}

History::Replay InMemoryBroker::replay_after(std::string const& room, std::uint64_t since) const {
  auto const it = streams_.find(room);
  if (it == streams_.end()) return History::Replay{since == 0, {}, {}};
  return it->second->messages.after(since, it->second->published);
}

void InMemoryBroker::keep_deflated(std::string const& room, std::uint64_t seq, Payload deflated) {
  auto const it = streams_.find(room);
  if (it != streams_.end()) it->second->messages.keep_deflated(seq, std::move(deflated));
}

StreamState InMemoryBroker::state(std::string const& room) const {
  StreamState st;
  st.epoch = epoch_of(room, 0);
  auto const it = streams_.find(room);
  if (it == streams_.end()) return st;
  Stream const& s = *it->second;
  st.epoch = s.epoch;
  st.last_seq = s.published;
  st.first_seq = s.messages.first_seq();
  st.size = s.messages.size();
  st.capacity = s.messages.capacity();
  return st;
}

}  // namespace wspush
