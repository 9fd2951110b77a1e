// Small helpers shared by the subcommands' option handling.
#pragma once

#include <iostream>
#include <string>

#include "commands.hpp"

namespace wspush::cmd {

// Prints "wspush: MESSAGE" on stderr and returns the usage exit code.
inline int usage_error(std::string const& message) {
  std::cerr << "wspush: " << message << "\nRun 'wspush help' for usage.\n";
  return kExitUsage;
}

}  // namespace wspush::cmd
