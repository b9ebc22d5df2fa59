// Known answers for each check function and the trailer helpers.
#include "crsp/protocol/check.h"

#include <gtest/gtest.h>

#include <string_view>

namespace crsp::protocol {
namespace {

std::span<const std::byte> Text(std::string_view s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

TEST(Check, Crc32OfTheStandardStringIsCbf43926) {
  EXPECT_EQ(Crc32(Text("123456789")), 0xCBF43926u);
  EXPECT_EQ(Crc32({}), 0u);
}

TEST(Check, Md5MatchesRfc1321) {
  auto d = Md5(Text("abc"));
  const std::array<uint8_t, 16> want = {0x90, 0x01, 0x50, 0x98, 0x3c, 0xd2,
                                        0x4f, 0xb0, 0xd6, 0x96, 0x3f, 0x7d,
                                        0x28, 0xe1, 0x7f, 0x72};
  EXPECT_EQ(d, want);
  auto empty = Md5({});
  EXPECT_EQ(empty[0], 0xd4);
  EXPECT_EQ(empty[15], 0x7e);
}

TEST(Check, ParityIsEvenParityOfAllBits) {
  EXPECT_EQ(Parity({}), 0);
  EXPECT_EQ(Parity(Text("\x01")), 1);
  EXPECT_EQ(Parity(Text("\x03")), 0);
  // '1'..'9' carry 3+1+2+1+2+2+3+1+2 ... ones: count them the slow way.
  int ones = 0;
  for (char c : std::string_view("123456789abcdefghij")) {
    ones += __builtin_popcount(static_cast<unsigned char>(c));
  }
  EXPECT_EQ(Parity(Text("123456789abcdefghij")), ones % 2);
}

TEST(Check, Sum16WrapsAtSixtyFiveThousand) {
  EXPECT_EQ(Sum16(Text("123456789")), 0x01DD);  // 477
  std::vector<std::byte> many(300, std::byte{0xFF});
  EXPECT_EQ(Sum16(many), (300 * 255) % 65536);
}

TEST(Check, BccIsXorOfAllBytes) {
  EXPECT_EQ(Bcc(Text("123456789")), 0x31);
  EXPECT_EQ(Bcc(Text("\xF0\x0F")), 0xFF);
}

TEST(Check, LrcMakesTheByteSumZero) {
  EXPECT_EQ(Lrc(Text("123456789")), 0x23);  // (-477) & 0xFF
  EXPECT_EQ(Lrc({}), 0);
  EXPECT_EQ(
      static_cast<uint8_t>(Sum16(Text("123456789")) + Lrc(Text("123456789"))),
      0);
}

TEST(Check, TrailerSizesFollowTheSpecTable) {
  EXPECT_EQ(TrailerSize(wire::CheckType::kNone), 0u);
  EXPECT_EQ(TrailerSize(wire::CheckType::kParity), 1u);
  EXPECT_EQ(TrailerSize(wire::CheckType::kMd5), 16u);
  EXPECT_EQ(TrailerSize(wire::CheckType::kSum), 2u);
  EXPECT_EQ(TrailerSize(wire::CheckType::kBcc), 1u);
  EXPECT_EQ(TrailerSize(wire::CheckType::kCrc32), 4u);
  EXPECT_EQ(TrailerSize(wire::CheckType::kLrc), 1u);
  EXPECT_EQ(TrailerSize(wire::CheckType::kEd25519), 96u);
  EXPECT_EQ(TrailerSize(static_cast<wire::CheckType>(9)), 0u);
  EXPECT_TRUE(IsKnownCheck(7));
  EXPECT_FALSE(IsKnownCheck(8));
}

TEST(Check, AppendedTrailersVerifyAndDetectAChange) {
  auto key = Ed25519Key::FromSeed(Ed25519Seed{});
  ASSERT_TRUE(key.has_value());
  for (uint8_t c = 0; c <= wire::kMaxKnownCheckType; ++c) {
    auto check = static_cast<wire::CheckType>(c);
    std::vector<std::byte> packet(40, std::byte{0x5A});
    ASSERT_TRUE(AppendCheck(check, packet, &*key));
    ASSERT_EQ(packet.size(), 40 + TrailerSize(check));
    std::span<const std::byte> all(packet);
    PublicKey signer{};
    EXPECT_TRUE(VerifyCheck(check, all.first(40), all.subspan(40), &signer));
    if (check == wire::CheckType::kEd25519) {
      EXPECT_EQ(signer, key->public_key());
    }
    if (check == wire::CheckType::kNone) {
      continue;
    }
    packet[3] ^= std::byte{0x01};
    EXPECT_FALSE(VerifyCheck(check, all.first(40), all.subspan(40)));
  }
}

TEST(Check, AppendRefusesEd25519WithoutSignerAndReservedTypes) {
  std::vector<std::byte> packet(20);
  EXPECT_FALSE(AppendCheck(wire::CheckType::kEd25519, packet, nullptr));
  EXPECT_FALSE(AppendCheck(static_cast<wire::CheckType>(8), packet, nullptr));
  EXPECT_EQ(packet.size(), 20u);
}

TEST(Check, VerifyRejectsATrailerOfTheWrongSize) {
  std::vector<std::byte> packet(20);
  std::span<const std::byte> all(packet);
  EXPECT_FALSE(
      VerifyCheck(wire::CheckType::kCrc32, all.first(17), all.subspan(17)));
}

}  // namespace
}  // namespace crsp::protocol
