#include "http/sse.hpp"

#include <rapidjson/document.h>

#include <cctype>

#include "common/codec.hpp"
#include "common/url.hpp"

namespace wspush {
namespace {

// An event name on one line: CR and LF would end the field (and start another).
std::string one_line(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  return out;
}

}  // namespace

bool wants_event_stream(std::string_view accept) {
  std::string lower(accept);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // EventSource says text/event-stream; curl and wget say */* (or nothing); a browser
  // opening the page says text/html first, and gets the page instead.
  return lower.find("text/event-stream") != std::string::npos ||
         lower.find("text/html") == std::string::npos;
}

std::string sse_resource(std::string_view target, std::string_view last_event_id) {
  if (room_path_of(target) == "/events") {
    if (parse_positions(last_event_id).empty()) return std::string(target);
    return with_query(target, {"resume"}, {{"resume", percent_encode(last_event_id)}});
  }
  if (!parse_seq(last_event_id)) return std::string(target);
  // The browser's Last-Event-ID is newer than the ?since= its URL was opened with.
  return with_query(target, {"since"}, {{"since", std::string(last_event_id)}});
}

std::string sse_response_head() {
  return "HTTP/1.1 200 OK\r\n"
         "Content-Type: text/event-stream; charset=utf-8\r\n"
         "Cache-Control: no-cache\r\n"
         "X-Accel-Buffering: no\r\n"
         "Connection: close\r\n"
         "\r\n"
         "retry: 1000\n\n";
}

namespace {

// A stream of several rooms: where the room of this message stands now.
bool move_positions(rapidjson::Document const& doc, Positions& positions) {
  auto const room = doc.FindMember("room");
  if (room == doc.MemberEnd() || !room->value.IsString()) return false;
  RoomPosition& p = positions[std::string(room->value.GetString(), room->value.GetStringLength())];
  auto const seq = doc.FindMember("seq");
  if (seq != doc.MemberEnd() && seq->value.IsUint64()) {
    p.seq = seq->value.GetUint64();
    return true;
  }
  auto const data = doc.FindMember("data");
  if (data == doc.MemberEnd() || !data->value.IsObject()) return false;
  auto const epoch = data->value.FindMember("epoch");
  if (epoch == data->value.MemberEnd() || !epoch->value.IsUint64()) return false;  // a pattern
  p.epoch = epoch->value.GetUint64();
  auto const last = data->value.FindMember("last_seq");  // subscribed: up to here so far
  if (last != data->value.MemberEnd() && last->value.IsUint64()) p.seq = last->value.GetUint64();
  auto const since = data->value.FindMember("since");  // recovery: the replay follows
  if (since != data->value.MemberEnd() && since->value.IsUint64()) {
    auto const recovered = data->value.FindMember("recovered");
    bool const whole = recovered != data->value.MemberEnd() && recovered->value.IsBool() &&
                       recovered->value.GetBool();
    p.seq = whole ? since->value.GetUint64() : 0;
  }
  return true;
}

}  // namespace

std::string sse_event(std::string_view envelope, Positions* positions) {
  rapidjson::Document doc;
  doc.Parse(envelope.data(), envelope.size());
  std::string out;
  std::string event = "message";
  if (doc.IsObject()) {
    if (positions) {
      if (move_positions(doc, *positions)) out += "id: " + encode_positions(*positions) + "\n";
    } else if (auto const seq = doc.FindMember("seq");
               seq != doc.MemberEnd() && seq->value.IsUint64()) {
      out += "id: " + std::to_string(seq->value.GetUint64()) + "\n";
    }
    auto const e = doc.FindMember("event");
    if (e != doc.MemberEnd() && e->value.IsString()) {
      event = one_line(std::string_view(e->value.GetString(), e->value.GetStringLength()));
    }
  }
  out += "event: " + event + "\n";
  out += "data: ";
  out += one_line(envelope);  // compact JSON has no raw line breaks; a text frame might
  out += "\n\n";
  return out;
}

std::string sse_close(std::uint16_t code, std::string_view reason) {
  return "event: close\ndata: " +
         encode_object({{"code", std::uint64_t{code}}, {"reason", reason}}) + "\n\n";
}

}  // namespace wspush
