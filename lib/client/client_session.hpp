// What `wspush client` does with each received frame, in either mode (--async or
// --sync): the line it prints, what it echoes, when it has seen enough, and the
// statistics and exit code it ends with. No I/O here: the modes do the I/O.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client/seq_tracker.hpp"
#include "common/codec.hpp"
#include "common/duration.hpp"
#include "common/frame.hpp"

namespace wspush {

// Exit codes of the clients, one per cause (README and --help list them).
enum class ExitCode : int {
  ok = 0,
  failure = 1,  // anything not listed below (e.g. stdout closed)
  usage = 2,
  connect = 3,    // DNS or TCP (or the proxy) failed
  tls = 4,        // TLS handshake or certificate verification failed
  handshake = 5,  // the server answered the upgrade with an HTTP error
  protocol = 6,   // protocol error or abnormal close
  timeout = 7,    // --timeout, --idle-timeout, or no handshake answer in time
  gap = 8,        // a seq gap that was not recovered
};

struct ClientSessionOptions {
  std::optional<std::uint64_t> count;  // stop after this many messages
  bool echo = false;                   // send every frame back unchanged
};

struct Reaction {
  std::optional<std::string> line;     // print this on stdout (one line, no newline)
  std::optional<std::string> warning;  // say this on stderr (a gap, a duplicate)
  bool echo = false;                   // send the frame back unchanged
  bool finish = false;                 // --count reached: say close and close
};

// One room's part of the stats (a room named by the messages: a subscription's).
struct RoomStats {
  std::uint64_t received = 0;
  std::uint64_t gaps = 0;
  std::uint64_t missed = 0;
  std::uint64_t duplicates = 0;
};

struct ClientStats {
  std::uint64_t received = 0;
  std::uint64_t gaps = 0;
  std::uint64_t missed = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t reconnects = 0;   // connections opened after the first
  std::uint64_t resumed = 0;      // reconnections whose ?since= replay was complete
  std::uint64_t unrecovered = 0;  // reconnections the server could not replay fully
  std::optional<std::chrono::microseconds> first_message;  // since the connect started
  std::chrono::microseconds duration{0};
  std::optional<int> close_code;
  std::string close_reason;
  std::map<std::string, RoomStats, std::less<>> rooms;  // by room, for subscriptions
};

// The JSON summary printed by --stats.
std::string encode_stats(ClientStats const& stats);

// Whether a close code ends the stream normally (1000 normal, 1001 going away).
bool is_normal_close(int code);

// `url` with its since= query parameter set to `since` and, when known, epoch= to the
// stream's epoch (added or replaced).
std::string resume_url(std::string const& url, std::uint64_t since,
                       std::optional<std::uint64_t> epoch = std::nullopt);

// Reconnection delays: exponential from `base`, capped, with jitter so that many
// clients cut off at once do not come back at once.
class Backoff {
 public:
  Backoff(Duration base, Duration cap) : base_(base), cap_(cap) {}
  // `random` in [0, 1): the delay is between half and all of the exponential step.
  Duration next(double random);
  void reset() { attempt_ = 0; }
  unsigned attempt() const { return attempt_; }

 private:
  Duration base_;
  Duration cap_;
  unsigned attempt_ = 0;
};

class ClientSession {
 public:
  explicit ClientSession(ClientSessionOptions options);

  // `elapsed` is the time since the connect started (for the first-message latency).
  Reaction on_frame(Opcode opcode, std::string_view payload, std::chrono::microseconds elapsed);

  bool finished() const { return finished_; }
  // The URL's room: its seq accounting, and its stream's epoch from the last recovery
  // event (to resume with ?since= and ?epoch=).
  SeqTracker const& seq() const { return url_room_.seq; }
  std::optional<std::uint64_t> epoch() const { return url_room_.epoch; }
  ClientStats& stats() { return stats_; }

  // What a (re)connection sends to follow the rooms of `wanted` (--subscribe: paths and
  // patterns): every room heard from through a subscription resumes from its last seq
  // and epoch, then what is wanted and not resumed that way (patterns; rooms not heard
  // from yet) is subscribed afresh. JSON texts, in order.
  std::vector<std::string> subscribes(std::vector<std::string> const& wanted) const;

  // The exit code once the connection is over without a transport failure: a close
  // code of nullopt means the client finished (count reached) or was stopped.
  ExitCode outcome(std::optional<int> close_code) const;

 private:
  struct RoomTrack {
    SeqTracker seq;
    std::optional<std::uint64_t> epoch;
  };
  RoomTrack& track_of(std::optional<std::string> const& room);
  std::optional<std::string> observe(RoomTrack& track, ServerText const& info);

  ClientSessionOptions options_;
  RoomTrack url_room_;
  std::map<std::string, RoomTrack, std::less<>> rooms_;  // by room, for subscriptions
  ClientStats stats_;
  bool finished_ = false;
};

// How a frame is printed: a JSON text frame as received (compacted if it spans lines),
// any other text frame as {"text":"..."}, a binary frame as {"binary":"BASE64"}, so
// that stdout is always one JSON value per line.
std::string printable_line(Opcode opcode, std::string_view payload, bool json, bool one_line);

}  // namespace wspush
