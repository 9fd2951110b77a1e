#include "http/prometheus.hpp"

#include <cstdio>

namespace wspush {
namespace {

void family(std::string& out, const char* name, const char* type, const char* help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void sample(std::string& out, std::string const& name, double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.17g", value);
  out.append(name).append(" ").append(text).append("\n");
}

void sample(std::string& out, std::string const& name, std::uint64_t value) {
  out.append(name).append(" ").append(std::to_string(value)).append("\n");
}

template <typename T>
void single(std::string& out, const char* name, const char* type, const char* help, T value) {
  family(out, name, type, help);
  sample(out, name, value);
}

// The per-loop counters, by Prometheus name.
struct LoopRow {
  const char* name;
  const char* help;
  Counter LoopCounters::*counter;
};
constexpr LoopRow kLoopRows[] = {
    {"wspush_connections_accepted_total", "WebSocket sessions opened since the start.",
     &LoopCounters::sessions_opened},
    {"wspush_connections_closed_total", "WebSocket sessions closed.",
     &LoopCounters::sessions_closed},
    {"wspush_deflate_sessions_total",
     "WebSocket sessions that agreed on permessage-deflate (of every one opened).",
     &LoopCounters::sessions_deflate},
    {"wspush_messages_received_total", "Text and binary messages received from clients.",
     &LoopCounters::frames_received},
    {"wspush_deliveries_total", "Messages queued to a session (broadcasts, replays, replies).",
     &LoopCounters::deliveries},
    {"wspush_sent_bytes_total", "Bytes of those messages, framed (before any TLS).",
     &LoopCounters::bytes_queued},
    {"wspush_slow_consumer_drops_total", "Messages a slow member of a `latest` room never got.",
     &LoopCounters::slow_dropped},
    {"wspush_slow_consumer_disconnects_total", "Slow members cut off with 4008.",
     &LoopCounters::slow_disconnected},
    {"wspush_pings_sent_total", "Keepalive pings sent to quiet peers.", &LoopCounters::pings_sent},
    {"wspush_ping_timeouts_total", "Peers closed with 4009 for not answering a ping.",
     &LoopCounters::ping_timeouts},
    {"wspush_idle_timeouts_total", "Peers closed with 4010 for sending nothing in time.",
     &LoopCounters::idle_timeouts},
    {"wspush_tokens_expired_total", "Sessions closed with 1008 when their token's exp passed.",
     &LoopCounters::tokens_expired},
};

}  // namespace

std::string prometheus_text(Metrics const& metrics, Scrape const& s) {
  std::string out;
  single(out, "wspush_connections_open", "gauge", "WebSocket sessions open now.", s.sessions_open);
  for (LoopRow const& r : kLoopRows) {
    single(out, r.name, "counter", r.help, metrics.total(r.counter));
  }
  single(out, "wspush_rooms", "gauge", "Rooms that exist now (families not counted).", s.rooms);
  single(out, "wspush_messages_broadcast_total", "counter",
         "Messages published into a room (each once, however many members).", s.hub.broadcasts);
  family(out, "wspush_replays_total", "counter",
         "Joins with ?since=, by whether the history still held everything after it.");
  sample(out, "wspush_replays_total{recovered=\"true\"}", s.hub.replays_recovered);
  sample(out, "wspush_replays_total{recovered=\"false\"}", s.hub.replays_not_recovered);
  family(out, "wspush_handshake_refusals_total", "counter",
         "Connections refused before they became sessions, by reason.");
  for (auto const& [reason, count] : metrics.refusals()) {
    sample(out, "wspush_handshake_refusals_total{reason=\"" + reason + "\"}", count);
  }
  family(out, "wspush_loop_queue_depth", "gauge", "Deliveries waiting in each event loop's inbox.");
  for (std::size_t k = 0; k < s.inbox_depths.size(); ++k) {
    sample(out, "wspush_loop_queue_depth{loop=\"" + std::to_string(k) + "\"}",
           std::uint64_t{s.inbox_depths[k]});
  }
  // The kernel spreads connections over the loops (SO_REUSEPORT): how evenly, here.
  family(out, "wspush_loop_connections", "gauge", "WebSocket sessions open on each event loop.");
  for (std::size_t k = 0; k < metrics.loops(); ++k) {
    LoopCounters const& loop = metrics.loop(k);
    std::uint64_t const opened = loop.sessions_opened.get();
    std::uint64_t const closed = loop.sessions_closed.get();
    sample(out, "wspush_loop_connections{loop=\"" + std::to_string(k) + "\"}",
           opened > closed ? opened - closed : 0);
  }
  single(out, "wspush_loops", "gauge", "Event loops carrying sessions.",
         std::uint64_t{s.inbox_depths.size()});
  single(out, "wspush_draining", "gauge", "1 while the server drains (SIGTERM), else 0.",
         std::uint64_t{s.draining ? 1u : 0u});
  if (s.broker) {
    BrokerScrape const& b = *s.broker;
    single(out, "wspush_broker_up", "gauge", "1 while the link to Redis is up, else 0.",
           std::uint64_t{b.up ? 1u : 0u});
    single(out, "wspush_broker_connects_total", "counter",
           "Times the link to Redis came up (the first connect and each reconnection).",
           b.connects);
    single(out, "wspush_broker_stream_reads_total", "counter",
           "Reads of a room's stream: at the start, after a reconnection, to fill a seq gap.",
           b.stream_reads);
    single(out, "wspush_broker_lost_total", "counter",
           "Seqs that were no longer in a room's stream when this node read it.", b.lost);
    single(out, "wspush_broker_publish_refused_total", "counter",
           "Publishes answered 503 because Redis did not take them.", b.publish_refused);
  }
  // The process, under the names Prometheus' client libraries use.
  single(out, "process_cpu_seconds_total", "counter", "User and system CPU time.",
         s.process.cpu_seconds);
  single(out, "process_resident_memory_bytes", "gauge", "Resident memory.",
         s.process.resident_bytes);
  single(out, "process_open_fds", "gauge", "Open file descriptors.", s.process.open_fds);
  single(out, "process_max_fds", "gauge", "The descriptor limit.", s.process.max_fds);
  single(out, "process_start_time_seconds", "gauge", "Start time since the Unix epoch.",
         s.process.start_time_seconds);
  return out;
}

}  // namespace wspush
