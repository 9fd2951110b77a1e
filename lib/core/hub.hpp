// The protocol of SPEC §2–§3 without sockets: admits handshakes, joins sessions to
// rooms, answers client events, publishes ticks and relayed messages through the
// broker and hands what the broker numbered to the transport.
//
// Threading: a Hub holds no locks; its user serialises every call (the server holds
// one mutex around each). Delivery goes through the injected Broker, Outbox and
// Timers, so tests drive it with an in-memory broker and fakes.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/deflate.hpp"
#include "common/timefmt.hpp"
#include "common/url.hpp"
#include "core/broker.hpp"
#include "core/outbox.hpp"
#include "core/refusal.hpp"
#include "core/room_registry.hpp"

namespace wspush {

struct HubOptions {
  Duration tick_interval{};              // ticker rooms' period
  std::size_t max_rooms_per_family = 0;  // 0: no limit
  std::size_t max_subscriptions = 0;     // per connection (a pattern counts one); 0: none
  // permessage-deflate (SPEC §6.1): a room message of at least this many bytes is
  // compressed once for all the members that agreed to it; smaller ones go plain.
  std::size_t compression_min_size = 128;
};

// {"event":"subscribe","room":PATH,"since":SEQ,"epoch":E} (SPEC §3.1).
struct SubscribeRequest {
  std::string room;  // a room's path, or a family's pattern "/chat/*"
  std::optional<std::uint64_t> since;
  std::optional<std::uint64_t> epoch;
};

// The path of a connection that follows rooms by name only: "/", or "/events" with
// ?room= repeated (SPEC §3.1). No room may have either path.
inline constexpr std::string_view kEventsPath = "/events";

// The answer to a publish from outside the room (HTTP API, `wspush publish`, stdin).
// One room's part of a publish into several (POST /api/publish?room=/a&room=/b).
struct RoomPublish {
  std::string room;
  std::optional<Refusal> refusal;
  std::size_t delivered = 0;
  std::uint64_t seq = 0;
  bool duplicate = false;
};

struct PublishResult {
  std::optional<Refusal> refusal;  // why it was not published (nothing else is set then,
                                   // but `rooms` when several were named)
  std::size_t delivered = 0;       // members it was queued for
  std::uint64_t seq = 0;
  bool duplicate = false;  // its idempotency key was seen: `seq` is the first publish's
  std::vector<RoomPublish> rooms = {};  // several rooms: each one's answer, in the URL's order
};
using PublishDone = std::function<void(PublishResult const&)>;

struct RoomInfo {
  std::string path;  // "/chat/*" for a family
  RoomKind kind;
  bool family = false;
  std::size_t members = 0;                  // in the cluster (with --broker), else on this node
  std::optional<std::size_t> node_members;  // with --broker: on this node
  std::uint64_t last_seq = 0;
  std::size_t history = 0;  // messages held
  std::size_t history_capacity = 0;
  SlowConsumerPolicy slow_consumer = SlowConsumerPolicy::disconnect;
  std::uint64_t dropped = 0;       // messages slow members did not get (`latest`)
  std::uint64_t disconnected = 0;  // slow members cut off (`disconnect`)
};

// The path of publish streams (a WebSocket) and of POST publishes.
inline constexpr std::string_view kPublishPath = "/api/publish";

class Hub final : private BrokerSink {
 public:
  Hub(RoomRegistry& rooms, Broker& broker, Outbox& outbox, Timers& timers, WallClock const& clock,
      HubOptions options);

  // Opens the declared rooms' streams and starts their tickers.
  void start();
  // --history-ttl: each room's messages older than its TTL leave its history (and the
  // broker's store). Called every second.
  void expire_history();

