#include "net/push_server.hpp"

#include <unistd.h>

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <websocketpp/concurrency/none.hpp>
#include <websocketpp/config/asio_no_tls.hpp>
#include <websocketpp/server.hpp>

#include "core/api_access.hpp"
#include "core/codec.hpp"
#include "core/hub.hpp"
#include "core/ticker.hpp"
#include "net/line_reader.hpp"
#include "net/log.hpp"
#include "net/ws_session.hpp"

namespace wspush {
namespace {

// websocketpp carries a connection through its HTTP handshake only; then a WsSession
// takes the socket over (see net/ws_session.hpp). Every connection is touched by the
// one thread that runs the io_context, so websocketpp's locks are dead weight:
// concurrency::none removes them. Its read buffer is sized for handshakes and API
// calls, not the 16 KiB default.
struct SessionSlot {
  SessionId session_id = 0;  // 0 until the handshake completes
};

struct ServerConfig : websocketpp::config::core {
  using type = ServerConfig;
  using base = websocketpp::config::core;
  using concurrency_type = websocketpp::concurrency::none;
  using request_type = base::request_type;
  using response_type = base::response_type;
  using message_type = base::message_type;
  using con_msg_manager_type = base::con_msg_manager_type;
  using endpoint_msg_manager_type = base::endpoint_msg_manager_type;
  using elog_type = websocketpp::log::basic<concurrency_type, websocketpp::log::elevel>;
  using alog_type = websocketpp::log::basic<concurrency_type, websocketpp::log::alevel>;
  using rng_type = base::rng_type;
  using connection_base = SessionSlot;
  static bool const enable_multithreading = false;
  static const size_t connection_read_buffer_size = 1024;

  struct transport_config : public base::transport_config {
    using concurrency_type = type::concurrency_type;
    using alog_type = type::alog_type;
    using elog_type = type::elog_type;
    using request_type = type::request_type;
    using response_type = type::response_type;
    using socket_type = websocketpp::transport::asio::basic_socket::endpoint;
    static bool const enable_multithreading = false;
  };
  using transport_type = websocketpp::transport::asio::endpoint<transport_config>;
};

using Endpoint = websocketpp::server<ServerConfig>;
using ConnectionPtr = Endpoint::connection_ptr;
namespace asio = websocketpp::lib::asio;

std::vector<RoomSpec> rooms_or_default(std::vector<RoomSpec> const& rooms) {
  if (!rooms.empty()) return rooms;
  return {RoomSpec{"/nowtime", RoomKind::ticker, false, std::nullopt, std::nullopt}};
}

constexpr std::string_view kPublishPath = "/api/publish";
constexpr std::string_view kRoomsPath = "/api/rooms";

}  // namespace

// What the Hub asked for one shard's sessions, queued in Hub order (under the Hub
// lock) and carried out on the shard's own thread.
struct Delivery {
  enum class Kind : std::uint8_t { adopt, send, replay, broadcast, close };
  Kind kind = Kind::send;
  SessionId id = 0;  // adopt, send, replay, close
  int fd = -1;       // adopt: the socket websocketpp let go of
  bool v6 = false;   // adopt: its address family
  // broadcast: the room's members at the time (on every shard; each takes its own)
  std::shared_ptr<std::vector<SessionId> const> members;
  Payload framed;               // send, broadcast: header and payload
  std::vector<Payload> replay;  // replay: framed messages
  std::uint64_t seq = 0;        // broadcast: its seq; replay: the last one replayed
  SlowConsumerPolicy policy = SlowConsumerPolicy::disconnect;
  std::string room;  // broadcast: where slow members are counted
  std::uint16_t code = 0;
  std::string reason;
  Duration linger{};
};

class PushServer::Impl final : public Outbox, public Timers {
 public:
  explicit Impl(ServeOptions const& options)
      : options_(options),
        registry_(options.history),
        hub_(registry_, *this, *this, clock_, HubOptions{options.interval}),
        limits_{options.max_message_size, options.send_buffer, options.shutdown_timeout},
        shards_(make_shards(*this, options.threads)),
        io_(shards_.front()->io),
        signals_(io_, SIGINT, SIGTERM),
        shutdown_deadline_(io_) {
    for (RoomSpec const& spec : rooms_or_default(options.rooms)) {
      std::string const error = registry_.declare(spec);
      if (!error.empty()) throw std::invalid_argument(error);
    }
    if (!options.stdin_room.empty() && !registry_.resolve(options.stdin_room)) {
      throw std::invalid_argument("--stdin: unknown room " + options.stdin_room);
    }
  }

