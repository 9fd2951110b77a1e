#include "process/line_reader.hpp"

#include <unistd.h>

namespace wspush {

LineReader::LineReader(asio::io_context& io, int fd, std::function<void(std::string)> on_line,
                       std::function<void()> on_eof)
    // A duplicate, so that closing ours leaves the caller's descriptor open.
    : input_(io, ::dup(fd)), on_line_(std::move(on_line)), on_eof_(std::move(on_eof)) {
  read_next();
}

void LineReader::resume() {
  paused_ = false;
  read_next();
}

void LineReader::read_next() {
  if (paused_ || reading_ || done_) return;
  reading_ = true;
  std::weak_ptr<LineReader*> weak = self_;
  asio::async_read_until(input_, buffer_, '\n', [weak](asio::error_code const& ec, std::size_t n) {
    auto const alive = weak.lock();
    if (!alive) return;
    LineReader& self = **alive;
    self.reading_ = false;
    if (ec && self.buffer_.size() == 0) {
      self.done_ = true;
      self.on_eof_();
      return;
    }
    std::size_t const take = ec ? self.buffer_.size() : n;
    std::string line(asio::buffers_begin(self.buffer_.data()),
                     asio::buffers_begin(self.buffer_.data()) + static_cast<std::ptrdiff_t>(take));
    self.buffer_.consume(take);
    if (!line.empty() && line.back() == '\n') line.pop_back();
    if (!line.empty() && line.back() == '\r') line.pop_back();
    self.on_line_(std::move(line));  // may pause, or destroy the reader
    if (weak.lock()) self.read_next();
  });
}

}  // namespace wspush
