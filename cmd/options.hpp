// What the subcommands share around their settings tables (settings_cli.hpp).
#pragma once

#include <iostream>
#include <string>

#include "commands.hpp"
#include "common/duration.hpp"
#include "settings/settings.hpp"

namespace wspush::cmd {

// Prints "wspush: MESSAGE" on stderr and returns the usage exit code.
inline int usage_error(std::string const& message) {
  std::cerr << "wspush: " << message << "\nRun 'wspush help' for usage.\n";
  return kExitUsage;
}

// A byte size read into a std::size_t.
inline ValueParser<std::size_t> size_setting(std::uint64_t minimum, std::uint64_t maximum) {
  return setting_value::mapped<std::size_t, std::uint64_t>(
      setting_value::size(minimum, maximum),
      [](std::uint64_t n) { return static_cast<std::size_t>(n); });
}

inline constexpr std::uint64_t kGiB = std::uint64_t{1} << 30;

// --cacert and -k/--insecure, as every client-side command has them: rows of `table`
// for the members `cacert` and `insecure` give.
template <typename Options, typename Cacert, typename Insecure>
void add_tls_settings(SettingsTable<Options>& table, Cacert cacert, Insecure insecure) {
  table.add("cacert", cacert, setting_value::existing_file())
      .value_name("FILE")
      .help("Trust the CAs in this PEM file (wss://, https://)");
  table.add("insecure", insecure, setting_value::boolean())
      .short_name('k')
      .help("Do not verify the server's certificate");
}

}  // namespace wspush::cmd