  ~Impl() override {
    // Connections hold handlers that point here; drop them before the endpoints go.
    for (auto& shard : shards_) shard->slots.clear();
  }

  std::uint16_t bind() {
    asio::ip::tcp::resolver resolver(io_);
    asio::error_code ec;
    auto const results = resolver.resolve(options_.host, std::to_string(options_.port),
                                          asio::ip::tcp::resolver::passive, ec);
    if (ec) {
      throw std::runtime_error("cannot resolve host '" + options_.host + "': " + ec.message());
    }
    std::uint16_t port = options_.port;
    std::string last_error;
    for (auto const& entry : results) {
      asio::ip::tcp::endpoint address = entry.endpoint();
      address.port(port);
      auto endpoint = make_endpoint();
      endpoint->listen(address, ec);
      if (ec) {
        last_error =
            address.address().to_string() + " port " + std::to_string(port) + ": " + ec.message();
        spdlog::warn("cannot listen on {}", last_error);
        continue;
      }
      port = endpoint->get_local_endpoint(ec).port();
      spdlog::info("listening on {} port {}", address.address().to_string(), port);
      endpoints_.push_back(std::move(endpoint));
    }
    if (endpoints_.empty()) throw std::runtime_error("cannot listen on " + last_error);
    return port;
  }

  void run() {
    for (auto& endpoint : endpoints_) {
      asio::error_code ec;
      endpoint->start_accept(ec);
      if (ec) throw std::runtime_error("cannot accept connections: " + ec.message());
    }
    signals_.async_wait([this](asio::error_code const& ec, int signo) {
      if (!ec) shutdown(signo);
    });
    {
      std::lock_guard<std::mutex> lock(hub_mutex_);
      hub_.start();
    }
    if (!options_.stdin_room.empty()) read_stdin();
    std::vector<std::thread> threads;
    for (std::size_t k = 1; k < shards_.size(); ++k) {
      threads.emplace_back([shard = shards_[k].get()] { shard->run(); });
    }
    shards_.front()->run();
    stop_all();
    for (auto& thread : threads) thread.join();
  }

  // Outbox: called by the Hub with hub_mutex_ held; each call only queues work for the
  // shard that owns the session, in Hub order.

  void send(SessionId to, Opcode opcode, Payload const& message) override {
    Delivery d;
    d.kind = Delivery::Kind::send;
    d.id = to;
    d.framed = framed_message(opcode == Opcode::binary, *message);
    shard_of(to).enqueue(std::move(d));
  }

  void send_replay(SessionId to, std::vector<Payload> const& messages,
                   std::uint64_t last_seq) override {
    Delivery d;
    d.kind = Delivery::Kind::replay;
    d.id = to;
    d.seq = last_seq;
    d.replay.reserve(messages.size());
    for (Payload const& message : messages) d.replay.push_back(framed_message(false, *message));
    shard_of(to).enqueue(std::move(d));
  }

