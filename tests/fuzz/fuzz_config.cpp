// `wspush serve --config FILE`: any file content gives settings or an error that says
// why, never a crash — read with serve's own table, as the command reads it.
#include <cstddef>
#include <cstdint>
#include <string>

#include "serve_settings.hpp"
#include "settings/config_file.hpp"

namespace {
using wspush::cmd::ServeCommandSettings;
auto const kTable = wspush::cmd::serve_settings(wspush::read_cpu_budget());
auto const kKeys = [] {
  std::map<std::string, std::string, std::less<>> keys;
  for (auto const& row : kTable.rows()) {
    if (!row.config_key().empty()) keys[row.config_key()] = row.name();
  }
  return keys;
}();
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  std::string_view const text(reinterpret_cast<char const*>(data), size);
  wspush::ConfigFileParse const parsed = wspush::parse_config_file(text, kKeys);
  if (!parsed.error.empty()) return 0;
  ServeCommandSettings settings;
  (void)kTable.resolve(settings, {}, {}, parsed.values);  // "" or an error; never a crash
  return 0;
}
