// `wspush serve --config FILE`: a JSON object whose fields are settings by their config
// key (settings.hpp: the flag's name with '_'), comments and trailing commas allowed:
//
//   {"host": "0.0.0.0", "port": 5000, "interval": "1s", "max_message_size": "64KiB",
//    "allow_origin": ["https://app.example.com"],
//    "rooms": [{"path": "/news", "kind": "feed", "history": 500},
//              "/chat/*:relay"]}
//
// A value is a string, a number or true/false, or an array of them for a repeatable
// setting. A room may also be an object: {"path": P, "kind": K, OPTION: VALUE…} reads as
// the --room text "P:K,OPTION=VALUE…" (an option set to true as ",OPTION").
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "settings/settings.hpp"

namespace wspush {

struct ConfigFileParse {
  SourceValues values;  // by setting name
  std::string error;    // "line L, column C: reason", or "KEY: reason"; empty on success
};

// `names_by_key`: the settings the file may set, by config key (a field not there is an
// error: a typo must not pass silently).
ConfigFileParse parse_config_file(
    std::string_view text, std::map<std::string, std::string, std::less<>> const& names_by_key);

}  // namespace wspush
