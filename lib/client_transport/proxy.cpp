// Which proxy a client uses (ws_client.hpp): --proxy, else https_proxy/http_proxy
// (either case) unless no_proxy covers the host.
#include <cctype>
#include <cstdlib>
#include <websocketpp/uri.hpp>

#include "client_transport/ws_client.hpp"

namespace wspush {
namespace {

std::string lowercase(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string env(const char* lower, const char* upper) {
  if (const char* v = std::getenv(lower); v && *v) return v;
  if (const char* v = std::getenv(upper); v && *v) return v;
  return {};
}

// no_proxy: comma-separated hosts or domain suffixes; "*" matches everything.
bool no_proxy_covers(std::string const& host) {
  std::string const list = env("no_proxy", "NO_PROXY");
  std::size_t start = 0;
  while (start <= list.size()) {
    std::size_t end = list.find(',', start);
    if (end == std::string::npos) end = list.size();
    std::string entry = lowercase(list.substr(start, end - start));
    entry.erase(0, entry.find_first_not_of(" \t"));
    entry.erase(entry.find_last_not_of(" \t") + 1);
    if (!entry.empty() && entry.front() == '.') entry.erase(0, 1);
    if (entry == "*") return true;
    std::string const h = lowercase(host);
    if (!entry.empty() &&
        (h == entry ||
         (h.size() > entry.size() && h.compare(h.size() - entry.size(), entry.size(), entry) == 0 &&
          h[h.size() - entry.size() - 1] == '.'))) {
      return true;
    }
    start = end + 1;
  }
  return false;
}

}  // namespace

std::string proxy_for(std::string const& url, std::optional<std::string> const& explicit_proxy) {
  if (explicit_proxy) return *explicit_proxy;
  std::error_code ec;
  websocketpp::uri const uri(url);
  if (!uri.get_valid() || no_proxy_covers(uri.get_host())) return {};
  return uri.get_secure() ? env("https_proxy", "HTTPS_PROXY") : env("http_proxy", "HTTP_PROXY");
}

}  // namespace wspush
