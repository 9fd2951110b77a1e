// WsSession through the ByteStream seam: an in-memory stream stands where a socket (or
// later TLS) would, so the framing, queueing and closing are tested without a network.
#include "server/ws/ws_session.hpp"

#include <gtest/gtest.h>

#include <deque>

#include "client_frame.hpp"
#include "common/frame.hpp"
#include "memory_stream.hpp"

using namespace wspush;
using wspush::test::masked;
using wspush::test::MemoryStream;

namespace {

struct Recorder final : SessionEvents {
  void on_text(std::uint64_t, std::string_view text) override { texts.emplace_back(text); }
  void on_binary(std::uint64_t, std::string_view data) override { binaries.emplace_back(data); }
  void on_closed(std::uint64_t) override { ++closed; }
  std::vector<std::string> texts, binaries;
  int closed = 0;
};

class WsSessionTest : public ::testing::Test {
 protected:
  WsSessionTest() {
    auto owned = std::make_unique<MemoryStream>();
    stream = owned.get();
    session = std::make_shared<WsSession>(loop, std::move(owned), 7, events, limits);
    session->start();
  }
  // The stream holds the session's pending wait, which holds the session: ending the
  // session cancels the wait and breaks that cycle (Asio does it for real sockets).
  ~WsSessionTest() override { session->abort(); }

  void run() {
    io.restart();
    io.poll();
  }

  asio::io_context io;
  SessionLoop loop{io};
  ConnectionLimits limits{1024,
                          4096,
                          std::chrono::seconds(5),
                          std::chrono::seconds(5),
                          std::chrono::seconds(25),
                          std::chrono::seconds(10),
                          Duration::zero(),
                          true};
  Recorder events;
  MemoryStream* stream;
  std::shared_ptr<WsSession> session;
};

}  // namespace

TEST_F(WsSessionTest, ClientFramesAreUnmaskedAndReported) {
  stream->feed(masked(0x1, "hello") + masked(0x2, std::string("\x00\x01", 2)));
  run();
  EXPECT_EQ(events.texts, std::vector<std::string>{"hello"});
  EXPECT_EQ(events.binaries, std::vector<std::string>{std::string("\x00\x01", 2)});
}

TEST_F(WsSessionTest, EverythingQueuedInALoopTurnGoesOutInOneGatheredWrite) {
  auto const a = framed_message(Opcode::text, "a");
  auto const b = framed_message(Opcode::text, "bb");
  session->push(a);
  session->push(b);
  session->push(a);              // the same shared buffer again: queued by reference
  EXPECT_EQ(stream->writes, 0);  // nothing until the end of the loop turn
  run();
  EXPECT_EQ(stream->writes, 1);
  EXPECT_EQ(stream->output, *a + *b + *a);
}

TEST_F(WsSessionTest, ABlockedStreamIsWaitedOnAndTheRestFollows) {
  stream->accept = 3;
  session->push(framed_message(Opcode::text, "12345"));
  run();
  EXPECT_EQ(stream->output.size(), 3u);
  ASSERT_TRUE(stream->write_waiter);
  EXPECT_FALSE(session->has_room_for(4096 - 3));  // 4 bytes still queued
  stream->accept = SIZE_MAX;
  std::exchange(stream->write_waiter, nullptr)(ByteStream::Ready::ready);
  EXPECT_EQ(stream->output, *framed_message(Opcode::text, "12345"));
  EXPECT_TRUE(session->has_room_for(4096));
}

TEST_F(WsSessionTest, MakeRoomForHandsTheQueueToTheStreamBeforeSayingNo) {
  std::string const big(3000, 'x');
  session->push(framed_message(Opcode::text, big));
  EXPECT_FALSE(session->has_room_for(3000));
  EXPECT_TRUE(session->make_room_for(3000));  // written now, not at the end of the turn
  EXPECT_EQ(stream->output.size(), 3004u);
  stream->accept = 0;
  session->push(framed_message(Opcode::text, big));
  EXPECT_FALSE(session->make_room_for(3000));  // the stream takes nothing: really full
}

TEST_F(WsSessionTest, PingsAreAnsweredWithTheirData) {
  stream->feed(masked(0x9, "abc"));
  run();
  EXPECT_EQ(stream->output, *framed_message(Opcode::pong, "abc"));
}

TEST_F(WsSessionTest, CloseHandshakeThenTheStreamClosesAndOnClosedComesOnce) {
  session->close(4000, "done");
  run();
  EXPECT_EQ(stream->output, *framed_message(Opcode::close, close_payload(4000, "done")));
  EXPECT_FALSE(session->open());
  stream->feed(masked(0x8, std::string("\x0f\xa0", 2)));
  run();
  EXPECT_TRUE(stream->closed);
  EXPECT_EQ(events.closed, 1);
}

TEST_F(WsSessionTest, AProtocolErrorClosesWith1002AfterTheFramesBeforeIt) {
  std::string unmasked = "\x81\x02hi";
  stream->feed(masked(0x1, "first") + unmasked);
  run();
  EXPECT_EQ(events.texts, std::vector<std::string>{"first"});
  std::string const out = stream->output;
  ASSERT_GE(out.size(), 4u);
  EXPECT_EQ(static_cast<unsigned char>(out[0]), 0x88u);
  EXPECT_EQ((static_cast<unsigned char>(out[2]) << 8) | static_cast<unsigned char>(out[3]), 1002);
  EXPECT_TRUE(stream->closed);  // no waiting for their close after a violation
  EXPECT_EQ(events.closed, 1);
}

TEST_F(WsSessionTest, ThePeerGoingAwayEndsTheSession) {
  stream->eof = true;
  stream->feed("");
  stream->input.clear();
  run();
  EXPECT_EQ(events.closed, 1);
}

TEST_F(WsSessionTest, AnEmptyQueueTakesOneMessageLargerThanTheBuffer) {
  EXPECT_TRUE(session->has_room_for(10000));  // the buffer is 4096
  session->push(framed_message(Opcode::text, std::string(10000, 'x')));
  EXPECT_FALSE(session->has_room_for(1));  // but nothing more while it waits
  run();
  EXPECT_EQ(stream->output.size(), 10004u);
  EXPECT_TRUE(session->has_room_for(4096));
}
