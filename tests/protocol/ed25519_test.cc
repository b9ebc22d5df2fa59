#include "crsp/protocol/ed25519.h"

#include <gtest/gtest.h>

#include <string_view>
#include <thread>

namespace crsp::protocol {
namespace {

std::span<const std::byte> Text(std::string_view s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

Ed25519Seed CountingSeed() {
  Ed25519Seed seed;
  for (size_t i = 0; i < seed.size(); ++i) {
    seed[i] = static_cast<uint8_t>(i);
  }
  return seed;
}

TEST(Ed25519, PublicKeyIsDerivedFromTheSeed) {
  auto key = Ed25519Key::FromSeed(CountingSeed());
  ASSERT_TRUE(key.has_value());
  // The key in the register_signed vector's trailer.
  const PublicKey want = {0x03, 0xa1, 0x07, 0xbf, 0xf3, 0xce, 0x10, 0xbe,
                          0x1d, 0x70, 0xdd, 0x18, 0xe7, 0x4b, 0xc0, 0x99,
                          0x67, 0xe4, 0xd6, 0x30, 0x9b, 0xa5, 0x0d, 0x5f,
                          0x1d, 0xdc, 0x86, 0x64, 0x12, 0x55, 0x31, 0xb8};
  EXPECT_EQ(key->public_key(), want);
  EXPECT_EQ(key->seed(), CountingSeed());
}

TEST(Ed25519, Rfc8032FirstTestVector) {
  // RFC 8032 section 7.1, TEST 1: empty message.
  Ed25519Seed seed = {0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60,
                      0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec, 0x2c, 0xc4,
                      0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19,
                      0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60};
  auto key = Ed25519Key::FromSeed(seed);
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(key->public_key()[0], 0xd7);
  EXPECT_EQ(key->public_key()[31], 0x1a);
  auto sig = key->Sign({});
  ASSERT_TRUE(sig.has_value());
  EXPECT_EQ((*sig)[0], 0xe5);
  EXPECT_EQ((*sig)[63], 0x0b);
  EXPECT_TRUE(Ed25519Verify(key->public_key(), {}, *sig));
}

TEST(Ed25519, SigningIsDeterministicAndVerifies) {
  auto key = Ed25519Key::FromSeed(CountingSeed());
  ASSERT_TRUE(key.has_value());
  auto a = key->Sign(Text("offer"));
  auto b = key->Sign(Text("offer"));
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, *b);
  EXPECT_TRUE(Ed25519Verify(key->public_key(), Text("offer"), *a));
  EXPECT_FALSE(Ed25519Verify(key->public_key(), Text("offeR"), *a));
  Signature bad = *a;
  bad[10] ^= 0x01;
  EXPECT_FALSE(Ed25519Verify(key->public_key(), Text("offer"), bad));
}

TEST(Ed25519, GeneratedKeysDifferAndVerifyOnlyTheirOwn) {
  auto a = Ed25519Key::Generate();
  auto b = Ed25519Key::Generate();
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->public_key(), b->public_key());
  auto sig = a->Sign(Text("x"));
  ASSERT_TRUE(sig);
  EXPECT_TRUE(Ed25519Verify(a->public_key(), Text("x"), *sig));
  EXPECT_FALSE(Ed25519Verify(b->public_key(), Text("x"), *sig));
}

TEST(Ed25519, KeyMovesAndSignsConcurrently) {
  auto made = Ed25519Key::FromSeed(CountingSeed());
  ASSERT_TRUE(made);
  Ed25519Key key = std::move(*made);
  auto want = key.Sign(Text("same"));
  ASSERT_TRUE(want);
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        if (key.Sign(Text("same")) == want) {
          ++good;
        }
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(good.load(), 200);
}

TEST(Ed25519, SmallOrderKeysVerifyNothing) {
  // GnuTLS 3.7.9 alone accepts both forgeries.
  PublicKey zero{};
  EXPECT_FALSE(Ed25519Verify(zero, Text("x"), Signature{}));
  PublicKey identity{1};
  Signature forged{1};  // R = identity, S = 0
  EXPECT_FALSE(Ed25519Verify(identity, Text("x"), forged));
}

}  // namespace
}  // namespace crsp::protocol
