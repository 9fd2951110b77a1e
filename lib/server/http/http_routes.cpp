#include "server/http/http_routes.hpp"

#include "common/codec.hpp"
#include "common/url.hpp"
#include "http/prometheus.hpp"
#include "process/process_stats.hpp"
#include "server/http/web_assets.hpp"

namespace wspush {
namespace {
constexpr std::string_view kRoomsPath = "/api/rooms";

// The live page (web/live.html): at / it lists the rooms, at a room's path it follows it.
HttpAnswer live_page() {
  WebAsset const* page = web_asset("live.html");
  return HttpAnswer{200, std::string(page->body), {}, std::string(page->content_type)};
}
}  // namespace

void HttpRoutes::health(std::function<void(HttpAnswer)> done) {
  server_.probe_loops([done = std::move(done)](std::vector<std::size_t> const& stalled) {
    if (stalled.empty()) return done(HttpAnswer{200, R"({"status":"ok"})", {}});
    std::string list;
    for (std::size_t k : stalled) list += (list.empty() ? "" : ",") + std::to_string(k);
    done(HttpAnswer{503, R"({"status":"stalled","loops":[)" + list + "]}", {}});
  });
}

void HttpRoutes::metrics(HttpRequestView const& req, std::function<void(HttpAnswer)> const& done) {
  if (!public_metrics_) {
    HandshakeRequest as_api = req.request;
    as_api.resource = "/api/metrics";
    if (auto refusal = api_admission_.check(as_api)) return done(http_answer(*refusal));
  }
  Scrape scrape = hub_.run([](Hub& hub) {
    Scrape s;
    s.sessions_open = hub.sessions();
    s.rooms = hub.room_count();
    s.hub = hub.counts();
    return s;
  });
  scrape.inbox_depths = server_.inbox_depths();
  scrape.draining = server_.draining();
  scrape.broker = server_.broker();
  scrape.process = read_process_stats();
  done(HttpAnswer{200, prometheus_text(metrics_, scrape), {}, kPrometheusContentType});
}

void HttpRoutes::answer(HttpRequestView const& req, std::function<void(HttpAnswer)> done) {
  std::string const path(room_path_of(req.request.resource));
  if (path == "/healthz") return health(std::move(done));
  if (path == "/readyz") {  // for load balancers: 503 while draining, so no new clients come
    if (server_.draining()) return done(HttpAnswer{503, R"({"status":"draining"})", {}});
    // Publishes would be refused: a load balancer sends clients to a node that has Redis.
    if (auto const b = server_.broker(); b && !b->up) {
      return done(HttpAnswer{503, R"({"status":"broker unavailable"})", {}});
    }
    return done(HttpAnswer{200, R"({"status":"ready"})", {}});
  }
  if (path == "/metrics") return metrics(req, done);
  if (path == "/wspush.js") {
    if (req.method != "GET" && req.method != "HEAD") {
      return done(HttpAnswer{
          405, encode_text_event(405, "error", "use GET /wspush.js"), {{"Allow", "GET"}}});
    }
    WebAsset const* client = web_asset("wspush.js");
    return done(HttpAnswer{200,
                           std::string(client->body),
                           {{"Cache-Control", "no-cache"}, {"Access-Control-Allow-Origin", "*"}},
                           std::string(client->content_type)});
  }
  if (path == kPublishPath || path == kRoomsPath) {
    std::string const allowed = path == kPublishPath ? "POST" : "GET, DELETE";
    bool const rooms = path == kRoomsPath;
    if (rooms ? (req.method != "GET" && req.method != "DELETE") : req.method != "POST") {
      return done(HttpAnswer{405,
                             encode_text_event(405, "error", "use " + allowed + " " + path),
                             {{"Allow", allowed}}});
    }
    if (auto refusal = api_admission_.check(req.request)) return done(http_answer(*refusal));
    if (rooms && req.method == "DELETE") {
      std::string const room =
          percent_decode(query_param(req.request.resource, "room").value_or(std::string_view()))
              .value_or(std::string());
      return hub_.run([&](Hub& hub) {
        hub.delete_room(req.request.resource, [done, room](std::optional<Refusal> const& refusal) {
          if (refusal) return done(http_answer(*refusal));
          done(HttpAnswer{200, encode_object({{"deleted", std::string_view(room)}}), {}});
        });
      });
    }
    if (rooms) {
      return done(
          HttpAnswer{200, hub_.run([](Hub& hub) { return encode_rooms(hub.rooms()); }), {}});
    }
    std::string const key = req.request.header ? req.request.header("Idempotency-Key") : "";
    hub_.run([&](Hub& hub) {
      hub.publish_request(
          req.request.resource, req.body, [done](PublishResult const& r) { done(http_answer(r)); },
          key);
    });
    return;
  }
  bool const page = req.method == "GET" || req.method == "HEAD";
  if (path == "/" && page) return done(live_page());
  auto const refusal = hub_.run([&](Hub& hub) { return hub.admit(path); });
  if (refusal) return done(http_answer(*refusal));
  // A browser opening a room (Accept: text/html; other GETs are event streams).
  if (page) return done(live_page());
  done(HttpAnswer{426,
                  encode_text_event(426, "error", "this is a WebSocket room: connect with ws://"),
                  {{"Upgrade", "websocket"}}});
}

}  // namespace wspush