  // Framed once: server frames are unmasked, so every member on every shard gets the
  // same bytes. What slow members cost is counted later by the shards (count_slow).
  void broadcast(std::string const& room, std::vector<SessionId> const& to, Payload const& message,
                 std::uint64_t seq, SlowConsumerPolicy policy) override {
    if (to.empty()) return;
    Payload const framed = framed_message(false, *message);
    // One snapshot of the member list for all shards: copied once per broadcast, not
    // per shard or per member.
    auto const members = std::make_shared<std::vector<SessionId> const>(to);
    for (auto& shard : shards_) {
      Delivery d;
      d.kind = Delivery::Kind::broadcast;
      d.members = members;
      d.framed = framed;
      d.seq = seq;
      d.policy = policy;
      d.room = room;
      shard->enqueue(std::move(d));
    }
  }

  void close(SessionId id, std::uint16_t code, std::string_view reason, Duration linger) override {
    Delivery d;
    d.kind = Delivery::Kind::close;
    d.id = id;
    d.code = code;
    d.reason = std::string(reason);
    d.linger = linger;
    shard_of(id).enqueue(std::move(d));
  }

  // Timers ------------------------------------------------------------------

  // Called under the Hub lock from any shard; tickers live on shard 0's thread.
  void start_ticker(std::string const& room_path, Duration interval) override {
    asio::post(io_, [this, room_path, interval] {
      auto ticker = std::make_shared<Ticker>(io_, interval);
      tickers_[room_path] = ticker;
      arm(room_path, ticker);
    });
  }

  void stop_ticker(std::string const& room_path) override {
    asio::post(io_, [this, room_path] {
      auto const it = tickers_.find(room_path);
      if (it == tickers_.end()) return;
      it->second->stopped = true;
      it->second->timer.cancel();
      tickers_.erase(it);
    });
  }

 private:
  struct Ticker {
    Ticker(asio::io_context& io, Duration every)
        : timer(io), interval(every), start(std::chrono::steady_clock::now()) {}
    asio::steady_timer timer;
    Duration interval;
    SteadyTime start;
    bool stopped = false;
  };

  void arm(std::string const& room_path, std::shared_ptr<Ticker> const& ticker) {
    ticker->timer.expires_at(
        next_tick(ticker->start, ticker->interval, std::chrono::steady_clock::now()));
    // The handler owns the ticker, so a stop while it is queued cannot dangle.
    ticker->timer.async_wait([this, room_path, ticker](asio::error_code const& ec) {
      if (ec || ticker->stopped) return;
      std::lock_guard<std::mutex> lock(hub_mutex_);
      hub_.tick(room_path);
      arm(room_path, ticker);
    });
  }

  // The connection behind a handle, or nullptr (never an exception) if it is gone.
  static ConnectionPtr connection_of(Endpoint& ep, websocketpp::connection_hdl const& hdl) {
    asio::error_code ec;
    return ep.get_con_from_hdl(hdl, ec);
  }

  std::unique_ptr<Endpoint> make_endpoint() {
    auto endpoint = std::make_unique<Endpoint>();
    // websocketpp's own logs would go to stderr unformatted; we log what matters.
    endpoint->clear_access_channels(websocketpp::log::alevel::all);
    endpoint->clear_error_channels(websocketpp::log::elevel::all);
    asio::error_code ec;
    endpoint->init_asio(&io_, ec);
    if (ec) throw std::runtime_error("cannot initialise the network: " + ec.message());
    endpoint->set_reuse_addr(true);
    endpoint->set_listen_backlog(1024);
    endpoint->set_max_message_size(options_.max_message_size);
    endpoint->set_max_http_body_size(options_.max_message_size);  // larger: 413
    endpoint->set_open_handshake_timeout(whole_millis(options_.handshake_timeout));
    endpoint->set_close_handshake_timeout(whole_millis(options_.shutdown_timeout));

    Endpoint* ep = endpoint.get();
    endpoint->set_validate_handler([this, ep](websocketpp::connection_hdl hdl) {
      return on_validate(connection_of(*ep, hdl));
    });
    endpoint->set_http_handler(
        [this, ep](websocketpp::connection_hdl hdl) { on_http(connection_of(*ep, hdl)); });
    endpoint->set_open_handler(
        [this, ep](websocketpp::connection_hdl hdl) { on_open(connection_of(*ep, hdl)); });
    endpoint->set_close_handler(
        [this, ep](websocketpp::connection_hdl hdl) { on_gone(connection_of(*ep, hdl)); });
    endpoint->set_fail_handler([this, ep](websocketpp::connection_hdl hdl) {
      auto const con = connection_of(*ep, hdl);
      if (!con) return;
      spdlog::debug("handshake failed from {}: {}", con->get_remote_endpoint(),
                    con->get_ec().message());
      on_gone(con);
    });
    endpoint->set_message_handler([this](websocketpp::connection_hdl hdl,
                                         Endpoint::message_ptr msg) { on_message(hdl, msg); });
    return endpoint;
  }

