#include "server/http_routes.hpp"

#include "common/codec.hpp"
#include "core/prometheus.hpp"

namespace wspush {
namespace {
constexpr std::string_view kPublishPath = "/api/publish";
constexpr std::string_view kRoomsPath = "/api/rooms";
}  // namespace

HttpAnswer answer_of(Refusal const& refusal) {
  return HttpAnswer{refusal.http_status, refusal.body, refusal.headers};
}

void HttpRoutes::answer(HttpRequestView const& req, std::function<void(HttpAnswer)> done) {
  std::string const path(room_path_of(req.request.resource));
  if (path == "/healthz") return done(HttpAnswer{200, R"({"status":"ok"})", {}});
  if (path == "/readyz") {  // for load balancers: 503 while draining, so no new clients come
    if (draining_ && draining_()) return done(HttpAnswer{503, R"({"status":"draining"})", {}});
    return done(HttpAnswer{200, R"({"status":"ready"})", {}});
  }
  if (path == "/metrics") {
    // Scraped as the API is used: loopback peers, or with the API key.
    HandshakeRequest as_api = req.request;
    as_api.resource = "/api/metrics";
    if (auto refusal = api_admission_.check(as_api)) return done(answer_of(*refusal));
    auto const [open, rooms] = hub_.run([](Hub& hub) {
      return std::pair<std::uint64_t, std::uint64_t>(hub.sessions(), hub.room_count());
    });
    return done(
        HttpAnswer{200, prometheus_text(metrics_, open, rooms), {}, kPrometheusContentType});
  }
  if (path == kPublishPath || path == kRoomsPath) {
    std::string const allowed = path == kPublishPath ? "POST" : "GET";
    if (req.method != allowed) {
      return done(HttpAnswer{405,
                             encode_text_event(405, "error", "use " + allowed + " " + path),
                             {{"Allow", allowed}}});
    }
    if (auto refusal = api_admission_.check(req.request)) return done(answer_of(*refusal));
    if (path == kRoomsPath) {
      return done(
          HttpAnswer{200, hub_.run([](Hub& hub) { return encode_rooms(hub.rooms()); }), {}});
    }
    hub_.run([&](Hub& hub) {
      hub.http_publish(req.request.resource, req.body, [done](Refusal const& r) {
        done(HttpAnswer{r.http_status, r.body, {}});
      });
    });
    return;
  }
  auto const refusal = hub_.run([&](Hub& hub) { return hub.admit(path); });
  if (refusal) return done(answer_of(*refusal));
  done(HttpAnswer{426,
                  encode_text_event(426, "error", "this is a WebSocket room: connect with ws://"),
                  {{"Upgrade", "websocket"}}});
}

}  // namespace wspush
