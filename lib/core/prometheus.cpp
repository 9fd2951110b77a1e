#include "core/prometheus.hpp"

namespace wspush {
namespace {

void family(std::string& out, const char* name, const char* type, const char* help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void sample(std::string& out, const char* name, std::uint64_t value) {
  out.append(name).append(" ").append(std::to_string(value)).append("\n");
}

}  // namespace

std::string prometheus_text(Metrics const& metrics, std::uint64_t sessions_open,
                            std::uint64_t rooms) {
  Metrics::Totals const t = metrics.sum();
  std::string out;
  struct Row {
    const char* name;
    const char* type;
    const char* help;
    std::uint64_t value;
  };
  for (Row const& r : {
           Row{"wspush_connections_open", "gauge", "WebSocket sessions open now.", sessions_open},
           Row{"wspush_connections_accepted_total", "counter",
               "WebSocket sessions opened since the start.", t.sessions_opened},
           Row{"wspush_connections_closed_total", "counter", "WebSocket sessions closed.",
               t.sessions_closed},
           Row{"wspush_rooms", "gauge", "Rooms that exist now (families not counted).", rooms},
           Row{"wspush_messages_received_total", "counter",
               "Text and binary messages received from clients.", t.frames_received},
           Row{"wspush_deliveries_total", "counter",
               "Messages queued to a session (broadcasts, replays, replies).", t.deliveries},
           Row{"wspush_sent_bytes_total", "counter", "Bytes of those messages.", t.bytes_queued},
           Row{"wspush_slow_consumer_drops_total", "counter",
               "Messages a slow member of a `latest` room never got.", t.slow_dropped},
           Row{"wspush_slow_consumer_disconnects_total", "counter",
               "Slow members cut off with 4008.", t.slow_disconnected},
           Row{"wspush_pings_sent_total", "counter", "Keepalive pings sent to quiet peers.",
               t.pings_sent},
           Row{"wspush_ping_timeouts_total", "counter",
               "Peers closed with 4009 for not answering a ping.", t.ping_timeouts},
           Row{"wspush_idle_timeouts_total", "counter",
               "Peers closed with 4010 for sending nothing within --idle-timeout.",
               t.idle_timeouts},
           Row{"wspush_tokens_expired_total", "counter",
               "Sessions closed with 1008 when their token's exp passed.", t.tokens_expired},
       }) {
    family(out, r.name, r.type, r.help);
    sample(out, r.name, r.value);
  }
  family(out, "wspush_handshake_refusals_total", "counter",
         "Connections refused before they became sessions, by reason.");
  for (auto const& [reason, count] : metrics.refusals()) {
    out.append("wspush_handshake_refusals_total{reason=\"")
        .append(reason)
        .append("\"} ")
        .append(std::to_string(count))
        .append("\n");
  }
  return out;
}

}  // namespace wspush