  // Handlers: websocketpp calls them on the io thread. None may throw: every call
  // below uses the error_code overloads, and the core does not throw.

  bool on_validate(ConnectionPtr const& con) {
    if (!con) return false;
    std::optional<Refusal> refusal;
    std::string const& resource = con->get_resource();
    std::lock_guard<std::mutex> lock(hub_mutex_);
    if (shutting_down_) {
      refusal = Refusal{503, encode_text_event(503, "error", "server is shutting down")};
    } else if (room_path_of(resource) == kPublishPath) {
      refusal = api_refusal(con);
      if (!refusal) refusal = hub_.admit_publisher(resource);
    } else {
      refusal = hub_.admit(resource);
    }
    if (!refusal) return true;
    spdlog::info("refused {} from {}: HTTP {}", resource, con->get_remote_endpoint(),
                 refusal->http_status);
    respond(con, refusal->http_status, refusal->body);
    return false;
  }

  // Plain HTTP on the WebSocket port: the API, the health check, and a hint for
  // browsers that GET a room.
  void on_http(ConnectionPtr const& con) {
    if (!con) return;
    std::string const& resource = con->get_resource();
    std::string const path(room_path_of(resource));
    std::string const& method = con->get_request().get_method();
    if (path == "/healthz") return respond(con, 200, R"({"status":"ok"})");
    if (path == kPublishPath || path == kRoomsPath) {
      std::string const allowed = path == kPublishPath ? "POST" : "GET";
      if (method != allowed) {
        respond(con, 405, encode_text_event(405, "error", "use " + allowed + " " + path));
        con->replace_header("Allow", allowed);
        return;
      }
      if (auto const refusal = api_refusal(con)) {
        return respond(con, refusal->http_status, refusal->body);
      }
      std::lock_guard<std::mutex> lock(hub_mutex_);
      if (path == kRoomsPath) return respond(con, 200, encode_rooms(hub_.rooms()));
      return http_publish(con);
    }
    std::unique_lock<std::mutex> lock(hub_mutex_);
    auto const refusal = hub_.admit(path);
    lock.unlock();
    if (refusal) {
      return respond(con, refusal->http_status, refusal->body);
    }
    respond(con, 426,
            encode_text_event(426, "error", "this is a WebSocket room: connect with ws://"));
    con->append_header("Upgrade", "websocket");
  }

  void http_publish(ConnectionPtr const& con) {  // hub_mutex_ held
    Refusal const answer = hub_.http_publish(con->get_resource(), con->get_request_body());
    respond(con, answer.http_status, answer.body);
  }

  // Without --api-key the API answers loopback peers only; with it, every call needs
  // "Authorization: Bearer KEY".
  std::optional<Refusal> api_refusal(ConnectionPtr const& con) const {
    asio::error_code ec;
    auto const peer = con->get_raw_socket().remote_endpoint(ec);
    auto refusal = wspush::api_refusal(options_.api_key, ec ? "" : peer.address().to_string(),
                                       con->get_request_header("Authorization"));
    if (refusal && refusal->http_status == 401) {
      try {
        con->replace_header("WWW-Authenticate", "Bearer");
      } catch (websocketpp::exception const&) {
      }
    }
    return refusal;
  }

