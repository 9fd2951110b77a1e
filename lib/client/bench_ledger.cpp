#include "client/bench_ledger.hpp"

#include <algorithm>
#include <cmath>

namespace wspush {
namespace {

std::optional<std::int64_t> number_after(std::string_view text, std::string_view key) {
  auto const at = text.find(key);
  if (at == std::string_view::npos) return std::nullopt;
  std::size_t i = at + key.size();
  bool negative = false;
  if (i < text.size() && text[i] == '-') {
    negative = true;
    ++i;
  }
  if (i >= text.size() || text[i] < '0' || text[i] > '9') return std::nullopt;
  std::int64_t value = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    value = value * 10 + (text[i] - '0');
  }
  return negative ? -value : value;
}

}  // namespace

std::string make_probe(std::size_t publisher, std::uint64_t index, std::int64_t sent_ns,
                       std::size_t size, std::string_view room, bool prices) {
  std::string data = R"({"p":)" + std::to_string(publisher) + R"(,"i":)" + std::to_string(index) +
                     R"(,"t":)" + std::to_string(sent_ns);
  if (prices) {
    data += R"(,"symbol":"EURUSD","venue":"LMAX","book":[)";
    // A small generator of its own: the same book for the same probe, every run.
    std::uint64_t x = (publisher + 1) * 0x9e3779b97f4a7c15ULL ^ (index + 1) * 0xbf58476d1ce4e5b9ULL;
    auto next = [&x](std::uint64_t n) {
      x ^= x >> 31;
      x *= 0x94d049bb133111ebULL;
      x ^= x >> 29;
      return x % n;
    };
    bool first = true;
    while (first || data.size() + 50 + 2 < size) {
      data += std::string(first ? "" : ",") + R"({"side":")" + (next(2) ? "bid" : "ask") +
              R"(","px":1.08)" + std::to_string(100 + next(900)) + R"(,"qty":)" +
              std::to_string((next(5000) + 1) * 1000) + "}";
      first = false;
    }
    data += "]}";
  } else {
    data += R"(,"pad":")";
    std::size_t const closing = 2;  // "}
    if (data.size() + closing < size) data.append(size - data.size() - closing, 'x');
    data += "\"}";
  }
  if (room.empty()) return R"({"event":"publish","data":)" + data + "}";
  return R"({"event":"publish","room":")" + std::string(room) + R"(","data":)" + data + "}";
}

std::optional<Probe> read_probe(std::string_view message) {
  auto const data = message.find(R"("data":{"p":)");
  if (data == std::string_view::npos) return std::nullopt;
  std::string_view const rest = message.substr(data);
  auto const p = number_after(rest, R"("p":)");
  auto const i = number_after(rest, R"("i":)");
  auto const t = number_after(rest, R"("t":)");
  if (!p || !i || !t || *p < 0 || *i < 0) return std::nullopt;
  return Probe{static_cast<std::size_t>(*p), static_cast<std::uint64_t>(*i), *t};
}

DeliveryLedger::DeliveryLedger(std::size_t publishers, std::uint64_t messages)
    : publishers_(publishers),
      messages_(messages),
      seen_(publishers, std::vector<bool>(messages, false)),
      highest_(publishers, 0) {}

void DeliveryLedger::observe(Probe const& probe) {
  if (probe.publisher >= publishers_ || probe.index >= messages_) return;
  std::vector<bool>::reference seen = seen_[probe.publisher][probe.index];
  if (seen) {
    ++duplicated_;
    return;
  }
  seen = true;
  ++received_;
  std::uint64_t& highest = highest_[probe.publisher];
  if (probe.index + 1 < highest) ++reordered_;
  highest = std::max(highest, probe.index + 1);
}

std::uint64_t DeliveryLedger::lost() const {
  return publishers_ * messages_ - received_;
}

LatencySummary summarize_latency(std::vector<double>& micros) {
  LatencySummary s;
  s.count = micros.size();
  if (micros.empty()) return s;
  std::sort(micros.begin(), micros.end());
  auto const rank = [&micros](double q) {
    auto const k = static_cast<std::size_t>(std::ceil(q * static_cast<double>(micros.size())));
    return micros[std::min(micros.size() - 1, k == 0 ? 0 : k - 1)];
  };
  s.p50_us = rank(0.50);
  s.p90_us = rank(0.90);
  s.p99_us = rank(0.99);
  s.max_us = micros.back();
  return s;
}

}  // namespace wspush
