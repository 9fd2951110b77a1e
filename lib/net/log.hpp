// Logging goes to stderr (stdout is reserved for machine-readable output).
#pragma once

#include <spdlog/spdlog.h>

#include <string>
#include <string_view>

namespace wspush {

// Levels accepted by --log-level.
inline constexpr const char* kLogLevels[] = {"trace", "debug", "info", "warn", "error", "off"};

// Installs the stderr logger at `level` (one of kLogLevels).
void init_logging(std::string_view level);

}  // namespace wspush