  static void respond(ConnectionPtr const& con, int status, std::string const& body) {
    // websocketpp 0.8 has no error_code overloads of these; they throw only when called
    // outside a handshake or HTTP handler, which this is not. Catch all the same:
    // nothing may escape a handler.
    try {
      con->set_status(static_cast<websocketpp::http::status_code::value>(status));
      con->set_body(body);
      con->replace_header("Content-Type", "application/json");
    } catch (websocketpp::exception const& e) {
      spdlog::error("cannot answer {}: {}", con->get_resource(), e.what());
    }
  }

  // The handshake is done: the socket leaves websocketpp for a WsSession on the
  // next shard in turn. Bytes that came with the handshake are still parsed by
  // websocketpp right after this handler and reach on_message under the same session
  // id; its next read fails on the released socket and it drops the connection,
  // which on_gone then ignores.
  void on_open(ConnectionPtr const& con) {
    if (!con) return;
    auto& raw = con->get_raw_socket();
    asio::error_code ec;
    auto const protocol = raw.local_endpoint(ec).protocol();
    if (ec) return;  // already gone: websocketpp reports the close
    int const fd = raw.release(ec);
    if (ec) return;
    Shard& shard = *shards_[next_shard_++ % shards_.size()];
    std::string const& resource = con->get_resource();
    std::lock_guard<std::mutex> lock(hub_mutex_);
    SessionId const id = shard.allocate_id();
    ++sessions_open_;
    // Queued before the join: the session exists on its shard before anything the
    // join queues for it is carried out there.
    Delivery adopt;
    adopt.kind = Delivery::Kind::adopt;
    adopt.id = id;
    adopt.fd = fd;
    adopt.v6 = protocol == asio::ip::tcp::v6();
    shard.enqueue(std::move(adopt));
    con->session_id = id + 1;  // 0 stays "no session"
    // After websocketpp's own post-handshake parse, this connection speaks for no one.
    asio::post(io_, [con] { con->session_id = 0; });
    if (room_path_of(resource) == kPublishPath) {
      hub_.join_publisher(id, resource);
    } else {
      hub_.join(id, resource);
    }
  }

  // serve --stdin ROOM: every line of our stdin is published into ROOM. EOF only
  // stops the reading, not the server.
  void read_stdin() {
    stdin_ = std::make_unique<LineReader>(
        io_, STDIN_FILENO,
        [this](std::string line) {
          ++stdin_lines_;
          publish_line(line);
        },
        [this] { spdlog::info("stdin closed after {} line(s); still serving", stdin_lines_); });
  }

  void publish_line(std::string const& line) {
    LineData const data = line_to_json(line, /*require_json=*/false, options_.max_message_size);
    if (!data.json) {
      spdlog::warn("stdin line {}: skipped: {}", stdin_lines_, data.error);
      return;
    }
    std::lock_guard<std::mutex> lock(hub_mutex_);
    PublishResult const r = hub_.publish(options_.stdin_room, "message", *data.json);
    if (r.status != 200) spdlog::warn("stdin line {}: {}", stdin_lines_, r.error);
  }

  // websocketpp's close and fail handlers: a connection that never became a session
  // (a refused handshake, plain HTTP) or the husk of one that did.
  static void on_gone(ConnectionPtr const& con) {
    if (con) con->session_id = 0;
  }

  void on_message(websocketpp::connection_hdl const& hdl, Endpoint::message_ptr const& msg) {
    auto const con = std::static_pointer_cast<Endpoint::connection_type>(hdl.lock());
    if (!con || con->session_id == 0) return;
    SessionId const id = con->session_id - 1;
    std::lock_guard<std::mutex> lock(hub_mutex_);
    if (msg->get_opcode() == websocketpp::frame::opcode::text) {
      hub_.on_text(id, msg->get_payload());
    } else {
      hub_.on_binary(id, msg->get_payload());
    }
  }

