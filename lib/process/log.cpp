#include "process/log.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <unistd.h>

#include <atomic>
#include <type_traits>
#include <vector>

#include "common/timefmt.hpp"

namespace wspush {
namespace {

std::atomic<LogFormat> g_format{LogFormat::text};

// Marks a payload that already is the rest of a JSON object (fields from log_event).
constexpr char kFieldsMarker = '\x1e';

class JsonFormatter final : public spdlog::formatter {
 public:
  void format(spdlog::details::log_msg const& msg, spdlog::memory_buf_t& dest) override {
    std::string_view const payload(msg.payload.data(), msg.payload.size());
    auto const level = spdlog::level::to_string_view(msg.level);
    std::string const time = iso8601_utc(msg.time);
    std::string line;
    if (!payload.empty() && payload.front() == kFieldsMarker) {
      // {"time":…,"level":…, then the fields' object without its opening brace.
      line = encode_object({{"time", std::string_view(time)},
                            {"level", std::string_view(level.data(), level.size())}});
      line.pop_back();
      line += ',';
      line.append(payload.substr(2));
    } else {
      line = encode_object({{"time", std::string_view(time)},
                            {"level", std::string_view(level.data(), level.size())},
                            {"msg", payload}});
    }
    dest.append(line.data(), line.data() + line.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

// A value as text: strings quoted when they hold spaces, quotes or nothing.
void append_text(std::string& out, JsonScalar const& value) {
  std::visit(
      [&out](auto const& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::nullptr_t>) {
          out += "-";
        } else if constexpr (std::is_same_v<T, bool>) {
          out += v ? "true" : "false";
        } else if constexpr (std::is_same_v<T, std::string_view>) {
          bool const plain = !v.empty() && v.find_first_of(" \"=") == std::string_view::npos;
          if (plain) {
            out.append(v);
          } else {
            out += encode_json_string(v);
          }
        } else if constexpr (std::is_same_v<T, double>) {
          char text[32];
          std::snprintf(text, sizeof text, "%.3f", v);
          out += text;
        } else {
          out += std::to_string(v);
        }
      },
      value);
}

}  // namespace

std::optional<LogFormat> log_format_of(std::string_view name) {
  if (name == "text") return LogFormat::text;
  if (name == "json") return LogFormat::json;
  if (name == "auto") return isatty(STDERR_FILENO) ? LogFormat::text : LogFormat::json;
  return std::nullopt;
}

void init_logging(std::string_view level, LogFormat format) {
  g_format = format;
  auto logger = spdlog::stderr_logger_mt("wspush");
  if (format == LogFormat::json) {
    logger->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %l %v", spdlog::pattern_time_type::utc);
  }
  logger->set_level(spdlog::level::from_str(std::string(level)));
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(std::move(logger));
}

void log_event(spdlog::level::level_enum level, std::string_view message,
               std::initializer_list<LogField> fields) {
  if (!spdlog::should_log(level)) return;
  std::string payload;
  if (g_format == LogFormat::json) {
    std::vector<std::pair<std::string_view, JsonScalar>> all;
    all.reserve(fields.size() + 1);
    all.emplace_back("msg", message);
    all.insert(all.end(), fields.begin(), fields.end());
    payload = std::string(1, kFieldsMarker) + encode_object(all);
  } else {
    payload.assign(message);
    for (auto const& [key, value] : fields) {
      payload.append(" ").append(key).append("=");
      append_text(payload, value);
    }
  }
  spdlog::log(level, "{}", payload);
}

}  // namespace wspush
