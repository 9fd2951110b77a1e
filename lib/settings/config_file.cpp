// RapidJSON is used here as in codec.cpp: the DOM is read with Is*() before Get*().
#include "settings/config_file.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include "common/size.hpp"

namespace wspush {
namespace {

using Value = rapidjson::Value;

std::string position(std::string_view text, std::size_t offset) {
  std::size_t line = 1;
  std::size_t column = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

// Reads one object's fields, refusing unknown ones (a typo must not pass silently).
class Fields {
 public:
  Fields(Value const& object, std::string where) : object_(object), where_(std::move(where)) {}

  std::string unknown(std::initializer_list<std::string_view> known) const {
    for (auto const& m : object_.GetObject()) {
      std::string_view const name(m.name.GetString(), m.name.GetStringLength());
      bool found = false;
      for (auto k : known) found = found || k == name;
      if (!found) return where_ + std::string(name) + ": unknown field";
    }
    return {};
  }

  bool string(const char* name, std::optional<std::string>& out, std::string& error) const {
    auto const it = object_.FindMember(name);
    if (it == object_.MemberEnd()) return true;
    if (!it->value.IsString()) {
      error = where_ + name + ": expected a string";
      return false;
    }
    out = std::string(it->value.GetString(), it->value.GetStringLength());
    return true;
  }

  bool boolean(const char* name, std::optional<bool>& out, std::string& error) const {
    auto const it = object_.FindMember(name);
    if (it == object_.MemberEnd()) return true;
    if (!it->value.IsBool()) {
      error = where_ + name + ": expected true or false";
      return false;
    }
    out = it->value.GetBool();
    return true;
  }

  template <typename T>
  bool number(const char* name, std::optional<T>& out, std::uint64_t max,
              std::string& error) const {
    auto const it = object_.FindMember(name);
    if (it == object_.MemberEnd()) return true;
    if (!it->value.IsUint64() || it->value.GetUint64() > max) {
      error = where_ + name + ": expected a whole number from 0 to " + std::to_string(max);
      return false;
    }
    out = static_cast<T>(it->value.GetUint64());
    return true;
  }

  // A byte count: a whole number, or a string with a unit ("64KiB", "16MiB").
  bool size(const char* name, std::optional<std::size_t>& out, std::uint64_t max,
            std::string& error) const {
    auto const it = object_.FindMember(name);
    if (it == object_.MemberEnd()) return true;
    if (it->value.IsString()) {
      std::string const text(it->value.GetString(), it->value.GetStringLength());
      if (std::string const e = check_size(text, 1, max); !e.empty()) {
        error = where_ + name + ": " + e;
        return false;
      }
      out = static_cast<std::size_t>(*parse_size(text).value);
      return true;
    }
    std::optional<std::uint64_t> n;
    if (!number(name, n, max, error)) return false;
    out = static_cast<std::size_t>(*n);
    return true;
  }

 private:
  Value const& object_;
  std::string where_;
};

std::string parse_room(Value const& v, std::size_t index, RoomSpec& out) {
  std::string const where = "rooms[" + std::to_string(index) + "]";
  if (!v.IsObject()) return where + ": expected an object";
  Fields const f(v, where + ".");
  if (auto e = f.unknown({"path", "kind", "history", "slow_consumer"}); !e.empty()) return e;
  std::string error;
  std::optional<std::string> path;
  std::optional<std::string> kind;
  if (!f.string("path", path, error) || !f.string("kind", kind, error)) return error;
  if (!path) return where + ".path: missing";
  RoomSpecParse parsed = parse_room_spec(*path + (kind ? ":" + *kind : ""));
  if (!parsed.spec) return where + ": " + parsed.error;
  out = std::move(*parsed.spec);
  if (!f.number("history", out.history, 1000000, error)) return error;
  std::optional<std::string> policy;
  if (!f.string("slow_consumer", policy, error)) return error;
  if (policy) {
    out.slow_consumer = parse_slow_consumer_policy(*policy);
    if (!out.slow_consumer) {
      return where + ".slow_consumer: unknown policy '" + *policy + "' (use disconnect or latest)";
    }
  }
  return {};
}

}  // namespace

ConfigParse parse_serve_config(std::string_view text) {
  ConfigParse result;
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseCommentsFlag | rapidjson::kParseTrailingCommasFlag>(text.data(),
                                                                                 text.size());
  if (doc.HasParseError()) {
    result.error = position(text, doc.GetErrorOffset()) + ": " +
                   rapidjson::GetParseError_En(doc.GetParseError());
    return result;
  }
  if (!doc.IsObject()) {
    result.error = "expected a JSON object at the top";
    return result;
  }
  Fields const f(doc, "");
  ServeConfig c;
  std::string& error = result.error;
  error = f.unknown({"host",
                     "port",
                     "interval",
                     "history",
                     "max_message_size",
                     "send_buffer",
                     "api_key",
                     "log_level",
                     "log_format",
                     "stdin",
                     "handshake_timeout",
                     "drain_timeout",
                     "close_timeout",
                     "ping_interval",
                     "pong_timeout",
                     "idle_timeout",
                     "max_connections",
                     "max_connections_per_ip",
                     "handshake_rate",
                     "max_path_length",
                     "max_rooms_per_family",
                     "allow_origin",
                     "public_metrics",
                     "jwt_secret",
                     "jwt_secret_file",
                     "tls_cert",
                     "tls_key",
                     "broker",
                     "rooms"});
  if (!error.empty()) return result;
  if (!f.string("host", c.host, error) || !f.number("port", c.port, 65535, error) ||
      !f.string("interval", c.interval, error) || !f.number("history", c.history, 1000000, error) ||
      !f.size("max_message_size", c.max_message_size, 1u << 30, error) ||
      !f.size("send_buffer", c.send_buffer, 1u << 30, error) ||
      !f.string("api_key", c.api_key, error) || !f.string("log_level", c.log_level, error) ||
      !f.string("log_format", c.log_format, error) || !f.string("stdin", c.stdin_room, error) ||
      !f.string("handshake_timeout", c.handshake_timeout, error) ||
      !f.string("drain_timeout", c.drain_timeout, error) ||
      !f.string("close_timeout", c.close_timeout, error) ||
      !f.string("ping_interval", c.ping_interval, error) ||
      !f.string("pong_timeout", c.pong_timeout, error) ||
      !f.string("idle_timeout", c.idle_timeout, error) ||
      !f.boolean("public_metrics", c.public_metrics, error) ||
      !f.string("jwt_secret", c.jwt_secret, error) ||
      !f.string("jwt_secret_file", c.jwt_secret_file, error) ||
      !f.string("tls_cert", c.tls_cert, error) || !f.string("tls_key", c.tls_key, error) ||
      !f.string("broker", c.broker, error) ||
      !f.number("max_connections", c.max_connections, 10000000, error) ||
      !f.number("max_connections_per_ip", c.max_connections_per_ip, 10000000, error) ||
      !f.number("handshake_rate", c.handshake_rate, 10000000, error) ||
      !f.number("max_path_length", c.max_path_length, 65536, error) ||
      !f.number("max_rooms_per_family", c.max_rooms_per_family, 10000000, error)) {
    return result;
  }
  if (auto const origins = doc.FindMember("allow_origin"); origins != doc.MemberEnd()) {
    if (!origins->value.IsArray()) {
      error = "allow_origin: expected an array of strings";
      return result;
    }
    for (Value const& v : origins->value.GetArray()) {
      if (!v.IsString()) {
        error = "allow_origin: expected an array of strings";
        return result;
      }
      c.allow_origin.emplace_back(v.GetString(), v.GetStringLength());
    }
  }
  if (auto const rooms = doc.FindMember("rooms"); rooms != doc.MemberEnd()) {
    if (!rooms->value.IsArray()) {
      error = "rooms: expected an array";
      return result;
    }
    std::size_t index = 0;
    for (Value const& v : rooms->value.GetArray()) {
      RoomSpec spec;
      error = parse_room(v, index++, spec);
      if (!error.empty()) return result;
      c.rooms.push_back(std::move(spec));
    }
  }
  result.config = std::move(c);
  return result;
}

}  // namespace wspush
