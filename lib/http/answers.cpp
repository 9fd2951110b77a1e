#include "http/answers.hpp"

#include <cmath>

#include "common/codec.hpp"

namespace wspush {

HttpAnswer http_answer(Refusal const& refusal) {
  HttpAnswer a{status_of(refusal.reason), error_event(refusal), {}};
  if (refusal.retry_after > Duration::zero()) {
    double const seconds = std::chrono::duration<double>(refusal.retry_after).count();
    a.headers.emplace_back("Retry-After",
                           std::to_string(std::max(1L, static_cast<long>(std::ceil(seconds)))));
  }
  switch (refusal.reason) {
    case Reason::method:  // a WebSocket handshake (the API's routes say their own)
      a.headers.emplace_back("Allow", "GET");
      break;
    case Reason::version:
      a.headers.emplace_back("Sec-WebSocket-Version", "13");
      break;
    default:
      if (a.status == 401) a.headers.emplace_back("WWW-Authenticate", "Bearer");
      break;
  }
  return a;
}

HttpAnswer http_answer(PublishResult const& result) {
  if (result.refusal && !result.rooms.empty()) {  // several rooms, one refused: each said
    return HttpAnswer{status_of(result.refusal->reason), encode_publish_result(result), {}};
  }
  if (result.refusal) return http_answer(*result.refusal);
  return HttpAnswer{200, encode_publish_result(result), {}};
}

}  // namespace wspush
