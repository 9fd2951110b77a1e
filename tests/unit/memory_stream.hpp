// An in-memory ByteStream: what a socket (or TLS) would be under a WsSession, driven by
// hand. For the session's unit tests and its fuzz target.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "server/stream/byte_stream.hpp"

namespace wspush::test {

// Reads come from `input`; writes go to `output` until `accept` bytes are taken, then
// the stream blocks until the test frees room and fires the wait.
class MemoryStream final : public ByteStream {
 public:
  Io read_some(char* buffer, std::size_t size) override {
    Io io;
    if (input.empty()) {
      io.closed = eof;
      io.blocked = !eof;
      return io;
    }
    std::size_t const n = std::min(size, input.front().size());
    std::copy_n(input.front().data(), n, buffer);
    input.front().erase(0, n);
    if (input.front().empty()) input.pop_front();
    io.bytes = n;
    return io;
  }
  Io write_some(std::string_view const* buffers, std::size_t count) override {
    ++writes;
    Io io;
    for (std::size_t i = 0; i < count && accept > 0; ++i) {
      std::size_t const n = std::min(accept, buffers[i].size());
      output.append(buffers[i].substr(0, n));
      accept -= n;
      io.bytes += n;
    }
    if (io.bytes == 0) {
      io.blocked = true;
      io.want = Want::write;
    }
    return io;
  }
  void wait_for(Want want, std::shared_ptr<Waiter> waiter, std::uint8_t token) override {
    (want == Want::read ? read_waiter : write_waiter) = [waiter, token](Ready ready) {
      waiter->on_ready(token, ready);
    };
  }
  void close() override {
    closed = true;
    if (read_waiter) std::exchange(read_waiter, nullptr)(Ready::cancelled);
    if (write_waiter) std::exchange(write_waiter, nullptr)(Ready::cancelled);
  }
  std::string remote() const override { return "memory"; }
  StreamHandoff release() override { return {}; }

  void feed(std::string bytes) {
    input.push_back(std::move(bytes));
    if (read_waiter) std::exchange(read_waiter, nullptr)(Ready::ready);
  }

  std::deque<std::string> input;
  bool eof = false;
  std::string output;
  std::size_t accept = SIZE_MAX;
  int writes = 0;
  bool closed = false;
  std::function<void(Ready)> read_waiter, write_waiter;
};

}  // namespace wspush::test
