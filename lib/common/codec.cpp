#include "common/codec.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/json_parse.hpp"
#include "common/utf8.hpp"

namespace wspush {
namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

std::string too_deep() {
  return "invalid JSON: nested deeper than " + std::to_string(kMaxJsonDepth) + " levels";
}

template <typename WriteData>
std::string encode_envelope(int status, std::string_view event, std::optional<std::uint64_t> seq,
                            WriteData&& write_data) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("status", 6);
  w.Int(status);
  w.Key("event", 5);
  w.String(event.data(), static_cast<rapidjson::SizeType>(event.size()));
  w.Key("data", 4);
  write_data(w);
  if (seq) {
    w.Key("seq", 3);
    w.Uint64(*seq);
  }
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

std::string to_compact(rapidjson::Value const& v) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

ClientMessage invalid(std::string reason) {
  ClientMessage m;
  m.error = std::move(reason);
  return m;
}

}  // namespace

std::string encode_text_event(int status, std::string_view event, std::string_view text,
                              std::optional<std::uint64_t> seq) {
  return encode_envelope(status, event, seq, [&](JsonWriter& w) {
    w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
  });
}

std::string encode_json_event(int status, std::string_view event, std::string_view json,
                              std::optional<std::uint64_t> seq) {
  return encode_envelope(status, event, seq, [&](JsonWriter& w) {
    w.RawValue(json.data(), json.size(), rapidjson::kObjectType);
  });
}

std::string encode_json_string(std::string_view text) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
  return std::string(buf.GetString(), buf.GetSize());
}

std::string encode_listening(std::string_view host, unsigned port) {
  return encode_object(
      {{"event", std::string_view("listening")}, {"host", host}, {"port", std::uint64_t{port}}});
}

std::string encode_object(std::vector<std::pair<std::string_view, JsonScalar>> const& fields) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  for (auto const& [key, value] : fields) {
    w.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
    std::visit(
        [&w](auto const& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, std::nullptr_t>) {
            w.Null();
          } else if constexpr (std::is_same_v<T, bool>) {
            w.Bool(v);
          } else if constexpr (std::is_same_v<T, std::int64_t>) {
            w.Int64(v);
          } else if constexpr (std::is_same_v<T, std::uint64_t>) {
            w.Uint64(v);
          } else if constexpr (std::is_same_v<T, double>) {
            w.Double(v);
          } else {
            w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
          }
        },
        value);
  }
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

