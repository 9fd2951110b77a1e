// The loop's Poller, through the stream that uses it (TcpStream on Unix socket pairs,
// a real epoll set under a real io_context): a wait wakes when the peer writes or
// drains, more sockets than one epoll_wait returns are all served, close() cancels a
// pending wait (later, not inside the close), a released socket wakes nothing here any
// more, the loop's end lets go of waits that own their owner (no cycle outlives it), and
// the peer's packed address comes back whole.
#include "server/loop/poller.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "server/stream/byte_stream.hpp"
#include "socket_pair.hpp"

using namespace wspush;
using Ready = ByteStream::Ready;
using Want = ByteStream::Want;
using wspush::test::Pair;

namespace {

std::unique_ptr<TcpStream> stream_on(asio::io_context& io, Pair& pair) {
  // The stream owns `ours` from here.
  return std::make_unique<TcpStream>(asio::use_service<Poller>(io), std::exchange(pair.ours, -1),
                                     asio::ip::tcp::endpoint{});
}

// Runs `io` until `done` or two seconds have passed.
template <typename Done>
void run_until(asio::io_context& io, Done done) {
  auto const deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    io.restart();
    io.run_for(std::chrono::milliseconds(10));
  }
}

}  // namespace

TEST(Poller, AReadWaitWakesWhenThePeerWrites) {
  asio::io_context io;
  Pair pair;
  auto stream = stream_on(io, pair);
  char buffer[16];
  ASSERT_TRUE(stream->read_some(buffer, sizeof buffer).blocked);
  int woken = 0;
  stream->wait(Want::read, [&](Ready r) { woken += r == Ready::ready ? 1 : 100; });
  io.restart();
  io.run_for(std::chrono::milliseconds(20));
  EXPECT_EQ(woken, 0);  // nothing to read yet
  ASSERT_EQ(::send(pair.theirs, "hi", 2, 0), 2);
  run_until(io, [&] { return woken > 0; });
  ASSERT_EQ(woken, 1);
  auto const io_result = stream->read_some(buffer, sizeof buffer);
  EXPECT_EQ(std::string(buffer, io_result.bytes), "hi");
}

TEST(Poller, AWriteWaitOnAFullSocketWakesOnceThePeerDrains) {
  asio::io_context io;
  Pair pair;
  auto stream = stream_on(io, pair);
  std::string const block(65536, 'x');
  std::string_view const part(block);
  int writes = 0;
  while (!stream->write_some(&part, 1).blocked && writes < 10000) ++writes;
  ASSERT_LT(writes, 10000);
  bool woken = false;
  stream->wait(Want::write, [&](Ready r) { woken = r == Ready::ready; });
  io.restart();
  io.run_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(woken);
  char sink[65536];
  while (::recv(pair.theirs, sink, sizeof sink, 0) > 0) {
  }
  run_until(io, [&] { return woken; });
  EXPECT_TRUE(woken);
}

TEST(Poller, MoreSocketsThanOneEpollWaitReturnsAreAllWoken) {
  asio::io_context io;
  std::vector<Pair> pairs(600);  // kEventsPerWait is 256
  std::vector<std::unique_ptr<TcpStream>> streams;
  int woken = 0;
  for (Pair& pair : pairs) {
    ASSERT_GE(pair.ours, 0);
    streams.push_back(stream_on(io, pair));
    streams.back()->wait(Want::read, [&](Ready r) { woken += r == Ready::ready; });
  }
  for (Pair& pair : pairs) ASSERT_EQ(::send(pair.theirs, "x", 1, 0), 1);
  run_until(io, [&] { return woken == static_cast<int>(pairs.size()); });
  EXPECT_EQ(woken, static_cast<int>(pairs.size()));
}

TEST(Poller, CloseCancelsAPendingWaitAfterTheCloseReturns) {
  asio::io_context io;
  Pair pair;
  auto stream = stream_on(io, pair);
  std::vector<Ready> seen;
  stream->wait(Want::read, [&](Ready r) { seen.push_back(r); });
  stream->close();
  EXPECT_TRUE(seen.empty());  // not from inside close()
  run_until(io, [&] { return !seen.empty(); });
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], Ready::cancelled);
  // A closed stream's next wait fails at once (posted) rather than hanging.
  stream->wait(Want::read, [&](Ready r) { seen.push_back(r); });
  run_until(io, [&] { return seen.size() == 2; });
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1], Ready::failed);
}

