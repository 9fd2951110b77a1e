#include "server/broker/redis_broker.hpp"

#include <hiredis/hiredis.h>
#include <unistd.h>

#include <asio/post.hpp>
#include <cstdlib>

#include "common/codec.hpp"
#include "process/log.hpp"
#include "server/broker/redis_keys.hpp"
#include "server/broker/redis_scripts.hpp"

namespace wspush {

using namespace redis_keys;

namespace {

constexpr auto kPresenceInterval = std::chrono::seconds(2);
constexpr auto kPresenceLifetime = std::chrono::seconds(6);

}  // namespace

RedisBroker::RedisBroker(asio::io_context& io, RedisAddress address, std::mutex& hub_mutex,
                         std::uint64_t node_epoch)
    : io_(io),
      hub_mutex_(hub_mutex),
      local_(node_epoch),
      link_(io, address, *this),
      presence_(io),
      where_(address.sentinels.empty()
                 ? "redis " + address.host + ":" + std::to_string(address.port)
                 : "redis primary '" + address.master + "' of the sentinels"),
      wait_replicas_(address.wait_replicas) {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  node_key_ = "wspush:node:" + std::string(host) + ":" + std::to_string(::getpid()) + ":" +
              std::to_string(node_epoch);
}

void RedisBroker::start() {
  link_.start();
  report_members();
}

// Every 2 s: this node's counts in, the others' out (on `io`).
void RedisBroker::report_members() {
  presence_.expires_after(kPresenceInterval);
  presence_.async_wait([this](asio::error_code const& ec) {
    if (ec) return;
    report_members();
  });
  if (!members_ || !health_.up) return;
  std::vector<std::string> argv{
      "0", node_key_,
      std::to_string(
          std::chrono::duration_cast<std::chrono::milliseconds>(kPresenceLifetime).count())};
  for (auto const& [room, count] : members_()) {
    if (count == 0) continue;
    argv.push_back(room);
    argv.push_back(std::to_string(count));
  }
  link_.script(presence_script(), std::move(argv), [this, alive = alive_](redisReply const* r) {
    if (!*alive || !r || r->type != REDIS_REPLY_ARRAY) return;
    std::unordered_map<std::string, std::size_t> others;
    for (std::size_t k = 0; k + 1 < r->elements; k += 2) {
      others[std::string(text_of(r->element[k]))] += number_of(text_of(r->element[k + 1]));
    }
    std::lock_guard<std::mutex> lock(hub_mutex_);
    others_ = std::move(others);
  });
}

RedisBroker::~RedisBroker() {
  *alive_ = false;
}

void RedisBroker::set_sink(BrokerSink& sink) {
  sink_ = &sink;
  local_.set_sink(sink);
}

void RedisBroker::open_stream(std::string const& room, std::size_t history, StreamScope scope) {
  if (scope == StreamScope::node) return local_.open_stream(room, history, scope);
  if (mirrors_.count(room)) return;
  mirrors_.emplace(room, std::make_unique<StreamMirror>(history));
  on_io([this, channel = channel_of(room)] { link_.subscribe(channel); });
}

bool RedisBroker::ready(std::string const& room) const {
  auto const it = mirrors_.find(room);
  if (it == mirrors_.end()) return true;
  // Unreachable Redis: the node serves what it has rather than keep joins waiting.
  return it->second->started() || (tried_ && !health_.up);
}

void RedisBroker::drop_stream(std::string const& room) {
  if (mirrors_.erase(room) == 0) return local_.drop_stream(room);
  on_io([this, channel = channel_of(room)] { link_.unsubscribe(channel); });
}

void RedisBroker::keep_deflated(std::string const& room, std::uint64_t seq, Payload deflated) {
  auto const it = mirrors_.find(room);
  if (it == mirrors_.end()) return local_.keep_deflated(room, seq, std::move(deflated));
  it->second->keep_deflated(seq, std::move(deflated));
}

History::Replay RedisBroker::replay_after(std::string const& room, std::uint64_t since) const {
  auto const it = mirrors_.find(room);
  if (it == mirrors_.end()) return local_.replay_after(room, since);
  return it->second->replay_after(since);
}

StreamState RedisBroker::state(std::string const& room) const {
  auto const it = mirrors_.find(room);
  if (it == mirrors_.end()) return local_.state(room);
  StreamState st = it->second->state();
  st.shared = true;
  if (auto const other = others_.find(room); other != others_.end()) {
    st.other_members = other->second;
  }
  return st;
}

// RedisLinkEvents, on `io`.

void RedisBroker::on_link_up() {
  std::lock_guard<std::mutex> lock(hub_mutex_);
  health_.up = true;
  ++health_.connects;
  tried_ = true;
  link_error_.clear();
}

void RedisBroker::on_link_down(std::string const& why) {
  std::lock_guard<std::mutex> lock(hub_mutex_);
  link_error_ = why;
  health_.up = false;
  tried_ = true;
  for (auto& [room, mirror] : mirrors_) {
    mirror->on_link_lost();
    // Joins that waited for this stream go ahead with what the node has.
    if (!mirror->started() && sink_) sink_->on_stream_ready(room);
  }
}

void RedisBroker::on_subscribed(std::string_view channel) {
  if (channel.substr(0, kChannelPrefix.size()) != kChannelPrefix) return;
  std::string const room(channel.substr(kChannelPrefix.size()));
  std::uint64_t after = 0;
  std::uint64_t epoch = 0;
  {
    std::lock_guard<std::mutex> lock(hub_mutex_);
    auto const it = mirrors_.find(room);
    if (it == mirrors_.end() || !it->second->begin_read()) return;
    after = it->second->last_seq();
    epoch = it->second->epoch();
  }
  read(room, after, epoch);
}

void RedisBroker::on_message(std::string_view channel, std::string_view payload) {
  if (channel.substr(0, kChannelPrefix.size()) != kChannelPrefix) return;
  auto const space1 = payload.find(' ');
  auto const space2 = payload.find(' ', space1 == std::string_view::npos ? 0 : space1 + 1);
  if (space2 == std::string_view::npos) return;  // not ours
  std::uint64_t const epoch = number_of(payload.substr(0, space1));
  std::uint64_t const seq = number_of(payload.substr(space1 + 1, space2 - space1 - 1));
  std::string const room(channel.substr(kChannelPrefix.size()));
  if (epoch != 0 && seq == 0 && payload.substr(space2 + 1) == "deleted") {
    return on_deleted(room, epoch);
  }
  // Someone else's PUBLISH on our channel is not a message of the room.
  if (epoch == 0 || seq == 0 || payload.substr(space2 + 1, 1) != "{") return;
  std::optional<std::pair<std::uint64_t, std::uint64_t>> next;
  {
    std::lock_guard<std::mutex> lock(hub_mutex_);
    auto const it = mirrors_.find(room);
    if (it == mirrors_.end()) return;
    next = apply(room, *it->second, it->second->on_message(epoch, seq, payload.substr(space2 + 1)));
  }
  if (next) read(room, next->first, next->second);
}

namespace {
// A family's pattern ("/chat/*") as a Redis glob of its rooms' channels: the prefix with
// the glob's own characters escaped, then '*'.
std::string channel_glob(std::string const& pattern) {
  std::string glob(kChannelPrefix);
  for (char c : std::string_view(pattern).substr(0, pattern.size() - 1)) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') glob.push_back('\\');
    glob.push_back(c);
  }
  return glob + "*";
}
}  // namespace

