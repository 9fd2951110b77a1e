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
  return encode_object(std::vector<Field>{
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
}

ClientSession::ClientSession(ClientSessionOptions options) : options_(options) {}

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
    if (info.epoch) epoch_ = info.epoch;
    if (info.recovered) {  // the answer to our ?since= after a reconnection
      if (*info.recovered) {
        ++stats_.resumed;
      } else {
        ++stats_.unrecovered;
        seq_.forget();  // what follows starts afresh; the loss is counted here
        r.warning = "the server could not replay everything missed since the connection broke";
      }
    }
    if (info.seq) {
      auto const before = seq_.last();
      switch (seq_.observe(*info.seq)) {
        case SeqTracker::Verdict::gap:
          r.warning = "gap: expected seq " + std::to_string(*before + 1) + ", got " +
                      std::to_string(*info.seq);
          break;
        case SeqTracker::Verdict::duplicate:
          r.warning =
              "duplicate: seq " + std::to_string(*info.seq) + " after " + std::to_string(*before);
          break;
        default:
          break;
      }
    }
  }
  stats_.gaps = seq_.gaps();
  stats_.missed = seq_.missed();
  stats_.duplicates = seq_.duplicates();
  r.line = printable_line(opcode, payload, json, one_line);
  r.echo = options_.echo;
  if (options_.count && stats_.received >= *options_.count) {
    r.finish = true;
    finished_ = true;
  }
  return r;
}

ExitCode ClientSession::outcome(std::optional<int> close_code) const {
  if (close_code && !finished_ && !is_normal_close(*close_code)) return ExitCode::protocol;
  if (seq_.gaps() > 0 || stats_.unrecovered > 0) return ExitCode::gap;
  return ExitCode::ok;
}

}  // namespace wspush
