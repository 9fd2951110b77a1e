// The plain-HTTP side of the port: the API (publish, rooms), /healthz, /readyz,
// /metrics, the browser client (/wspush.js), and the answer to a GET of a room path
// without an upgrade (unless it is an event stream, which HttpConnection opens as a
// session): the live page. The listener
// hands over a request view and sends back the answer.
//
// Threading: the first loop's thread (its listener answers every plain HTTP request).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/admission.hpp"
#include "core/metrics.hpp"
#include "http/answers.hpp"
#include "http/prometheus.hpp"
#include "server/loop/shared_hub.hpp"

namespace wspush {

struct HttpRequestView {
  std::string_view method;
  HandshakeRequest request;  // resource, peer, headers
  std::string_view body;
};

// What the routes ask of the server around them.
class ServerState {
 public:
  virtual ~ServerState() = default;
  virtual bool draining() const = 0;
  // With --broker: the broker's state (/readyz is 503 while it is down); nullopt without.
  virtual std::optional<BrokerScrape> broker() const = 0;
  virtual std::vector<std::size_t> inbox_depths() = 0;
  // /healthz: `done` gets the loops that did not answer within the deadline.
  virtual void probe_loops(std::function<void(std::vector<std::size_t> const&)> done) = 0;
};

class HttpRoutes {
 public:
  // `public_metrics`: /metrics answers any peer; otherwise it is scraped as the API
  // is used (loopback peers, or with the API key).
  HttpRoutes(SharedHub& hub, Admission const& api_admission, Metrics const& metrics,
             ServerState& server, bool public_metrics)
      : hub_(hub),
        api_admission_(api_admission),
        metrics_(metrics),
        server_(server),
        public_metrics_(public_metrics) {}
  // Answers `request` through `done`, at once or (for /healthz) on the same thread later.
  void answer(HttpRequestView const& request, std::function<void(HttpAnswer)> done);

 private:
  void metrics(HttpRequestView const& request, std::function<void(HttpAnswer)> const& done);
  void health(std::function<void(HttpAnswer)> done);

  SharedHub& hub_;
  Admission const& api_admission_;  // who may use the API (and scrape /metrics)
  Metrics const& metrics_;
  ServerState& server_;
  bool public_metrics_;
};

// Whether `path` is one of the routes above (API, health, metrics), not a room: a plain
// GET of anything else is a room's event stream (core/sse.hpp).
inline bool is_http_route(std::string_view path) {
  return path.substr(0, 5) == "/api/" || path == "/healthz" || path == "/readyz" ||
         path == "/metrics" || path == "/wspush.js";
}

}  // namespace wspush
