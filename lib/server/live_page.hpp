// The live page: a browser's GET of a room path (or of /, the list of rooms).
#pragma once

#include <string_view>

namespace wspush {

// The page's HTML, self-contained (its style and script inline, nothing fetched but
// the room's WebSocket and, at /, GET /api/rooms).
std::string_view live_page_html();

}  // namespace wspush
