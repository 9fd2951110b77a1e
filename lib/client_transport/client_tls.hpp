// The clients' TLS settings (wspush client, publish, bench): TLS 1.2+, the chain and
// host name verified against the system CAs or --cacert, or nothing verified with
// --insecure. One context may serve many connections (the bench's).
#pragma once

#include <memory>
#include <string>
#include <websocketpp/common/asio.hpp>
#include <websocketpp/common/asio_ssl.hpp>

namespace wspush {

std::shared_ptr<websocketpp::lib::asio::ssl::context> client_tls_context(std::string const& cacert,
                                                                         bool insecure,
                                                                         std::string const& host);

}  // namespace wspush
