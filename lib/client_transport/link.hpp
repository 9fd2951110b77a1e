// One client connection over websocketpp, plain or TLS: the layer AsyncClient and
// BlockingClient share (ws_client.cpp holds both). Opening it starts the connect; events go to
// the sink on the io_context's thread. What a failure means (exit code, one-line
// reason) is decided here, from websocketpp's error codes.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <websocketpp/common/asio.hpp>

#include "client_transport/ws_client.hpp"

namespace wspush {

class Link {
 public:
  using Sink = std::function<void(ClientEvent&)>;
  virtual ~Link() = default;
  virtual void send(Opcode opcode, std::string_view payload) = 0;
  virtual void close(std::uint16_t code, std::string const& reason) = 0;
  virtual std::size_t buffered() const = 0;

  static std::unique_ptr<Link> open(websocketpp::lib::asio::io_context& io,
                                    ConnectOptions const& options, Sink sink);
};

}  // namespace wspush
