// The subcommands of `wspush`. Each one has an options struct, a function that adds
// its flags to a CLI11 subcommand, and a run function that returns the exit code.
// main.cpp registers them from one list (all_commands).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <vector>

#include "settings/settings.hpp"

namespace wspush::cmd {

// Exit codes shared by every subcommand (the client adds its own, see client.cpp).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // runtime failure (e.g. cannot bind)
inline constexpr int kExitUsage = 2;    // bad flags or arguments
inline constexpr int kExitDataDir = 3;  // serve: --data-dir unusable (corrupted, foreign, in use)

// What a subcommand's setup gives back: the function that runs it (bound to the options
// the parse fills in) and its settings, for `wspush help settings`.
struct CommandSetup {
  std::function<int()> run;
  std::vector<SettingInfo> settings;
};

struct Command {
  const char* name;
  const char* summary;
  // Adds the subcommand's settings (settings_cli.hpp) to `app`.
  std::function<CommandSetup(CLI::App& app)> setup;
};

Command serve_command();
Command client_command();
Command publish_command();
Command bench_command();

}  // namespace wspush::cmd
