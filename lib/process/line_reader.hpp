// Reads a file descriptor (stdin) line by line on an Asio loop, with pause/resume
// for backpressure. Internal to lib/net: Asio appears in this header.
#pragma once

#include <asio.hpp>
#include <functional>
#include <memory>
#include <string>

namespace wspush {

class LineReader {
 public:
  // Lines come without their "\n" (and "\r"); a last line without "\n" counts too.
  LineReader(asio::io_context& io, int fd, std::function<void(std::string)> on_line,
             std::function<void()> on_eof);

  void pause() { paused_ = true; }
  void resume();

 private:
  void read_next();

  asio::posix::stream_descriptor input_;
  asio::streambuf buffer_;
  std::function<void(std::string)> on_line_;
  std::function<void()> on_eof_;
  bool paused_ = false;
  bool reading_ = false;
  bool done_ = false;
  // Handlers hold a weak reference: destroying the reader cancels them safely.
  std::shared_ptr<LineReader*> self_ = std::make_shared<LineReader*>(this);
};

}  // namespace wspush
