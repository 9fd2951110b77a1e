#include "server/push_server.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <asio/post.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <atomic>
#include <stdexcept>
#include <thread>

#include "core/admission.hpp"
#include "core/broker.hpp"
#include "core/hub.hpp"
#include "core/jwt_check.hpp"
#include "core/limits.hpp"
#include "http/handshake.hpp"
#include "process/line_reader.hpp"
#include "process/log.hpp"
#include "server/broker/message_store.hpp"
#include "server/door.hpp"
#include "server/http/http_routes.hpp"
#include "server/http/listen_sockets.hpp"
#include "server/http/listener.hpp"
#include "server/loop/fanout.hpp"
#include "server/loop/loop_probe.hpp"
#include "server/loop/shard.hpp"
#include "server/loop/tickers.hpp"
#include "server/stream/tls_context.hpp"

namespace wspush {
namespace {

// /healthz: every loop must answer a posted no-op within this.
constexpr Duration kHealthDeadline = std::chrono::seconds(2);

std::unique_ptr<TlsContext> make_tls(ListenSettings const& listen) {
  if (listen.tls_cert.empty() && listen.tls_key.empty()) return nullptr;
  if (listen.tls_cert.empty() || listen.tls_key.empty()) {
    throw std::invalid_argument("--tls-cert and --tls-key go together");
  }
  auto tls = std::make_unique<TlsContext>(listen.tls_cert, listen.tls_key);
  spdlog::info("TLS: certificate {}", tls->subject());
  return tls;
}

}  // namespace

// The server's parts, each made once what it needs exists, in the order of the members
// below. The Hub and the loops call each other: the SharedHub is made first, empty, and
// the Hub attached to it once built; nothing runs before run().
class PushServer::Impl final : public ShardOwner, public ServerState {
 public:
  explicit Impl(ServeSettings const& settings)
      : settings_(settings),
        metrics_(loop_count()),
        registry_(settings.history, loop_count()),
        shards_(make_shards()),
        store_(settings, io(), shared_.mutex()),
        fanout_(shards_),
        tickers_(io(), shared_),
        hub_(registry_, store_.broker(), fanout_, tickers_, clock_, hub_options(settings)),
        routes_(shared_, api_admission_, metrics_, *this, settings.admission.public_metrics),
        probe_(io(), loop_contexts(), kHealthDeadline),
        tls_(make_tls(settings.listen)),
        door_common_{ws_admission_,
                     routes_,
                     connections_,
                     metrics_,
                     sessions_open_,
                     [this](StreamHandoff stream, HttpRequest request, std::string rest) {
                       to_http_loop(std::move(stream), std::move(request), std::move(rest));
                     }},
        signals_(io(), SIGINT, SIGTERM),
        reload_signal_(io(), SIGHUP),
        drain_deadline_(io()),
        expiry_(io()) {
    shared_.attach(hub_);
    registry_.set_history_ttl(settings.history_ttl);
    for (RoomSpec const& spec : settings.rooms) {
      std::string const error = registry_.declare(spec);
      if (!error.empty()) throw std::invalid_argument(error);
    }
    if (!settings.stdin_room.empty() && !registry_.resolve(settings.stdin_room)) {
      throw std::invalid_argument("--stdin: unknown room " + settings.stdin_room);
    }
    add_admission_checks(settings.admission);
    // OpenSSL (SHA-1 of every handshake) initialises itself on first use, touching
    // about 1.5 MB: done now, a fixed cost of the process, not of its first client.
    (void)websocket_accept("dGhlIHNhbXBsZSBub25jZQ==");
  }

  // The listening sockets, and a listener on every loop over its own of them.
  std::uint16_t bind() {
    ListenSockets sockets(settings_.listen.host, settings_.listen.port, shards_.size());
    for (std::size_t k = 0; k < shards_.size(); ++k) {
      doors_.push_back(std::make_unique<Door>(door_common_, *shards_[k], k == 0));
      listeners_.push_back(std::make_unique<Listener>(
          shards_[k]->io(), sockets.take(k), settings_.connection, tls_.get(), *doors_.back()));
    }
    return sockets.port();
  }

  void run() {
    raise_fd_limit();
    for (auto& listener : listeners_) listener->start();
    signals_.async_wait([this](asio::error_code const& ec, int signo) {
      if (!ec) shutdown(signo);
    });
    on_reload_signal();
    if (RedisBroker* redis = store_.redis()) {
      redis->set_member_source([this] {
        return shared_.run([](Hub& hub) {
          RedisBroker::MemberCounts counts;
          for (RoomInfo const& r : hub.rooms()) {
            if (r.node_members) counts.emplace_back(r.path, *r.node_members);
          }
          return counts;
        });
      });
      redis->start();
    }
    shared_.run([](Hub& hub) { hub.start(); });
    bool const ttl =
        settings_.history_ttl > Duration::zero() ||
        std::any_of(settings_.rooms.begin(), settings_.rooms.end(), [](RoomSpec const& r) {
          return r.history_ttl.value_or(Duration::zero()) > Duration::zero();
        });
    if (ttl) expire_history();
    if (!settings_.stdin_room.empty()) read_stdin();
    std::vector<std::thread> threads;
    for (std::size_t k = 1; k < shards_.size(); ++k) {
      threads.emplace_back([shard = shards_[k].get()] { shard->run(); });
    }
    shards_.front()->run();
    stop_all();
    for (auto& thread : threads) thread.join();
    store_.close();
  }