void RedisBroker::watch_family(std::string const& pattern) {
  on_io([this, glob = channel_glob(pattern)] { link_.psubscribe(glob); });
}

void RedisBroker::unwatch_family(std::string const& pattern) {
  on_io([this, glob = channel_glob(pattern)] { link_.punsubscribe(glob); });
}

// A room of a watched family: one this node has a stream of hears its messages on its own
// channel; one it has not is made here (the sink), its stream starting before this
// message, which the first read then brings.
void RedisBroker::on_pattern_message(std::string_view channel, std::string_view payload) {
  if (channel.substr(0, kChannelPrefix.size()) != kChannelPrefix) return;
  auto const space1 = payload.find(' ');
  auto const space2 = payload.find(' ', space1 == std::string_view::npos ? 0 : space1 + 1);
  if (space2 == std::string_view::npos) return;
  std::uint64_t const epoch = number_of(payload.substr(0, space1));
  std::uint64_t const seq = number_of(payload.substr(space1 + 1, space2 - space1 - 1));
  if (epoch == 0 || seq == 0) return;
  std::string const room(channel.substr(kChannelPrefix.size()));
  std::lock_guard<std::mutex> lock(hub_mutex_);
  if (mirrors_.count(room) || !sink_) return;
  sink_->on_room_seen(room);
  if (auto const it = mirrors_.find(room); it != mirrors_.end()) {
    it->second->start_after(seq - 1, epoch);
  }
}

