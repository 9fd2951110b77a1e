#include "bench_lane.hpp"

#include <algorithm>

namespace wspush::cmd {
namespace {

using Clock = std::chrono::steady_clock;

// The fleet's TLS settings for `url`: on for wss://, verifying the URL's host.
ConnectionFleet::Tls fleet_tls(BenchFlags const& f) {
  ConnectionFleet::Tls tls;
  tls.enabled = f.url.rfind("wss://", 0) == 0;
  tls.insecure = f.insecure;
  tls.cacert = f.cacert;
  std::string_view rest = std::string_view(f.url).substr(tls.enabled ? 6 : 5);
  rest = rest.substr(0, rest.find_first_of("/?"));
  if (!rest.empty() && rest.front() == '[') {
    tls.host = std::string(rest.substr(1, rest.find(']') - 1));
  } else {
    tls.host = std::string(rest.substr(0, rest.rfind(':')));
  }
  return tls;
}

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::size_t share(std::size_t n, std::size_t parts, std::size_t k) {
  return n / parts + (k < n % parts ? 1 : 0);
}

std::string connection_url(BenchFlags const& f, std::string const& url) {
  if (f.rooms == 1) return url;
  std::size_t const host = url.find("://");
  std::size_t const path = url.find_first_of("/?", host == std::string::npos ? 0 : host + 3);
  return url.substr(0, path) + "/";
}

std::string bench_room(BenchFlags const& f, std::size_t k) {
  std::size_t const host = f.url.find("://");
  std::size_t const at = f.url.find('/', host == std::string::npos ? 0 : host + 3);
  std::string path = at == std::string::npos ? "" : f.url.substr(at);
  path = path.substr(0, path.find('?'));
  while (!path.empty() && path.back() == '/') path.pop_back();
  return path + "/" + std::to_string(k);
}

Lane::Lane(LaneEvents& run, std::size_t index, std::size_t subscribers)
    : run_(run),
      f_(run.flags()),
      index_(index),
      subscribers_(subscribers),
      expected_(subscribers * f_.publishers * f_.messages),
      fleet_({[this](std::size_t c) { on_open(c); },
              [this](std::size_t c, std::string const& m) { on_message(c, m); },
              [this](std::size_t c, std::string const& why) {
                run_.fail((is_publisher(c) ? "publisher " : "subscriber ") + std::to_string(c) +
                              (index_ ? " of thread " + std::to_string(index_) : "") +
                              " lost: " + why,
                          ExitCode::protocol);
              }},
             fleet_tls(f_), f_.compress) {
  ledgers_.reserve(subscribers);
  for (std::size_t i = 0; i < subscribers; ++i) ledgers_.emplace_back(f_.publishers, f_.messages);
  latencies_.reserve(expected_);
  if (f_.rooms > 1) {
    subscribed_.assign(subscribers + (index == 0 ? f_.publishers : 0), 0);
    for (std::size_t k = 1; k <= f_.rooms; ++k) rooms_.push_back(bench_room(f_, k));
  }
  if (index == 0) {
    sent_.assign(f_.publishers, 0);
    echoed_.assign(f_.publishers, 0);
  }
}

// This lane's subscribers, spread over the room URL and every --subscribe-url.
void Lane::open_subscribers() {
  std::size_t const urls = 1 + f_.also_urls.size();
  for (std::size_t k = 0; k < urls; ++k) {
    std::size_t const count = share(subscribers_, urls, k);
    if (count) fleet_.open(count, connection_url(f_, k == 0 ? f_.url : f_.also_urls[k - 1]));
  }
}

void Lane::subscribe_all() {
  for (std::size_t conn = 0; conn < subscribers_; ++conn) subscribe(conn);
}

void Lane::subscribe(std::size_t conn) {
  for (std::string const& room : rooms_) {
    fleet_.send(conn, R"({"event":"subscribe","room":")" + room + "\"}");
  }
}

void Lane::open_publishers() {
  fleet_.open(f_.publishers, connection_url(f_, f_.url));
}

void Lane::close_soon() {
  wire_bytes_ = fleet_.bytes_received(0, subscribers_);
  fleet_.close_all();
  fleet_.after(std::chrono::milliseconds(200), [this] { fleet_.stop(); });
}

void Lane::merge_into(BenchResult& r) {
  r.on_first_url += share(subscribers_, 1 + f_.also_urls.size(), 0);
  r.delivered += delivered_.load();
  r.wire_bytes += wire_bytes_;
  for (auto const& l : ledgers_) {
    r.lost += l.lost();
    r.duplicated += l.duplicated();
    r.reordered += l.reordered();
  }
  r.latencies_us.insert(r.latencies_us.end(), latencies_.begin(), latencies_.end());
}

void Lane::on_open(std::size_t conn) {
  if (!is_publisher(conn)) return run_.subscriber_open();
  if (f_.rooms > 1) return subscribe(conn);  // ready once it follows every room
  publisher_ready();
}

void Lane::publisher_ready() {
  if (++publishers_open_ < f_.publishers) return;
  run_.publishing();
  publish_start_ = Clock::now();
  for (std::size_t p = 0; p < f_.publishers; ++p) pump(p);
  if (f_.rate > 0) tick();
}

// Sends what publisher p may send now: below --messages, fewer than --window in
// flight, and with --rate no more than the rate allows since publishing began.
void Lane::pump(std::size_t p) {
  while (sent_[p] < f_.messages && sent_[p] - echoed_[p] < f_.window &&
         (f_.rate <= 0 || sent_[p] < due())) {
    std::uint64_t const i = sent_[p]++;
    fleet_.send(subscribers_ + p, make_probe(p, i, now_ns(), f_.size,
                                             rooms_.empty() ? "" : rooms_[(p + i) % rooms_.size()],
                                             f_.payload == "prices"));
  }
}

// Probes due per publisher at --rate: one at once, then one every 1/rate seconds.
std::uint64_t Lane::due() const {
  double const elapsed = std::chrono::duration<double>(Clock::now() - publish_start_).count();
  return 1 + static_cast<std::uint64_t>(elapsed * f_.rate);
}

// At --rate, the clock (not only the echoes) lets probes out; ticks stop once every
// probe is out, so their number is bounded by --messages.
void Lane::tick() {
  bool more = false;
  for (std::size_t p = 0; p < f_.publishers; ++p) {
    pump(p);
    more = more || sent_[p] < f_.messages;
  }
  if (!more) return;
  auto const period = std::chrono::duration<double>(1.0 / f_.rate);
  fleet_.after(std::max<Duration>(std::chrono::milliseconds(1),
                                  std::chrono::duration_cast<Duration>(period)),
               [this] { tick(); });
}

void Lane::on_message(std::size_t conn, std::string const& message) {
  auto const probe = read_probe(message);
  if (!probe) {  // welcome, recovery, …
    if (f_.rooms > 1) on_answer(conn, message);
    return;
  }
  if (is_publisher(conn)) {
    std::size_t const p = conn - subscribers_;
    if (probe->publisher == p) {  // its own probe is back: one slot free
      ++echoed_[p];
      pump(p);
    }
    return;
  }
  latencies_.push_back(static_cast<double>(now_ns() - probe->sent_ns) / 1e3);
  ledgers_[conn].observe(*probe);
  std::uint64_t const n = delivered_.load(std::memory_order_relaxed) + 1;
  delivered_.store(n, std::memory_order_relaxed);
  if (n == expected_) run_.lane_done();
}

// --rooms: a connection follows every room once each has said `subscribed`; an error
// is a subscribe (or a publish) refused, and the run cannot be measured.
void Lane::on_answer(std::size_t conn, std::string const& message) {
  if (message.find(R"("event":"subscribed")") != std::string::npos) {
    if (++subscribed_[conn] < f_.rooms) return;
    if (is_publisher(conn)) return publisher_ready();
    return run_.subscriber_subscribed();
  }
  if (message.find(R"("event":"error")") != std::string::npos) {
    run_.fail("refused: " + message, ExitCode::failure);
  }
}

}  // namespace wspush::cmd
