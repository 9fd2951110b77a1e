#include "client_transport/client_tls.hpp"

namespace wspush {

std::shared_ptr<websocketpp::lib::asio::ssl::context> client_tls_context(std::string const& cacert,
                                                                         bool insecure,
                                                                         std::string const& host) {
  namespace asio = websocketpp::lib::asio;
  auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                   asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                   asio::ssl::context::no_tlsv1_1);
  std::error_code ec;
  if (insecure) {
    ctx->set_verify_mode(asio::ssl::verify_none, ec);
  } else {
    ctx->set_verify_mode(asio::ssl::verify_peer, ec);
    if (!cacert.empty()) {
      ctx->load_verify_file(cacert, ec);
    } else {
      ctx->set_default_verify_paths(ec);
    }
    ctx->set_verify_callback(asio::ssl::host_name_verification(host), ec);
  }
  return ctx;
}

}  // namespace wspush
