// Logging goes to stderr (stdout is reserved for machine-readable output), as text
// ("2026-12-02T10:00:00.000000Z info message key=value") or as JSON lines
// ({"time":…,"level":…,"msg":…, fields…}). Events with fields (a connection's close, a
// refusal) go through log_event, so that both forms carry the same facts.
#pragma once

#include <spdlog/spdlog.h>

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "common/codec.hpp"

namespace wspush {

// Levels accepted by --log-level.
inline constexpr const char* kLogLevels[] = {"trace", "debug", "info", "warn", "error", "off"};
// Formats accepted by --log-format: "auto" is text on a terminal, JSON otherwise.
inline constexpr const char* kLogFormats[] = {"auto", "text", "json"};

enum class LogFormat : std::uint8_t { text, json };

// "text", "json", or "auto" (decided by whether stderr is a terminal); nullopt for
// anything else.
std::optional<LogFormat> log_format_of(std::string_view name);

// Installs the stderr logger at `level` (one of kLogLevels) in `format`.
void init_logging(std::string_view level, LogFormat format = LogFormat::text);

using LogField = std::pair<std::string_view, JsonScalar>;
// One event with fields: "message key=value …" as text, one object as JSON.
void log_event(spdlog::level::level_enum level, std::string_view message,
               std::initializer_list<LogField> fields);

}  // namespace wspush
