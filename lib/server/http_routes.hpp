// The plain-HTTP side of the port: the API (publish, rooms), health, and the answer
// to a GET of a room path without an upgrade. Later: /metrics, /readyz, the live page
// and Server-Sent Events, each one more route here. No websocketpp: the listener hands
// over a request view and sends back the answer.
//
// Threading: the listener's thread (the first loop).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/admission.hpp"
#include "core/metrics.hpp"
#include "server/shared_hub.hpp"

namespace wspush {

struct HttpAnswer {
  int status = 200;
  std::string body;  // JSON unless content_type says otherwise
  std::vector<std::pair<std::string, std::string>> headers;  // beyond Content-Type
  std::string content_type = "application/json";
};

struct HttpRequestView {
  std::string_view method;
  HandshakeRequest request;  // resource, peer, headers
  std::string_view body;
};

class HttpRoutes {
 public:
  HttpRoutes(SharedHub& hub, Admission const& api_admission, Metrics const& metrics,
             std::function<bool()> draining)
      : hub_(hub),
        api_admission_(api_admission),
        metrics_(metrics),
        draining_(std::move(draining)) {}
  // Answers `request` through `done` (at once today; a broker may answer later).
  void answer(HttpRequestView const& request, std::function<void(HttpAnswer)> done);

 private:
  SharedHub& hub_;
  Admission const& api_admission_;  // who may use the API (and scrape /metrics)
  Metrics const& metrics_;
  std::function<bool()> draining_;
};

// A refusal as an HTTP answer.
HttpAnswer answer_of(Refusal const& refusal);

}  // namespace wspush
