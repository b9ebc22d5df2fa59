// crsp/support/hex.h
#include "crsp/support/hex.h"

#include <gtest/gtest.h>

namespace crsp::support {
namespace {

TEST(Hex, EncodesLowerCaseTwoDigitsAByte) {
  const std::array<uint8_t, 4> bytes = {0x00, 0x1f, 0xa0, 0xff};
  EXPECT_EQ(ToHex(bytes), "001fa0ff");
  EXPECT_EQ(ToHex(std::as_bytes(std::span(bytes))), "001fa0ff");
  EXPECT_EQ(ToHex(std::span<const uint8_t>()), "");
}

TEST(Hex, ParseIgnoresWhitespaceAndRefusesOddOrNonHex) {
  auto b = ParseHex(" 00 1f\nA0 ");
  ASSERT_TRUE(b);
  EXPECT_EQ(ToHex(*b), "001fa0");
  EXPECT_FALSE(ParseHex("abc"));
  EXPECT_FALSE(ParseHex("zz"));
  EXPECT_TRUE(ParseHex("")->empty());
}

TEST(Hex, ParseArrayTakesExactlyNBytesAndUuidDashes) {
  auto id = ParseHexArray<16>("00112233-4455-6677-8899-aabbccddeeff");
  ASSERT_TRUE(id);
  EXPECT_EQ(ToHex(*id), "00112233445566778899aabbccddeeff");
  EXPECT_FALSE(ParseHexArray<16>("0011"));
  EXPECT_FALSE(ParseHexArray<2>("001122"));
}

}  // namespace
}  // namespace crsp::support
