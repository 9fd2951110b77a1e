// `wspush serve --config FILE`: any file content is a config or an error, never a crash.
#include <cstddef>
#include <cstdint>
#include <string>

#include "settings/config_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
  std::string_view const text(reinterpret_cast<char const*>(data), size);
  wspush::ConfigParse const parsed = wspush::parse_serve_config(text);
  if (!parsed.config && parsed.error.empty()) __builtin_trap();  // a refusal says why
  return 0;
}
