// Small helpers shared by the subcommands' option handling.
#pragma once

#include <iostream>
#include <string>

#include "commands.hpp"
#include "common/duration.hpp"
#include "common/size.hpp"

namespace wspush::cmd {

// Prints "wspush: MESSAGE" on stderr and returns the usage exit code.
inline int usage_error(std::string const& message) {
  std::cerr << "wspush: " << message << "\nRun 'wspush help' for usage.\n";
  return kExitUsage;
}

// A duration flag's check (200ms, 1s, 2m…): a bad value is a usage error, with the
// reason, before the command runs.
inline CLI::Validator duration_check(Duration minimum = Duration(1)) {
  return CLI::Validator([minimum](std::string& text) { return check_duration(text, minimum); },
                        "DURATION");
}

// A byte-size flag (65536, 64KiB, 16MiB, 1MB…): checked and turned into a plain number
// before CLI11 converts it; out of [minimum, maximum] is a usage error.
inline CLI::Validator size_check(std::uint64_t minimum, std::uint64_t maximum) {
  return CLI::Validator(
      [minimum, maximum](std::string& text) {
        std::string error = check_size(text, minimum, maximum);
        if (error.empty()) text = std::to_string(*parse_size(text).value);
        return error;
      },
      "SIZE");
}

// --cacert and -k/--insecure, as every client-side command has them.
inline void add_tls_flags(CLI::App& app, std::string& cacert, bool& insecure) {
  app.add_option("--cacert", cacert, "Trust the CAs in this PEM file (wss://, https://)")
      ->check(CLI::ExistingFile);
  app.add_flag("-k,--insecure", insecure, "Do not verify the server's certificate");
}

// A checked duration flag's value; nullopt when the flag was not given.
inline std::optional<Duration> duration_of(std::string const& text) {
  if (text.empty()) return std::nullopt;
  return parse_duration(text).value;
}

}  // namespace wspush::cmd
