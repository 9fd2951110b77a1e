// The files of web/ (the live page; the browser client), embedded into the binary at
// build time by cmake/embed.cmake: the server reads no file to serve them.
#pragma once

#include <string_view>

namespace wspush {

struct WebAsset {
  std::string_view name;  // the file's name in web/, e.g. "live.html"
  std::string_view content_type;
  std::string_view body;
};

// The embedded file called `name`, or nullptr.
WebAsset const* web_asset(std::string_view name);

}  // namespace wspush
