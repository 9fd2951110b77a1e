#include "core/broker.hpp"

#include "common/codec.hpp"
#include "common/frame.hpp"

namespace wspush {

void InMemoryBroker::open_stream(std::string const& room, std::size_t history, StreamScope) {
  if (streams_.find(room) != streams_.end()) return;
  streams_.emplace(room, std::make_unique<Stream>(history));
}

void InMemoryBroker::drop_stream(std::string const& room) {
  streams_.erase(room);
}

void InMemoryBroker::publish(std::string const& room, std::string_view event,
                             std::string_view data_json,
                             std::function<void(PublishAck const&)> done) {
  auto const it = streams_.find(room);
  if (it == streams_.end()) {
    if (done) done(PublishAck{Refusal{Reason::unknown_room, "unknown room: " + room}, 0});
    return;
  }
  Stream& s = *it->second;
  std::uint64_t const seq = ++s.seq;
  // Encoded and framed once: the same bytes go to every member and into the history.
  Payload const framed =
      framed_message(Opcode::text, encode_json_event(200, event, data_json, seq));
  s.messages.append(seq, framed);
  if (sink_) sink_->on_published(room, seq, framed);
  if (done) done(PublishAck{std::nullopt, seq});
}

History::Replay InMemoryBroker::replay_after(std::string const& room, std::uint64_t since) const {
  auto const it = streams_.find(room);
  if (it == streams_.end()) return History::Replay{since == 0, {}, {}};
  return it->second->messages.after(since, it->second->seq);
}

void InMemoryBroker::keep_deflated(std::string const& room, std::uint64_t seq, Payload deflated) {
  auto const it = streams_.find(room);
  if (it != streams_.end()) it->second->messages.keep_deflated(seq, std::move(deflated));
}

StreamState InMemoryBroker::state(std::string const& room) const {
  StreamState st;
  st.epoch = epoch_;
  auto const it = streams_.find(room);
  if (it == streams_.end()) return st;
  Stream const& s = *it->second;
  st.last_seq = s.seq;
  st.first_seq = s.messages.first_seq();
  st.size = s.messages.size();
  st.capacity = s.messages.capacity();
  return st;
}

}  // namespace wspush
