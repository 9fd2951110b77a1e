#include "common/frame.hpp"

#include <gtest/gtest.h>

using wspush::frame_header;
using wspush::Opcode;

TEST(Frame, SmallTextFrameHasTwoByteHeader) {
  EXPECT_EQ(frame_header(Opcode::text, 5), std::string("\x81\x05", 2));
  EXPECT_EQ(frame_header(Opcode::binary, 125), std::string("\x82\x7d", 2));
}

TEST(Frame, MediumFrameUsesSixteenBitLength) {
  EXPECT_EQ(frame_header(Opcode::text, 126), std::string("\x81\x7e\x00\x7e", 4));
  EXPECT_EQ(frame_header(Opcode::text, 65535), std::string("\x81\x7e\xff\xff", 4));
}

TEST(Frame, LargeFrameUsesSixtyFourBitLength) {
  EXPECT_EQ(frame_header(Opcode::text, 65536),
            std::string("\x81\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10));
}

TEST(Frame, FramedMessageIsHeaderThenPayloadAndFramePayloadSkipsTheHeader) {
  for (std::size_t size : {0u, 5u, 125u, 126u, 65535u, 65536u}) {
    std::string const payload(size, 'x');
    auto const framed = wspush::framed_message(Opcode::text, payload);
    EXPECT_EQ(*framed, frame_header(Opcode::text, size) + payload);
    EXPECT_EQ(wspush::frame_payload(*framed), payload) << size;
  }
}

TEST(Frame, ClosePayloadCutsTheReasonOnACharacterBoundary) {
  EXPECT_EQ(wspush::close_payload(0, "ignored"), "");
  EXPECT_EQ(wspush::close_payload(1000, "bye"), std::string("\x03\xe8"
                                                            "bye",
                                                            5));
  // 122 ASCII bytes then a 2-byte character: the character would end at byte 124 > 123.
  std::string const reason = std::string(122, 'a') + "\xc3\xa9" + "tail";
  std::string const payload = wspush::close_payload(4008, reason);
  EXPECT_EQ(payload.size(), 2u + 122u);
  EXPECT_EQ(payload.substr(2), std::string(122, 'a'));
  // Exactly 123 bytes fit whole.
  EXPECT_EQ(wspush::close_payload(1001, std::string(123, 'b')).size(), 125u);
}
