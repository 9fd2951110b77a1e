// Peer for bench/run: the plain websocketpp 0.8.2 relay loop — the stock
// asio_no_tls config, a std::set of handles, and send() per member. Every text
// message a client sends goes to every connected client (the sender included).
// Prints "port N" once listening.
#include <cstdlib>
#include <iostream>
#include <set>
#include <websocketpp/config/asio_no_tls.hpp>
#include <websocketpp/server.hpp>

using Server = websocketpp::server<websocketpp::config::asio>;
using Handle = websocketpp::connection_hdl;

int main(int argc, char** argv) {
  Server server;
  std::set<Handle, std::owner_less<Handle>> members;
  server.clear_access_channels(websocketpp::log::alevel::all);
  server.clear_error_channels(websocketpp::log::elevel::all);
  server.init_asio();
  server.set_reuse_addr(true);
  server.set_listen_backlog(4096);
  server.set_open_handler([&](Handle h) { members.insert(h); });
  server.set_close_handler([&](Handle h) { members.erase(h); });
  server.set_message_handler([&](Handle, Server::message_ptr msg) {
    if (msg->get_opcode() != websocketpp::frame::opcode::text) return;
    for (auto const& member : members) {
      websocketpp::lib::error_code ec;
      server.send(member, msg->get_payload(), msg->get_opcode(), ec);
    }
  });
  auto const port = static_cast<std::uint16_t>(argc > 1 ? std::atoi(argv[1]) : 0);
  server.listen(websocketpp::lib::asio::ip::tcp::endpoint(
      websocketpp::lib::asio::ip::make_address("127.0.0.1"), port));
  websocketpp::lib::asio::error_code ec;
  std::cout << "port " << server.get_local_endpoint(ec).port() << std::endl;
  server.start_accept();
  server.run();
}