void RedisBroker::read(std::string const& room, std::uint64_t after, std::uint64_t epoch) {
  ++health_.stream_reads;
  link_.script(read_script(),
               {"2", meta_key(room), stream_key(room), std::to_string(after),
                epoch ? std::to_string(epoch) : std::string()},
               [this, alive = alive_, room](redisReply const* r) {
                 if (*alive) on_read(room, r);
               });
}

void RedisBroker::on_read(std::string const& room, redisReply const* r) {
  bool const ok = r && r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
                  r->element[2]->type == REDIS_REPLY_ARRAY;
  if (!ok) {
    if (!r) return;  // the link went down: it says so itself, and reads again when up
    // An error answer: logged; the next seq jump (or reconnection) reads again, and
    // joins that waited go ahead with what this node has.
    spdlog::error("broker: reading {} failed: {}", room, text_of(r));
    std::lock_guard<std::mutex> lock(hub_mutex_);
    auto const it = mirrors_.find(room);
    if (it == mirrors_.end()) return;
    it->second->on_link_lost();
    if (!it->second->started() && sink_) sink_->on_stream_ready(room);
    return;
  }
  std::vector<StreamEntry> entries;
  redisReply const* list = r->element[2];
  for (std::size_t k = 0; k < list->elements; ++k) {
    redisReply const* e = list->element[k];
    // [id, [m, MSG, t, MS]] (t since issue #30)
    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 || e->element[1]->elements < 2) continue;
    redisReply const* fields = e->element[1];
    entries.push_back(StreamEntry{
        number_of(text_of(e->element[0])), std::string(text_of(fields->element[1])),
        fields->elements >= 4 ? static_cast<std::int64_t>(number_of(text_of(fields->element[3])))
                              : 0});
  }
  std::uint64_t const epoch = number_of(text_of(r->element[0]));
  auto const last = static_cast<std::uint64_t>(r->element[1]->integer);
  std::optional<std::pair<std::uint64_t, std::uint64_t>> next;
  {
    std::lock_guard<std::mutex> lock(hub_mutex_);
    auto const it = mirrors_.find(room);
    if (it == mirrors_.end()) return;
    bool const was_started = it->second->started();
    next = apply(room, *it->second, it->second->on_snapshot(epoch, last, std::move(entries)));
    if (!was_started && sink_) sink_->on_stream_ready(room);
  }
  if (next) read(room, next->first, next->second);
}

std::optional<std::pair<std::uint64_t, std::uint64_t>> RedisBroker::apply(
    std::string const& room, StreamMirror const& mirror, StreamMirror::Step step) {
  health_.lost += step.lost;
  if (sink_) {
    for (auto const& [seq, framed] : step.deliver) sink_->on_published(room, seq, framed);
  }
  if (!step.read_after) return std::nullopt;
  return std::make_pair(*step.read_after, mirror.epoch());
}

}  // namespace wspush