  // SIGINT/SIGTERM, on shard 0: stop accepting, close every session with 1001, and
  // stop once they are gone (or at the deadline, or at a second signal).
  void shutdown(int signo) {
    spdlog::info("signal {}: closing {} client(s)", signo, sessions_open_.load());
    shutting_down_ = true;
    for (auto& endpoint : endpoints_) {
      asio::error_code ec;
      endpoint->stop_listening(ec);
    }
    for (auto& [path, ticker] : tickers_) {
      ticker->stopped = true;
      ticker->timer.cancel();
    }
    tickers_.clear();
    for (auto& shard : shards_) {
      asio::post(shard->io, [s = shard.get()] { s->close_all(); });
    }
    signals_.async_wait([this](asio::error_code const& ec, int) {
      if (!ec) stop_all();
    });
    shutdown_deadline_.expires_after(options_.shutdown_timeout);
    shutdown_deadline_.async_wait([this](asio::error_code const& ec) {
      if (ec) return;
      spdlog::warn("shutdown deadline passed with {} client(s) still open", sessions_open_.load());
      stop_all();
    });
    if (sessions_open_ == 0) stop_all();
  }

  // Connections still in their opening handshake would otherwise keep shard 0
  // alive until their own timeout.
  void stop_all() {
    for (auto& shard : shards_) shard->io.stop();
  }

  // One event loop on one thread with the sessions it owns: SessionId k lives on
  // shard k % shards. Everything here runs on that thread, but enqueue().
  struct Shard final : SessionEvents {
    Shard(Impl& owner, std::size_t k, std::size_t n) : server(owner), index(k), count(n) {}

    Impl& server;
    std::size_t const index;
    std::size_t const count;
    asio::io_context io;
    SessionLoop loop{io};
    // Open sessions indexed by id / count: an array index on the broadcast path, not
    // a hash lookup. Ids are allocated under the Hub lock (allocate_id, free_ids).
    std::vector<std::shared_ptr<WsSession>> slots;
    std::vector<SessionId> free_ids;  // guarded by hub_mutex_
    std::size_t next_slot = 0;        // guarded by hub_mutex_
    // Per slot, beside `slots`: what the slow-consumer policy needs to know.
    struct SendState {
      std::uint64_t last_seq = 0;  // the last room seq queued to it
      Payload pending;             // `latest`: the newest framed message it could not take yet
      std::uint64_t pending_seq = 0;
    };
    std::vector<SendState> send_state;
    std::vector<SessionId> pending_ids;  // sessions with a pending message
    asio::steady_timer drain_timer{io};
    bool drain_armed = false;
    // The inbox: Deliveries queued by the Hub (under its lock) from any thread.
    std::mutex inbox_mutex;
    std::vector<Delivery> inbox, draining;
    bool drain_posted = false;
    bool in_drain = false;
    std::unordered_map<std::string, std::pair<std::uint64_t, std::uint64_t>> slow_counts;

    void run() {
      auto work = asio::make_work_guard(io);
      io.run();
    }

    SessionId allocate_id() {
      if (!free_ids.empty()) {
        SessionId const id = free_ids.back();
        free_ids.pop_back();
        return id;
      }
      return next_slot++ * count + index;
    }

    void adopt(SessionId id, bool v6, int fd) {
      asio::ip::tcp::socket socket(io);
      asio::error_code ec;
      socket.assign(v6 ? asio::ip::tcp::v6() : asio::ip::tcp::v4(), fd, ec);
      std::size_t const slot = id / count;
      if (slot >= slots.size()) {
        slots.resize(slot + 1);
        send_state.resize(slot + 1);
      }
      send_state[slot] = SendState{};
      slots[slot] = std::make_shared<WsSession>(loop, std::move(socket), id, *this, server.limits_);
      if (ec) {
        ::close(fd);
        // Not from inside a drain: its on_closed would drain again.
        asio::post(io, [session = slots[slot]] { session->abort(); });
        return;
      }
      slots[slot]->start();
    }