  // At the handshake: nullopt to accept `resource` (path and query), or a refusal
  // (404 unknown room, 400 a malformed ?since=).
  std::optional<Refusal> admit(std::string_view resource) const;
  // After the handshake: joins the room (admit() must have accepted) and returns what the
  // session gets first: the welcome and, in a ticker room, the current time; with
  // ?since=SEQ a `recovery` event and the retained messages after SEQ, before any live
  // message (no publish can slip between them: the caller holds the Hub until the join
  // is its transport's). nullopt when the room's stream is not ready yet: the join then
  // comes through the Outbox once it is (on_stream_ready), or when the room is unknown
  // after all (refused through the Outbox: 404 and a close).
  // A connection to "/" or "/events" joins no room: its RoomJoin has no room (0), only the
  // welcome. `allowed`: its token's `rooms` claim (nullopt: no claim), checked at each
  // subscribe. `deflate`: it agreed to permessage-deflate with a window the server's
  // compressed messages fit: its rooms' messages reach it compressed.
  std::optional<RoomJoin> join(SessionId id, std::string_view resource,
                               std::optional<std::vector<std::string>> allowed = std::nullopt,
                               bool deflate = false);
  // A publisher stream, "/api/publish?room=PATH&event=E" over WebSocket: every text
  // frame is one event's JSON data (publish_from_stream), answered in order by one
  // "published" (or error) message. admit_publisher: nullopt, or 400 (no room), 404,
  // 403 (ticker, echo).
  std::optional<Refusal> admit_publisher(std::string_view resource) const;
  void join_publisher(SessionId id, std::string_view resource);

  // The connection is gone; idempotent.
  void leave(SessionId id);
  // The member said bye: it leaves its room (its loop says bye and closes).
  void leave_room(SessionId id);

  // What a session's loop decided (core/client_protocol.hpp) and cannot do itself:
  // a member's publish into its URL's relay room (`room` nullopt) or into a relay room it
  // follows, a publish stream's frame.
  void publish_from_member(SessionId id, std::optional<std::string_view> room,
                           std::string_view data_json);
  void publish_from_stream(SessionId id, std::string_view text);

  // Follows another room or a family (SPEC §3.1), answered through the Outbox: a
  // `subscribed` event with the join (then, with `since`, the recovery event and the
  // replay), or an error event naming the room (404 unknown, 403 the token, 409 already,
  // 429 too many); the connection stays either way.
  void subscribe(SessionId id, SubscribeRequest const& request);
  // Stops following `room` (a path or a pattern): `unsubscribed`, and nothing of it after.
  void unsubscribe(SessionId id, std::string_view room);
  // After its join: what "/events?room=A&room=B(&resume=POSITIONS)" names, each room from
  // where the resume token (common/positions.hpp) says the connection was.
  void subscribe_named(SessionId id, std::string_view resource);

  // A ticker room's timer fired.
  void tick(std::string const& room_path);

  // A publish request, `resource` "/api/publish?room=PATH&event=E" (as POST /api/publish
  // sends it) and `body` its JSON data, answered through `done`; `key`: its
  // Idempotency-Key header, if any.
  // Several room= parameters (at most 100): each room gets the message with its own seq,
  // once every room is checked (one unknown or refused room: nothing is published).
  void publish_request(std::string_view resource, std::string_view body, PublishDone done,
                       std::string const& key = {});

  // Publishes `json` (one compact JSON value) into the room at `path` as `event`.
  // A family room is created for it; ticker and echo rooms refuse (403). A `key` seen
  // in the room within --idempotency-window publishes nothing and answers the first's
  // seq (`duplicate`); a key over 256 bytes is refused (400).
  void publish(std::string_view path, std::string_view event, std::string_view json,
               PublishDone done, std::string const& key = {});

  std::vector<RoomInfo> rooms() const;

  // DELETE /api/rooms?room=PATH: the room's history and seq go (it starts again at seq 0
  // in a new epoch); its URL members are closed with 4012, its subscribers told
  // `unsubscribed` (410). 404 unknown room, 403 ticker or echo room, 503 broker down.
  void delete_room(std::string_view resource, std::function<void(std::optional<Refusal>)> done);

  std::size_t sessions() const { return session_count_; }
  std::size_t room_count() const { return rooms_.size(); }
  // Counted under the Hub's lock, once per publish or join (not per delivery).
  struct Counts {
    std::uint64_t broadcasts = 0;             // messages numbered into a room of this node
    std::uint64_t replays_recovered = 0;      // ?since= joins told recovered:true
    std::uint64_t replays_not_recovered = 0;  // … told recovered:false (history too short)
  };
  Counts const& counts() const { return counts_; }

