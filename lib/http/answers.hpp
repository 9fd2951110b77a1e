// HTTP answers: what the routes send back, and a refusal said as HTTP — the status of
// its reason, the headers that reason calls for (Retry-After, WWW-Authenticate, Allow,
// Sec-WebSocket-Version), and its error event as the JSON body.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/hub.hpp"
#include "core/refusal.hpp"

namespace wspush {

struct HttpAnswer {
  int status = 200;
  std::string body;  // JSON unless content_type says otherwise
  std::vector<std::pair<std::string, std::string>> headers;  // beyond Content-Type
  std::string content_type = "application/json";
};

HttpAnswer http_answer(Refusal const& refusal);

// POST /api/publish's answer: {"delivered":N,"seq":S}, or its refusal.
HttpAnswer http_answer(PublishResult const& result);

}  // namespace wspush
