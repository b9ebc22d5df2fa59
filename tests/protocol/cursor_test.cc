#include "crsp/protocol/cursor.h"

#include <gtest/gtest.h>

#include <array>

namespace crsp::protocol {
namespace {

std::vector<std::byte> Bytes(std::initializer_list<int> values) {
  std::vector<std::byte> out;
  for (int v : values) {
    out.push_back(static_cast<std::byte>(v));
  }
  return out;
}

TEST(Reader, ReadsBigEndianIntegers) {
  auto data = Bytes({0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A,
                     0x0B, 0x0C, 0x0D, 0x0E, 0x0F});
  Reader r(data);
  EXPECT_EQ(r.U8(), 0x01);
  EXPECT_EQ(r.U16(), 0x0203);
  EXPECT_EQ(r.U32(), 0x04050607u);
  EXPECT_EQ(r.U64(), 0x08090A0B0C0D0E0Full);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.offset(), 15u);
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(Reader, ErrorIsStickyAndLaterReadsReturnZero) {
  auto data = Bytes({0xFF, 0xFF, 0xFF});
  Reader r(data);
  EXPECT_EQ(r.U32(), 0u);  // one byte short
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.U8(), 0);  // would fit, but the error stays
  EXPECT_EQ(r.U16(), 0);
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_EQ(r.offset(), 0u);
}

TEST(Reader, ShortBytesFillsZerosAndTakeIsEmpty) {
  auto data = Bytes({1, 2, 3});
  Reader r(data);
  std::array<uint8_t, 4> out{9, 9, 9, 9};
  r.Bytes(out);
  EXPECT_EQ(out, (std::array<uint8_t, 4>{0, 0, 0, 0}));
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.Take(1).empty());
}

TEST(Reader, TakeAndSkipAdvance) {
  auto data = Bytes({1, 2, 3, 4, 5});
  Reader r(data);
  r.Skip(1);
  auto view = r.Take(2);
  ASSERT_EQ(view.size(), 2u);
  EXPECT_EQ(view[0], std::byte{2});
  EXPECT_EQ(r.remaining(), 2u);
  r.Skip(3);
  EXPECT_FALSE(r.ok());
}

TEST(Reader, HugeSkipDoesNotWrapAround) {
  auto data = Bytes({1, 2});
  Reader r(data);
  r.U8();
  r.Skip(SIZE_MAX);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.U8(), 0);
}

TEST(Reader, EmptySpanReadsNothing) {
  Reader r(std::span<const std::byte>{});
  EXPECT_EQ(r.U64(), 0u);
  EXPECT_FALSE(r.ok());
}

TEST(Writer, WritesBigEndianAndPatches) {
  std::vector<std::byte> out;
  Writer w(out);
  w.U8(0x01);
  w.U16(0x0203);
  w.U32(0x04050607);
  w.U64(0x08090A0B0C0D0E0F);
  w.Zeros(2);
  std::array<uint8_t, 2> raw{0xAA, 0xBB};
  w.Bytes(raw);
  w.PatchU16(1, 0xCAFE);
  EXPECT_EQ(out, Bytes({0x01, 0xCA, 0xFE, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09,
                        0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0, 0, 0xAA, 0xBB}));
  EXPECT_EQ(w.size(), out.size());
}

TEST(Writer, PatchPastTheEndIsIgnored) {
  std::vector<std::byte> out;
  Writer w(out);
  w.U16(0x0102);
  w.PatchU16(1, 0xFFFF);
  EXPECT_EQ(out, Bytes({0x01, 0x02}));
}

TEST(Writer, WhatItWritesReadsBack) {
  std::vector<std::byte> out;
  Writer w(out);
  w.U64(0xDEADBEEFCAFEF00Dull);
  w.U16(7);
  Reader r(out);
  EXPECT_EQ(r.U64(), 0xDEADBEEFCAFEF00Dull);
  EXPECT_EQ(r.U16(), 7);
  EXPECT_TRUE(r.ok());
}

}  // namespace
}  // namespace crsp::protocol
