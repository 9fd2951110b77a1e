#include "client/client_session.hpp"

#include "common/base64.hpp"
#include "common/codec.hpp"
#include "common/url.hpp"

namespace wspush {

std::string printable_line(Opcode opcode, std::string_view payload, bool json, bool one_line) {
  if (opcode == Opcode::binary) return encode_object({{"binary", base64_encode(payload)}});
  if (json && one_line) return std::string(payload);
  if (json) {
    std::string error;
    if (auto compact = compact_json(payload, &error)) return *compact;
  }
  return encode_object({{"text", payload}});
}

bool is_normal_close(int code) {
  return code == 1000 || code == 1001;
}

std::string resume_url(std::string const& url, std::uint64_t since,
                       std::optional<std::uint64_t> epoch) {
  if (!epoch) return with_query(url, {"since", "epoch"}, {{"since", std::to_string(since)}});
  return with_query(url, {"since", "epoch"},
                    {{"since", std::to_string(since)}, {"epoch", std::to_string(*epoch)}});
}

Duration Backoff::next(double random) {
  double step = static_cast<double>(base_.count());
  for (unsigned i = 0; i < attempt_ && step < static_cast<double>(cap_.count()); ++i) step *= 2;
  if (step > static_cast<double>(cap_.count())) step = static_cast<double>(cap_.count());
  ++attempt_;
  return Duration(static_cast<Duration::rep>(step * (0.5 + 0.5 * random)));
}

std::string encode_stats(ClientStats const& s) {
  using Field = std::pair<std::string_view, JsonScalar>;
  auto const millis = [](std::chrono::microseconds d) { return d.count() / 1000.0; };
  JsonScalar first = nullptr;
  if (s.first_message) first = millis(*s.first_message);
  JsonScalar code = nullptr;
  if (s.close_code) code = std::int64_t{*s.close_code};
  std::string out = encode_object(std::vector<Field>{
      {"event", std::string_view("stats")},
      {"received", s.received},
      {"gaps", s.gaps},
      {"missed", s.missed},
      {"duplicates", s.duplicates},
      {"reconnects", s.reconnects},
      {"resumed", s.resumed},
      {"unrecovered", s.unrecovered},
      {"first_message_ms", first},
      {"duration_ms", millis(s.duration)},
      {"close_code", code},
      {"close_reason", std::string_view(s.close_reason)},
  });
  if (s.rooms.empty()) return out;
  out.pop_back();
  out += R"(,"rooms":{)";
  for (auto const& [room, r] : s.rooms) {
    if (out.back() != '{') out.push_back(',');
    out += encode_json_string(room) + ":" +
           encode_object({{"received", r.received},
                          {"gaps", r.gaps},
                          {"missed", r.missed},
                          {"duplicates", r.duplicates}});
  }
  return out + "}}";
}

ClientSession::ClientSession(ClientSessionOptions options) : options_(options) {}

ClientSession::RoomTrack& ClientSession::track_of(std::optional<std::string> const& room) {
  return room ? rooms_[*room] : url_room_;
}

// A room's seq and recovery; the warning to say, if any.
std::optional<std::string> ClientSession::observe(RoomTrack& track, ServerText const& info) {
  std::optional<std::string> warning;
  std::string const where = info.room ? " in " + *info.room : "";
  if (info.epoch) track.epoch = info.epoch;
  if (info.event == "subscribed" && info.room && info.last_seq && !track.seq.last()) {
    // A fresh subscription is live from here: its next message follows the seq it
    // names. A resumed one goes on from its own last seq (the replay comes first).
    track.seq.expect_after(*info.last_seq);
  }
  if (info.recovered) {  // the answer to a resume after a reconnection
    if (*info.recovered) {
      ++stats_.resumed;
    } else {
      ++stats_.unrecovered;
      track.seq.forget();  // what follows starts afresh; the loss is counted here
      warning =
          "the server could not replay everything missed" + where + " since the connection broke";
    }
  }
  if (!info.seq) return warning;
  auto const before = track.seq.last();
  switch (track.seq.observe(*info.seq)) {
    case SeqTracker::Verdict::gap:
      return "gap" + where + ": expected seq " + std::to_string(*before + 1) + ", got " +
             std::to_string(*info.seq);
    case SeqTracker::Verdict::duplicate:
      return "duplicate" + where + ": seq " + std::to_string(*info.seq) + " after " +
             std::to_string(*before);
    default:
      return warning;
  }
}

Reaction ClientSession::on_frame(Opcode opcode, std::string_view payload,
                                 std::chrono::microseconds elapsed) {
  Reaction r;
  if (finished_) return r;  // between our close and the server's: not ours to print
  ++stats_.received;
  if (!stats_.first_message) stats_.first_message = elapsed;
  bool json = false;
  bool one_line = true;
  if (opcode == Opcode::text) {
    ServerText const info = inspect_server_text(payload);
    json = info.json;
    one_line = info.one_line;
    RoomTrack& track = track_of(info.room);
    r.warning = observe(track, info);
    if (info.room) {
      RoomStats& rs = stats_.rooms[*info.room];
      ++rs.received;
      rs.gaps = track.seq.gaps();
      rs.missed = track.seq.missed();
      rs.duplicates = track.seq.duplicates();
    }
  }
  stats_.gaps = url_room_.seq.gaps();
  stats_.missed = url_room_.seq.missed();
  stats_.duplicates = url_room_.seq.duplicates();
  for (auto const& [room, track] : rooms_) {
    stats_.gaps += track.seq.gaps();
    stats_.missed += track.seq.missed();
    stats_.duplicates += track.seq.duplicates();
  }
  r.line = printable_line(opcode, payload, json, one_line);
  r.echo = options_.echo;
  if (options_.count && stats_.received >= *options_.count) {
    r.finish = true;
    finished_ = true;
  }
  return r;
}

std::vector<std::string> ClientSession::subscribes(std::vector<std::string> const& wanted) const {
  std::vector<std::string> out;
  for (auto const& [room, track] : rooms_) {
    if (room.size() >= 2 && room.compare(room.size() - 2, 2, "/*") == 0) continue;
    std::vector<std::pair<std::string_view, JsonScalar>> fields{{"event", "subscribe"},
                                                                {"room", std::string_view(room)}};
    if (auto const last = track.seq.last()) {
      fields.emplace_back("since", *last);
      if (track.epoch) fields.emplace_back("epoch", *track.epoch);
    }
    out.push_back(encode_object(fields));
  }
  for (std::string const& room : wanted) {
    auto const known = rooms_.find(room);
    bool const resumed = known != rooms_.end() && known->second.seq.last();
    if (!resumed)
      out.push_back(encode_object({{"event", "subscribe"}, {"room", std::string_view(room)}}));
  }
  return out;
}

ExitCode ClientSession::outcome(std::optional<int> close_code) const {
  if (close_code && !finished_ && !is_normal_close(*close_code)) return ExitCode::protocol;
  if (stats_.gaps > 0 || stats_.unrecovered > 0) return ExitCode::gap;
  return ExitCode::ok;
}

}  // namespace wspush