 private:
  std::size_t loop_count() const { return std::max<std::size_t>(1, settings_.loops.threads); }
  // --compression-min-size is one setting (ConnectionLimits): the Hub compresses
  // broadcasts with it as the loops compress echoes.
  static HubOptions hub_options(ServeSettings const& settings) {
    HubOptions options = settings.hub;
    options.compression_min_size = settings.connection.compression_min_size;
    return options;
  }
  // The first loop: plain HTTP, the broker, the tickers, --stdin and the signals.
  asio::io_context& io() { return shards_.front()->io(); }

  std::vector<std::unique_ptr<Shard>> make_shards() {
    std::vector<std::unique_ptr<Shard>> shards;
    for (std::size_t k = 0; k < loop_count(); ++k) {
      shards.push_back(std::make_unique<Shard>(k, loop_count(), shared_, settings_.connection,
                                               settings_.loops.send_path, metrics_.loop(k), *this));
    }
    return shards;
  }

  // The admission step of WebSocket handshakes, in order; the API's own step.
  void add_admission_checks(AdmissionSettings const& a) {
    ws_admission_.add(std::make_unique<DrainingCheck>([this] { return draining_.load(); }));
    ws_admission_.add(std::make_unique<PathLengthCheck>(a.max_path_length));
    ws_admission_.add(std::make_unique<HandshakeRateCheck>(
        a.handshake_rate, [] { return std::chrono::steady_clock::now(); }));
    ws_admission_.add(std::make_unique<ConnectionLimitCheck>(connections_, a.max_connections,
                                                             a.max_connections_per_ip));
    ws_admission_.add(std::make_unique<OriginCheck>(a.allow_origins));
    if (!a.jwt_secret.empty()) {
      ws_admission_.add(std::make_unique<JwtCheck>(
          a.jwt_secret, [] { return static_cast<std::int64_t>(std::time(nullptr)); }));
    }
    ws_admission_.add(std::make_unique<ApiAccessCheck>(a.api_key));
    ws_admission_.add(std::make_unique<FunctionCheck>([this](HandshakeRequest const& r) {
      return shared_.run([&](Hub& hub) {
        return room_path_of(r.resource) == kPublishPath ? hub.admit_publisher(r.resource)
                                                        : hub.admit(r.resource);
      });
    }));
    api_admission_.add(std::make_unique<ApiAccessCheck>(a.api_key));
  }

  // Plain HTTP is answered on the first loop (Door).
  void to_http_loop(StreamHandoff stream, HttpRequest request, std::string rest) {
    Listener* const first = listeners_.front().get();
    asio::post(io(), [first, stream = std::move(stream), request = std::move(request),
                      rest = std::move(rest)]() mutable {
      first->resume_http(std::move(stream), std::move(request), std::move(rest));
    });
  }

  // SIGHUP: the certificate and key are read again; connections open keep theirs.
  void on_reload_signal() {
    reload_signal_.async_wait([this](asio::error_code const& ec, int) {
      if (ec) return;
      if (!tls_) {
        spdlog::info("SIGHUP: no TLS certificate to reload");
      } else if (std::string const error = tls_->reload(); !error.empty()) {
        spdlog::error("SIGHUP: TLS reload refused, the previous certificate stays: {}", error);
      } else {
        spdlog::info("SIGHUP: TLS certificate reloaded: {}", tls_->subject());
      }
      on_reload_signal();
    });
  }

  // Every connection is a descriptor: the soft limit goes up to the hard one, and a hard
  // limit below --max-connections is said once at start.
  void raise_fd_limit() const {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
    if (limit.rlim_cur < limit.rlim_max) {
      rlimit raised = limit;
      raised.rlim_cur = limit.rlim_max;
      if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
    }
    std::size_t const max_connections = settings_.admission.max_connections;
    if (max_connections && limit.rlim_cur != RLIM_INFINITY &&
        limit.rlim_cur < max_connections + 64) {
      spdlog::warn(
          "the descriptor limit is {} (ulimit -n), below --max-connections {}: "
          "connections past it wait until others close",
          limit.rlim_cur, max_connections);
    }
  }