    void enqueue(Delivery delivery) {
      std::lock_guard<std::mutex> lock(inbox_mutex);
      inbox.push_back(std::move(delivery));
      if (drain_posted) return;
      drain_posted = true;
      asio::post(io, [this] { drain(); });
    }

    void drain() {
      if (in_drain) return;  // a session closed by what is being carried out
      in_drain = true;
      {
        std::lock_guard<std::mutex> lock(inbox_mutex);
        draining.swap(inbox);
        drain_posted = false;
      }
      for (Delivery& d : draining) carry_out(d);
      draining.clear();
      in_drain = false;
      if (slow_counts.empty()) return;
      std::lock_guard<std::mutex> lock(server.hub_mutex_);
      for (auto const& [room, counts] : slow_counts) {
        server.hub_.count_slow(room, counts.first, counts.second);
      }
      slow_counts.clear();
    }

    void carry_out(Delivery& d) {
      switch (d.kind) {
        case Delivery::Kind::adopt:
          return adopt(d.id, d.v6, d.fd);
        case Delivery::Kind::send:
          if (WsSession* session = live(d.id)) {
            if (!session->has_room_for(d.framed->size())) {
              return cut(d.id, "slow consumer: sends faster than it reads");
            }
            session->push(d.framed);
          }
          return;
        case Delivery::Kind::replay:
          if (WsSession* session = live(d.id)) {
            send_state[d.id / count].last_seq = d.seq;
            for (Payload const& framed : d.replay) session->push(framed);
          }
          return;
        case Delivery::Kind::broadcast:
          return broadcast(d);
        case Delivery::Kind::close:
          if (WsSession* session = live(d.id)) session->close(d.code, d.reason, d.linger);
          return;
      }
    }

    // The rest of the room never waits for a member that cannot keep up: its queue
    // is bounded by --send-buffer, and the room's policy says what happens beyond.
    void broadcast(Delivery const& d) {
      std::uint64_t dropped = 0, disconnected = 0;
      std::size_t const size = d.framed->size();
      for (SessionId const id : *d.members) {
        if (id % count != index) continue;  // another shard's member
        WsSession* session = live(id);
        if (!session) continue;
        SendState& state = send_state[id / count];
        if (!session->has_room_for(size)) {
          if (d.policy == SlowConsumerPolicy::disconnect) {
            cut(id, "slow consumer: last seq " + std::to_string(state.last_seq));
            ++disconnected;
            continue;
          }
          if (state.pending) {
            ++dropped;  // superseded by this newer one
          } else {
            pending_ids.push_back(id);
            arm_drain();
          }
          state.pending = d.framed;
          state.pending_seq = d.seq;
          continue;
        }
        if (state.pending) {
          ++dropped;  // this newer message supersedes it
          state.pending.reset();
        }
        session->push(d.framed);
        state.last_seq = d.seq;
      }
      if (dropped || disconnected) {
        auto& counts = slow_counts[d.room];
        counts.first += dropped;
        counts.second += disconnected;
      }
    }

    // Closes a slow member with 4008; what is queued still goes out before the close.
    void cut(SessionId id, std::string const& reason) {
      WsSession* session = live(id);
      if (!session) return;
      send_state[id / count].pending.reset();
      spdlog::info("session {} from {}: {}", id, session->remote(), reason);
      session->close(kCloseSlowConsumer, reason);
    }