 private:
  // A room a session receives by its subscriptions: named (`exact`), covered by a
  // followed family (`pattern`), or both.
  struct Follow {
    Room* room = nullptr;
    bool exact = false;
    bool pattern = false;
    bool parked = false;                        // its stream is not ready yet: joined once it is
    std::optional<std::uint64_t> since, epoch;  // parked: where to resume
  };
  struct Session {
    Room* room = nullptr;  // its URL's room; nullptr: none, or it stopped receiving it
    bool live = false;     // an entry of sessions_ in use
    bool deflate = false;  // it takes compressed messages
    // What few sessions need, allocated only for them: a room member costs 24 bytes.
    struct Rare {
      std::string publish_room;  // a publisher stream: where its frames go
      std::string publish_event;
      bool publish_keyed = false;   // ?keyed=1: frames are {"idempotency_key":K,"data":D}
      std::string parked_resource;  // joining a room whose stream is not ready yet
      std::vector<std::string> subscriptions;  // paths and patterns, as subscribed
      std::vector<Follow> follows;
      std::optional<std::vector<std::string>> allowed;  // its token's rooms claim
    };
    std::unique_ptr<Rare> rare;
    Rare& rare_part() {
      if (!rare) rare = std::make_unique<Rare>();
      return *rare;
    }
    bool publisher() const { return rare && !rare->publish_room.empty(); }
    bool parked() const { return rare && !rare->parked_resource.empty(); }
  };
  static StreamScope scope_of(Room const& room) {
    return room.kind() == RoomKind::ticker ? StreamScope::node : StreamScope::cluster;
  }
  void on_stream_ready(std::string const& room) override;
  void on_stream_deleted(std::string const& room) override;
  void on_room_seen(std::string const& room) override;
  RoomJoin enter(Room& room, std::string_view resource, bool deflate);
  RoomJoin room_join(Room const& room, StreamState const& stream, bool tagged, bool deflate) const;
  void replay(RoomJoin& join, Room const& room, StreamState const& stream, std::uint64_t since,
              std::optional<std::uint64_t> epoch);
  // A URL member's replay in the form it takes: compressed twins, made (and kept) for
  // those the history does not have yet.
  void replay_deflated(RoomJoin& join, Room const& room, History::Replay& r);
  // `framed` compressed as one frame, or null when it is under the minimum size.
  Payload deflated(Payload const& framed);
  // Subscriptions (hub_subscribe.cpp).
  void follow_room(SessionId id, Session& s, std::string const& path,
                   SubscribeRequest const& request);
  void follow_family(SessionId id, Session& s, std::string const& pattern);
  void add_follower(SessionId id, Session& s, Room& room);  // a pattern covers `room` now
  RoomJoin subscription_join(Room& room, SubscribeRequest const& request, bool deflate);
  void drop_follow(SessionId id, Session& s, Room* room, bool gone);
  void drop_subscriptions(SessionId id, Session& s, bool gone);
  void on_room_created(Room& room);
  void forget_follower(SessionId id, std::string const& pattern);
  void refuse_subscription(SessionId id, std::string_view room, Refusal const& refusal);
  Follow* follow_of(Session& s, std::string_view path);
  void on_published(std::string const& room, std::uint64_t seq, Payload const& framed) override;

  // 404 for a room no declaration covers, 403 for a ticker or echo room.
  std::optional<Refusal> publish_refusal(std::string const& room) const;
  void publish_to_rooms(std::vector<std::string> const& rooms, std::string const& event,
                        std::string const& json, PublishDone done, std::string const& key);
  Room* room_for(std::string_view path);
  bool bare(std::string_view path) const;
  Refusal room_limit(std::string_view path) const;
  void reply_error(SessionId id, Refusal const& refusal);
  void detach(SessionId id, Session& session);
  void drop_if_unused(Room const& room);
  void send(SessionId id, std::string const& message);
  Session* find_session(SessionId id);
  Session& add_session(SessionId id);  // a fresh entry for `id`
  void erase_session(SessionId id);

  RoomRegistry& rooms_;
  Broker& broker_;
  Outbox& outbox_;
  Timers& timers_;
  WallClock const& clock_;
  HubOptions options_;
  // By id. Shards hand out small ids and reuse them (a slot times the shard count, plus
  // the shard), so a vector indexed by id stays dense: 24 bytes a session, where a hash
  // map's node and bucket took about 56.
  std::vector<Session> sessions_;
  std::size_t session_count_ = 0;
  std::unordered_map<std::string, std::vector<SessionId>> parked_;     // by room path
  std::unordered_map<std::string, std::vector<SessionId>> followers_;  // by family pattern
  Counts counts_;
};

// GET /api/rooms: {"rooms":[{"path","kind","family","members","last_seq","history",
// "history_capacity"},...]}.
std::string encode_rooms(std::vector<RoomInfo> const& rooms);
// {"delivered":N,"seq":S} (and "duplicate":true): a publish's answer, HTTP and stream.
std::string encode_publish_result(PublishResult const& result);

}  // namespace wspush
