#include "core/frame.hpp"

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
