// What one loop's listener tells the server (ListenerEvents): a handshake passes the
// admission step, an accepted one becomes a session of this loop's shard — sessions stay
// on the loop their connection came to (the kernel spread the connections:
// http/listen_sockets.hpp) — and plain HTTP is answered by the routes, on the first loop,
// where the routes, the broker's answers and /healthz live; another loop moves such a
// connection there.
//
// Threading: its loop's thread.
#pragma once

#include <atomic>
#include <functional>

#include "core/admission.hpp"
#include "core/limits.hpp"
#include "core/metrics.hpp"
#include "server/http/http_routes.hpp"
#include "server/http/listener.hpp"
#include "server/loop/shard.hpp"

namespace wspush {

class Door final : public ListenerEvents {
 public:
  // What every loop's door shares.
  struct Common {
    Admission const& admission;  // of WebSocket handshakes and event streams
    HttpRoutes& routes;          // the first loop's
    ConnectionCounts& connections;
    Metrics& metrics;
    std::atomic<std::size_t>& sessions_open;
    // Carries a plain HTTP connection over to the first loop (any loop's thread).
    std::function<void(StreamHandoff, HttpRequest, std::string)> to_http_loop;
  };

  Door(Common const& common, Shard& shard, bool answers_http)
      : common_(common), shard_(shard), answers_http_(answers_http) {}

  std::optional<Refusal> admit(HandshakeRequest const& request) override {
    return common_.admission.check(request);
  }
  bool answers_http() const override { return answers_http_; }
  void on_http(HttpRequestView const& request, std::function<void(HttpAnswer)> done) override {
    common_.routes.answer(request, std::move(done));
  }
  void on_http_elsewhere(StreamHandoff stream, HttpRequest request, std::string rest) override {
    common_.to_http_loop(std::move(stream), std::move(request), std::move(rest));
  }
  void on_upgrade(Upgrade upgrade) override {
    std::string const* peer = common_.connections.add(upgrade.peer);
    ++common_.sessions_open;
    bool const publisher = room_path_of(upgrade.resource) == kPublishPath;
    shard_.accept(std::move(upgrade), peer, publisher);
  }
  void on_refused(Refusal const& refusal) override {
    common_.metrics.count_refusal(to_string(refusal.reason));
  }

 private:
  Common const& common_;
  Shard& shard_;
  bool const answers_http_;
};

}  // namespace wspush