    // `latest` members with a pending message get it once their queue has room.
    void arm_drain() {
      if (drain_armed) return;
      drain_armed = true;
      drain_timer.expires_after(std::chrono::milliseconds(20));
      drain_timer.async_wait([this](asio::error_code const& ec) {
        drain_armed = false;
        if (ec) return;
        std::vector<SessionId> still;
        for (SessionId const id : pending_ids) {
          WsSession* session = live(id);
          SendState& state = send_state[id / count];
          if (!session || !state.pending) continue;
          if (!session->has_room_for(state.pending->size())) {
            still.push_back(id);
            continue;
          }
          session->push(state.pending);
          state.last_seq = state.pending_seq;
          state.pending.reset();
        }
        pending_ids = std::move(still);
        if (!pending_ids.empty()) arm_drain();
      });
    }

    void close_all() {
      for (auto const& session : slots) {
        if (session) session->close(kCloseGoingAway, "server shutting down");
      }
    }

    // The session behind an id if it is open (not closing), or nullptr.
    WsSession* live(SessionId id) const {
      std::size_t const slot = id / count;
      if (slot >= slots.size() || !slots[slot] || !slots[slot]->open()) return nullptr;
      return slots[slot].get();
    }

    // SessionEvents: the Hub is shared by the shards, so each call takes its lock.
    void on_text(std::uint64_t id, std::string_view text) override {
      std::lock_guard<std::mutex> lock(server.hub_mutex_);
      server.hub_.on_text(id, text);
    }
    void on_binary(std::uint64_t id, std::string_view data) override {
      std::lock_guard<std::mutex> lock(server.hub_mutex_);
      server.hub_.on_binary(id, data);
    }
    void on_closed(std::uint64_t id) override {
      {
        std::lock_guard<std::mutex> lock(server.hub_mutex_);
        server.hub_.leave(id);
      }
      // What was queued for it before it left goes nowhere; only then may the id
      // (and so the slot) serve a new session.
      drain();
      std::size_t const slot = id / count;
      slots[slot].reset();
      send_state[slot] = SendState{};
      {
        std::lock_guard<std::mutex> lock(server.hub_mutex_);
        free_ids.push_back(id);
      }
      if (--server.sessions_open_ == 0 && server.shutting_down_) server.stop_all();
    }
  };

  static std::vector<std::unique_ptr<Shard>> make_shards(Impl& server, std::size_t threads) {
    std::vector<std::unique_ptr<Shard>> shards;
    std::size_t const n = std::max<std::size_t>(1, threads);
    for (std::size_t k = 0; k < n; ++k) shards.push_back(std::make_unique<Shard>(server, k, n));
    return shards;
  }

  Shard& shard_of(SessionId id) { return *shards_[id % shards_.size()]; }

  ServeOptions options_;
  RoomRegistry registry_;
  SystemWallClock clock_;
  Hub hub_;
  // Guards registry_ and hub_ (and the shards' id lists): every call into the Hub, from
  // any shard, holds it. The Hub only queues work while it is held; no socket is
  // written under it.
  std::mutex hub_mutex_;
  SessionLimits limits_;
  std::vector<std::unique_ptr<Shard>> shards_;
  asio::io_context& io_;  // shard 0's: HTTP, handshakes, tickers, stdin, signals
  asio::signal_set signals_;
  asio::steady_timer shutdown_deadline_;
  std::vector<std::unique_ptr<Endpoint>> endpoints_;
  std::size_t next_shard_ = 0;
  std::atomic<std::size_t> sessions_open_{0};
  std::atomic<bool> shutting_down_{false};

  std::unordered_map<std::string, std::shared_ptr<Ticker>> tickers_;
  std::unique_ptr<LineReader> stdin_;
  std::uint64_t stdin_lines_ = 0;
};

PushServer::PushServer(ServeOptions const& options) : impl_(std::make_unique<Impl>(options)) {}
PushServer::~PushServer() = default;
std::uint16_t PushServer::bind() {
  return impl_->bind();
}
void PushServer::run() {
  impl_->run();
}

}  // namespace wspush
