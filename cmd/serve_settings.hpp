// `wspush serve`'s settings table (serve_settings.cpp): each setting's flag, environment
// variable (WSPUSH_…), config key, default and help, declared once.
#pragma once

#include <string>

#include "process/cpu_budget.hpp"
#include "server/settings.hpp"
#include "settings/settings.hpp"

namespace wspush::cmd {

// The server's settings and what only the command itself uses.
struct ServeCommandSettings {
  ServeSettings server;
  std::string config_file;
  std::string jwt_secret_file;
  std::string log_level;
  std::string log_format;
};

// `cpus` gives --threads its default.
SettingsTable<ServeCommandSettings> serve_settings(CpuBudget const& cpus);

// Their environment variables' prefix: WSPUSH_PORT, WSPUSH_MAX_MESSAGE_SIZE, …
inline constexpr char const* kServeEnvPrefix = "WSPUSH_";

}  // namespace wspush::cmd