TEST(Poller, AReleasedSocketIsNoLongerWatchedHere) {
  asio::io_context io;
  Pair pair;
  auto stream = stream_on(io, pair);
  int woken = 0;
  stream->wait(Want::read, [&](Ready r) { woken += r == Ready::ready; });
  StreamHandoff handoff = stream->release();
  ASSERT_GE(handoff.fd, 0);
  ASSERT_EQ(::send(pair.theirs, "x", 1, 0), 1);
  io.restart();
  io.run_for(std::chrono::milliseconds(50));
  EXPECT_EQ(woken, 0);  // the cancelled wait ran, the data woke nothing
  // On another loop it is watched there.
  asio::io_context other;
  auto resumed = resume_stream(asio::use_service<Poller>(other), std::move(handoff));
  char buffer[4];
  EXPECT_EQ(resumed->read_some(buffer, sizeof buffer).bytes, 1u);
  resumed->wait(Want::read, [&](Ready r) { woken += r == Ready::ready; });
  ASSERT_EQ(::send(pair.theirs, "y", 1, 0), 1);
  run_until(other, [&] { return woken > 0; });
  EXPECT_EQ(woken, 1);
}

// A session owns its stream, and the stream's pending wait owns the session: the end of
// the loop must break that cycle (LeakSanitizer would see it otherwise).
// The poller is edge-triggered: bytes that arrive while the stream waits only to write
// are said once, to nobody; the next read wait must still hear of them (a session that
// wrote its 101 and then waited to read its peer's first frame never woke, once in a
// few thousand Autobahn cases).
TEST(Poller, BytesThatCameDuringAWriteWaitWakeTheNextReadWait) {
  asio::io_context io;
  Pair pair;
  auto stream = stream_on(io, pair);
  int wrote = 0;
  stream->wait(Want::write, [&](Ready r) { wrote += r == Ready::ready ? 1 : 100; });
  run_until(io, [&] { return wrote > 0; });
  ASSERT_EQ(wrote, 1);
  ASSERT_EQ(::send(pair.theirs, "hi", 2, 0), 2);
  io.restart();
  io.run_for(std::chrono::milliseconds(50));  // the edge comes, with no reader waiting
  int woken = 0;
  stream->wait(Want::read, [&](Ready r) { woken += r == Ready::ready ? 1 : 100; });
  run_until(io, [&] { return woken > 0; });
  ASSERT_EQ(woken, 1);
  char buffer[16];
  auto const got = stream->read_some(buffer, sizeof buffer);
  ASSERT_FALSE(got.blocked);
  EXPECT_EQ(std::string(buffer, got.bytes), "hi");
}

TEST(Poller, TheLoopsEndLetsGoOfWaitsThatOwnTheirOwner) {
  struct Owner {
    std::unique_ptr<TcpStream> stream;
  };
  std::weak_ptr<Owner> watch;
  Pair pair;
  {
    asio::io_context io;
    auto owner = std::make_shared<Owner>();
    owner->stream = stream_on(io, pair);
    owner->stream->wait(Want::read, [owner](Ready) {});
    watch = owner;
    owner.reset();
    EXPECT_FALSE(watch.expired());  // only its own wait holds it now
  }
  EXPECT_TRUE(watch.expired());
}

// The stream keeps its peer's address packed: it comes back whole, v4 and v6, in
// remote() and in a hand-off.
TEST(Poller, APeersAddressSurvivesPackingAndTheHandOff) {
  asio::io_context io;
  for (char const* text : {"192.0.2.7", "2001:db8::1:2"}) {
    Pair pair;
    asio::ip::tcp::endpoint const peer(asio::ip::make_address(text), 54321);
    TcpStream stream(asio::use_service<Poller>(io), std::exchange(pair.ours, -1), peer);
    EXPECT_EQ(stream.remote(), std::string(text) + ":54321");
    StreamHandoff const handoff = stream.release();
    EXPECT_EQ(handoff.peer, peer);
    ::close(handoff.fd);
  }
}

// Addresses as text, IPv4 written digit by digit: every width of a byte.
TEST(Poller, AddressesAsText) {
  for (char const* text : {"0.0.0.0", "255.255.255.255", "10.0.99.100", "127.0.0.1", "::1",
                           "2001:db8::1:2", "::ffff:192.0.2.1"}) {
    EXPECT_EQ(address_text(asio::ip::make_address(text)), text);
  }
}
