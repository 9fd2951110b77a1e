// Why a websocketpp client connection did not open, as one line and an exit code:
// shared by `wspush client` (link.cpp) and the bench's fleet (fleet.cpp), so that a
// refused handshake reads "handshake refused: HTTP 404 Not Found: …" in both.
#pragma once

#include <string>
#include <websocketpp/client.hpp>
#include <websocketpp/config/asio_client.hpp>

#include "client_transport/ws_client.hpp"

namespace wspush {
namespace asio = websocketpp::lib::asio;

inline std::string one_line(std::string text, std::size_t limit = 300) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  if (text.size() > limit) text = text.substr(0, limit) + "…";
  return text;
}

inline bool is_tls_error(std::error_code const& ec) {
  return ec.category() == asio::error::get_ssl_category() ||
         ec.category() == websocketpp::transport::asio::socket::get_socket_category() ||
         ec == websocketpp::transport::error::tls_error ||
         ec == websocketpp::transport::error::tls_short_read;
}

template <typename ConnectionPtr>
ClientFailure classify_failure(ConnectionPtr const& con) {
  std::error_code const ec = con->get_ec();
  int const status = con->get_response_code();
  if (status != 0 && status != 101) {
    std::string reason =
        "handshake refused: HTTP " + std::to_string(status) + " " + con->get_response_msg();
    std::string const body = one_line(con->get_response().get_body());
    if (!body.empty()) reason += ": " + body;
    return {ExitCode::handshake, reason, status};
  }
  if (ec == websocketpp::error::open_handshake_timeout) {
    return {ExitCode::timeout, "timed out waiting for the handshake answer"};
  }
  if (is_tls_error(ec)) return {ExitCode::tls, "TLS failure: " + ec.message()};
  if (ec == websocketpp::transport::asio::error::proxy_failed ||
      ec == websocketpp::transport::asio::error::proxy_invalid) {
    return {ExitCode::connect, "cannot connect through the proxy: " + ec.message()};
  }
  if (ec.category() == std::system_category() ||
      ec.category() == asio::error::get_system_category() ||
      ec.category() == asio::error::get_netdb_category() ||
      ec.category() == asio::error::get_addrinfo_category() ||
      ec.category() == asio::error::get_misc_category() ||
      ec == websocketpp::transport::error::timeout) {
    return {ExitCode::connect, "cannot connect: " + ec.message()};
  }
  return {ExitCode::protocol, "handshake failed: " + ec.message()};
}

}  // namespace wspush