  // ServerState: on the first loop's thread.
  bool draining() const override { return draining_; }
  std::optional<BrokerScrape> broker() const override {
    if (!store_.redis()) return std::nullopt;
    BrokerHealth const& h = store_.redis()->health();
    return BrokerScrape{h.up, h.connects, h.stream_reads, h.lost, h.publish_refused};
  }
  std::vector<std::size_t> inbox_depths() override {
    std::vector<std::size_t> depths;
    for (auto& shard : shards_) depths.push_back(shard->inbox_depth());
    return depths;
  }
  void probe_loops(std::function<void(std::vector<std::size_t> const&)> done) override {
    probe_.probe(std::move(done));
  }
  std::vector<asio::io_context*> loop_contexts() {
    std::vector<asio::io_context*> loops;
    for (auto& shard : shards_) loops.push_back(&shard->io());
    return loops;
  }

  // ShardOwner: on any shard's thread.
  void on_session_closed(std::string const* peer) override {
    connections_.remove(peer);
    if (--sessions_open_ == 0 && draining_) stop_all();
  }

  // serve --stdin ROOM: every line of our stdin is published into ROOM. EOF only
  // stops the reading, not the server.
  void read_stdin() {
    stdin_ = std::make_unique<LineReader>(
        io(), STDIN_FILENO,
        [this](std::string line) {
          ++stdin_lines_;
          publish_line(line);
        },
        [this] { spdlog::info("stdin closed after {} line(s); still serving", stdin_lines_); });
  }

  void publish_line(std::string const& line) {
    LineData const data =
        line_to_json(line, /*require_json=*/false, settings_.connection.max_message_size);
    if (!data.json) {
      spdlog::warn("stdin line {}: skipped: {}", stdin_lines_, data.error);
      return;
    }
    std::uint64_t const number = stdin_lines_;
    shared_.run([&](Hub& hub) {
      hub.publish(settings_.stdin_room, "message", *data.json, [number](PublishResult const& r) {
        if (r.refusal) spdlog::warn("stdin line {}: {}", number, r.refusal->detail);
      });
    });
  }

  // SIGINT/SIGTERM, on the first loop: stop accepting, close every session with 1001,
  // and stop once they are gone (or at the drain deadline, or at a second signal).
  void shutdown(int signo) {
    spdlog::info("signal {}: closing {} client(s)", signo, sessions_open_.load());
    draining_ = true;
    for (std::size_t k = 0; k < listeners_.size(); ++k) {
      asio::post(shards_[k]->io(), [l = listeners_[k].get()] { l->drop_handshakes(); });
    }
    tickers_.stop_all();
    // Spread over the first half of the drain: the rest is for the last ones' closes.
    Duration const spread = settings_.drain_timeout / 2;
    for (auto& shard : shards_) {
      asio::post(shard->io(), [s = shard.get(), spread] {
        s->close_all(kCloseGoingAway, "server shutting down", spread);
      });
    }
    signals_.async_wait([this](asio::error_code const& ec, int) {
      if (!ec) stop_all();
    });
    drain_deadline_.expires_after(settings_.drain_timeout);
    drain_deadline_.async_wait([this](asio::error_code const& ec) {
      if (ec) return;
      spdlog::warn("drain deadline passed with {} client(s) still open", sessions_open_.load());
      stop_all();
    });
    if (sessions_open_ == 0) stop_all();
  }

  // --history-ttl (or a room's history_ttl=): every second, on the first loop.
  void expire_history() {
    shared_.run([](Hub& hub) { hub.expire_history(); });
    expiry_.expires_after(std::chrono::seconds(1));
    expiry_.async_wait([this](asio::error_code const& ec) {
      if (!ec) expire_history();
    });
  }

  // Connections still in their opening handshake would otherwise keep the first loop
  // alive until their own timeout.
  void stop_all() {
    for (auto& shard : shards_) shard->io().stop();
  }

  ServeSettings const settings_;
  ConnectionCounts connections_;
  std::atomic<std::size_t> sessions_open_{0};
  std::atomic<bool> draining_{false};
  Metrics metrics_;
  RoomRegistry registry_;
  SystemWallClock clock_;
  SharedHub shared_;                            // the Hub attached in the constructor
  std::vector<std::unique_ptr<Shard>> shards_;  // the event loops, by index
  MessageStore store_;                          // the broker: memory, a data dir or Redis
  Fanout fanout_;
  Tickers tickers_;
  Hub hub_;
  Admission ws_admission_;
  Admission api_admission_;
  HttpRoutes routes_;
  LoopProbe probe_;
  std::unique_ptr<TlsContext> tls_;
  Door::Common door_common_;
  std::vector<std::unique_ptr<Door>> doors_;          // by loop
  std::vector<std::unique_ptr<Listener>> listeners_;  // by loop
  asio::signal_set signals_;
  asio::signal_set reload_signal_;
  asio::steady_timer drain_deadline_;
  asio::steady_timer expiry_;  // --history-ttl's sweep
  std::unique_ptr<LineReader> stdin_;
  std::uint64_t stdin_lines_ = 0;
};

PushServer::PushServer(ServeSettings const& settings) : impl_(std::make_unique<Impl>(settings)) {}
PushServer::~PushServer() = default;
std::uint16_t PushServer::bind() {
  return impl_->bind();
}
void PushServer::run() {
  impl_->run();
}

}  // namespace wspush
