// websocketpp socket policies that put a FragmentCounter in front of websocketpp's own
// frame parser: websocketpp assembles fragments without counting them, so a server
// could keep a client busy with endless empty continuation frames. The policy wraps
// the stream that websocketpp's transport reads and writes (and nothing else: the
// connect, the TLS handshake and shutdown use the real socket). Frames before the one
// over the cap are handed on, the rest of the stream is dropped until the peer closes,
// and the connection's owner is told once, to close with 1008.
#pragma once

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <websocketpp/transport/asio/security/none.hpp>
#include <websocketpp/transport/asio/security/tls.hpp>

#include "common/fragment_counter.hpp"

namespace wspush {

// The stream websocketpp's transport sees: Asio's AsyncReadStream and AsyncWriteStream
// over the real one.
template <typename Stream>
class CountedStream {
 public:
  using executor_type = typename Stream::executor_type;

  CountedStream() { counter_.after_http_head(); }
  void bind(Stream& stream) { stream_ = &stream; }
  void on_over(std::function<void()> fn) { on_over_ = std::move(fn); }
  executor_type get_executor() { return stream_->get_executor(); }

  template <typename Buffers, typename Handler>
  void async_write_some(Buffers const& buffers, Handler&& handler) {
    stream_->async_write_some(buffers, std::forward<Handler>(handler));
  }

  // Hands websocketpp one frame per read, what was read past it kept for the next read,
  // which completes through the loop: a blocking client sees each message (and answers
  // it) before websocketpp parses the next frame and perhaps fails the connection on it.
  void one_frame_per_read() { one_frame_ = true; }

  template <typename Buffers, typename Handler>
  void async_read_some(Buffers const& buffers, Handler&& handler) {
    if (stash_.empty()) return read(buffers, std::forward<Handler>(handler));
    namespace asio = websocketpp::lib::asio;
    std::size_t const copied = asio::buffer_copy(buffers, asio::buffer(stash_));
    bool const was_over = counter_.over();
    std::size_t const kept =
        counter_.feed(reinterpret_cast<std::uint8_t const*>(stash_.data()), copied, one_frame_);
    stash_.erase(0, kept);
    if (counter_.over()) stash_.clear();
    std::function<void()> const tell = !was_over && counter_.over() ? on_over_ : nullptr;
    if (kept == 0) {  // all dropped: wait for the peer's close
      read(buffers, std::forward<Handler>(handler));
      if (tell) asio::post(get_executor(), tell);
      return;
    }
    asio::post(get_executor(), [handler = std::forward<Handler>(handler), kept, tell]() mutable {
      handler(std::error_code(), kept);
      if (tell) tell();
    });
  }

 private:
  template <typename Buffers, typename Handler>
  void read(Buffers const& buffers, Handler handler) {
    stream_->async_read_some(buffers, [this, buffers, handler = std::move(handler)](
                                          std::error_code const& ec, std::size_t n) mutable {
      bool const was_over = counter_.over();
      std::size_t const kept = ec ? n : count(buffers, n);
      if (one_frame_ && !ec && !counter_.over() && kept < n) keep(buffers, kept, n);
      // Told after the handler has taken the frames before the cap, from a copy: the
      // handler may end the connection that holds this stream.
      std::function<void()> const tell = !was_over && counter_.over() ? on_over_ : nullptr;
      if (kept == 0 && !ec) {
        read(buffers, std::move(handler));  // dropped: wait for more, or for the close
      } else {
        handler(ec, kept);
      }
      if (tell) tell();
    });
  }

  template <typename Buffers>
  std::size_t count(Buffers const& buffers, std::size_t n) {
    std::size_t kept = 0;
    namespace asio = websocketpp::lib::asio;
    for (auto it = asio::buffer_sequence_begin(buffers);
         n > 0 && it != asio::buffer_sequence_end(buffers); ++it) {
      asio::mutable_buffer const buffer(*it);
      std::size_t const size = std::min(n, buffer.size());
      std::size_t const passed =
          counter_.feed(static_cast<std::uint8_t const*>(buffer.data()), size, one_frame_);
      kept += passed;
      if (passed < size) break;
      n -= size;
    }
    return kept;
  }

  // Keeps bytes [from, to) of what was read into `buffers` for the next reads.
  template <typename Buffers>
  void keep(Buffers const& buffers, std::size_t from, std::size_t to) {
    namespace asio = websocketpp::lib::asio;
    std::size_t at = 0;
    for (auto it = asio::buffer_sequence_begin(buffers);
         at < to && it != asio::buffer_sequence_end(buffers); ++it) {
      asio::mutable_buffer const buffer(*it);
      auto const* data = static_cast<char const*>(buffer.data());
      for (std::size_t i = 0; i < buffer.size() && at < to; ++i, ++at) {
        if (at >= from) stash_.push_back(data[i]);
      }
    }
  }

  Stream* stream_ = nullptr;
  FragmentCounter counter_;
  std::function<void()> on_over_;
  bool one_frame_ = false;
  std::string stash_;  // read past the frame handed on (one_frame_ only)
};

// websocketpp's socket policy (basic_socket or tls_socket) with the stream counted.
template <typename BaseConnection, typename BaseEndpoint>
struct CappedSocket {
  class connection : public BaseConnection {
   public:
    using type = connection;
    using ptr = std::shared_ptr<connection>;

    // What websocketpp's transport reads and writes through.
    CountedStream<typename BaseConnection::socket_type>& get_socket() {
      stream_.bind(BaseConnection::get_socket());
      return stream_;
    }
    // Called once, on the loop, when the server sends a message in too many fragments.
    void on_too_many_fragments(std::function<void()> fn) { stream_.on_over(std::move(fn)); }
    void one_frame_per_read() { stream_.one_frame_per_read(); }

   private:
    CountedStream<typename BaseConnection::socket_type> stream_;
  };

  class endpoint : public BaseEndpoint {
   public:
    using socket_con_type = connection;
    using socket_con_ptr = typename connection::ptr;
  };
};

using CappedPlainSocket = CappedSocket<websocketpp::transport::asio::basic_socket::connection,
                                       websocketpp::transport::asio::basic_socket::endpoint>;
using CappedTlsSocket = CappedSocket<websocketpp::transport::asio::tls_socket::connection,
                                     websocketpp::transport::asio::tls_socket::endpoint>;

// websocketpp's client configurations with the capped socket in place of theirs.
template <typename Base, typename Socket>
struct CappedClientConfig : Base {
  using type = CappedClientConfig;
  struct transport_config : Base::transport_config {
    using socket_type = typename Socket::endpoint;
  };
  using transport_type = websocketpp::transport::asio::endpoint<transport_config>;
};

}  // namespace wspush