bool json_too_deep(std::string_view text, std::size_t max_depth) {
  std::size_t depth = 0;
  bool in_string = false, escaped = false;
  for (char const c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

ServerText inspect_server_text(std::string_view text) {
  ServerText out;
  out.one_line = text.find_first_of("\r\n") == std::string_view::npos;
  if (json_too_deep(text)) return out;  // printed as text: never parsed, never recursed into
  rapidjson::Document doc;
  if (!parse_json(doc, text).empty()) return out;
  out.json = true;
  if (!doc.IsObject()) return out;
  auto const seq = doc.FindMember("seq");
  if (seq != doc.MemberEnd() && seq->value.IsUint64()) out.seq = seq->value.GetUint64();
  auto const room = doc.FindMember("room");
  if (room != doc.MemberEnd() && room->value.IsString()) {
    out.room = std::string(room->value.GetString(), room->value.GetStringLength());
  }
  auto const event = doc.FindMember("event");
  if (event == doc.MemberEnd() || !event->value.IsString()) return out;
  out.event.assign(event->value.GetString(), event->value.GetStringLength());
  auto const data = doc.FindMember("data");
  if ((out.event != "recovery" && out.event != "subscribed") || data == doc.MemberEnd() ||
      !data->value.IsObject()) {
    return out;
  }
  auto const recovered = data->value.FindMember("recovered");
  if (out.event == "recovery" && recovered != data->value.MemberEnd() &&
      recovered->value.IsBool()) {
    out.recovered = recovered->value.GetBool();
  }
  auto const epoch = data->value.FindMember("epoch");
  if (epoch != data->value.MemberEnd() && epoch->value.IsUint64()) {
    out.epoch = epoch->value.GetUint64();
  }
  auto const last = data->value.FindMember("last_seq");
  if (out.event == "subscribed" && last != data->value.MemberEnd() && last->value.IsUint64()) {
    out.last_seq = last->value.GetUint64();
  }
  return out;
}

std::string with_room(std::string_view envelope, std::string_view room) {
  std::string out;
  std::string const quoted = encode_json_string(room);
  out.reserve(envelope.size() + quoted.size() + 8);
  out.append(envelope.substr(0, envelope.size() - 1)).append(",\"room\":").append(quoted);
  out.push_back('}');
  return out;
}

LineData line_to_json(std::string_view line, bool require_json, std::size_t max_size) {
  if (line.size() > max_size) {
    LineData out;
    out.error = std::to_string(line.size()) + " bytes, over --max-message-size";
    return out;
  }
  return line_to_json(line, require_json);
}

LineData line_to_json(std::string_view line, bool require_json) {
  LineData out;
  if (!valid_utf8(line)) {
    out.error = "invalid UTF-8";
    return out;
  }
  if (json_too_deep(line)) {
    out.error = too_deep();
    return out;
  }
  rapidjson::Document doc;
  std::string const error = parse_json(doc, line);
  if (error.empty()) {
    out.json = to_compact(doc);
    return out;
  }
  if (require_json) {
    out.error = error;
    return out;
  }
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.String(line.data(), static_cast<rapidjson::SizeType>(line.size()));
  out.json = std::string(buf.GetString(), buf.GetSize());
  return out;
}

ClientMessage decode_client_message(std::string_view text) {
  // RapidJSON does not check the encoding: invalid UTF-8 would be passed on to members.
  if (!valid_utf8(text)) return invalid("invalid JSON: not UTF-8");
  if (json_too_deep(text)) return invalid(too_deep());
  rapidjson::Document doc;
  if (std::string error = parse_json(doc, text); !error.empty()) return invalid(std::move(error));
  if (!doc.IsObject()) return invalid("expected a JSON object with an \"event\" field");
  auto const event = doc.FindMember("event");
  if (event == doc.MemberEnd()) return invalid("missing field: event");
  if (!event->value.IsString()) return invalid("field \"event\" must be a string");
  std::string_view const name(event->value.GetString(), event->value.GetStringLength());

  ClientMessage m;
  auto const room = doc.FindMember("room");
  if (room != doc.MemberEnd()) {
    if (!room->value.IsString() || room->value.GetStringLength() == 0 ||
        room->value.GetString()[0] != '/') {
      return invalid("field \"room\" must be a room's path, starting with '/'");
    }
    m.room = std::string(room->value.GetString(), room->value.GetStringLength());
  }
  if (name == "close") {
    m.kind = ClientMessage::Kind::close;
  } else if (name == "ping") {
    m.kind = ClientMessage::Kind::ping;
  } else if (name == "publish") {
    auto const data = doc.FindMember("data");
    if (data == doc.MemberEnd()) return invalid("missing field: data");
    m.kind = ClientMessage::Kind::publish;
    m.data = to_compact(data->value);
  } else if (name == "subscribe" || name == "unsubscribe") {
    if (!m.room) return invalid("missing field: room");
    m.kind =
        name == "subscribe" ? ClientMessage::Kind::subscribe : ClientMessage::Kind::unsubscribe;
    for (auto [field, into] : {std::pair{"since", &m.since}, std::pair{"epoch", &m.epoch}}) {
      auto const it = doc.FindMember(field);
      if (m.kind == ClientMessage::Kind::unsubscribe || it == doc.MemberEnd()) continue;
      if (!it->value.IsUint64()) {
        return invalid("field \"" + std::string(field) + "\" must be a whole number >= 0");
      }
      *into = it->value.GetUint64();
    }
  } else {
    return invalid("unknown event \"" + std::string(name) +
                   "\" (expected close, ping, publish, subscribe or unsubscribe)");
  }
  return m;
}

std::optional<std::string> compact_json(std::string_view text, std::string* error) {
  if (!valid_utf8(text)) {  // an HTTP body is not checked by the frame reader
    if (error) *error = "invalid JSON: not UTF-8";
    return std::nullopt;
  }
  if (json_too_deep(text)) {
    if (error) *error = too_deep();
    return std::nullopt;
  }
  rapidjson::Document doc;
  if (std::string const why = parse_json(doc, text); !why.empty()) {
    if (error) *error = why;
    return std::nullopt;
  }
  return to_compact(doc);
}

std::optional<std::string> keyed_frame(std::string_view text, std::string* key,
                                       std::string* error) {
  auto const compact = compact_json(text, error);
  if (!compact) return std::nullopt;
  rapidjson::Document doc;
  parse_json(doc, *compact);
  auto const k = doc.IsObject() ? doc.FindMember("idempotency_key") : doc.MemberEnd();
  auto const d = doc.IsObject() ? doc.FindMember("data") : doc.MemberEnd();
  if (k == doc.MemberEnd() || !k->value.IsString() || k->value.GetStringLength() == 0 ||
      d == doc.MemberEnd()) {
    *error = R"(a keyed publish stream takes {"idempotency_key":"K","data":…})";
    return std::nullopt;
  }
  *key = std::string(k->value.GetString(), k->value.GetStringLength());
  return to_compact(d->value);
}

}  // namespace wspush
