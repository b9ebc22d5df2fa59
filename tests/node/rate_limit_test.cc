// The answer budget per source /64 (IPv4 /24) and the bounded memory of the
// per-source table.
#include <gtest/gtest.h>

#include "node_harness.h"
#include "rate_limiter.h"

namespace crsp::node::testing {
namespace {

using wire::Status;

NodeConfig TightBudget() {
  NodeConfig config;
  config.limits.answer_bytes_per_sec = 500;
  config.limits.answer_burst_bytes = 3000;
  return config;
}

TEST(RateLimit, AnswersRateLimitedNeverLargerThanTheRequestPastTheBudget) {
  World world;
  TestNode node(world, TightBudget());
  for (int i = 0; i < 20; ++i) {
    node.Send(
        Register(i + 1, Device(static_cast<uint8_t>(i + 1)), {Entry(1, 10)}),
        SourceB());
  }
  int limited = 0, full = 0;
  for (int i = 0; i < 20; ++i) {
    const std::vector<std::byte> request = Bytes(Query(100 + i, {Want(1)}));
    const auto answers = node.SendRaw(request);
    ASSERT_EQ(answers.size(), 1u);
    const auto a = protocol::Decode(answers[0]);
    if (a.packet.header.status == Status::kRateLimited) {
      ++limited;
      EXPECT_LE(answers[0].size(), request.size());
      EXPECT_EQ(a.packet.header.count, 0);
      EXPECT_EQ(a.packet.header.check, wire::CheckType::kCrc32);
    } else {
      ++full;
      EXPECT_GT(answers[0].size(), request.size());
    }
  }
  // 3000 bytes of burst: two answers of 1180 bytes, then limited.
  EXPECT_EQ(full, 2);
  EXPECT_EQ(limited, 18);
  // Another /64 has its own budget; time refills this one.
  EXPECT_EQ(node.Send(Query(200, {Want(1)}), SourceB()).packet.header.status,
            Status::kOk);
  *world.now += 3;
  EXPECT_EQ(node.Send(Query(201, {Want(1)})).packet.header.status, Status::kOk);
}

TEST(RateLimit, CountsIpv4SourcesPerSlash24) {
  World world;
  TestNode node(world, TightBudget());
  for (int i = 0; i < 15; ++i) {
    node.Send(
        Register(i + 1, Device(static_cast<uint8_t>(i + 1)), {Entry(1, 10)}));
  }
  int ok = 0;
  for (uint8_t host = 1; host <= 6; ++host) {
    const auto answers =
        node.SendRaw(Bytes(Query(host, {Want(1)})), FromV4(192, 0, 2, host, 9));
    ASSERT_EQ(answers.size(), 1u);
    ok += protocol::Decode(answers[0]).packet.header.status == Status::kOk;
  }
  // 1108-byte answers, 3000 bytes for the whole /24.
  EXPECT_EQ(ok, 2);
  EXPECT_EQ(
      node.SendRaw(Bytes(Query(9, {Want(1)})), FromV4(192, 0, 3, 1, 9)).size(),
      1u);
}

TEST(RateLimit, SendsNothingWhenEvenAnErrorWouldBeLargerThanTheRequest) {
  World world;
  NodeConfig config = TightBudget();
  config.limits.answer_burst_bytes = 1;
  config.limits.answer_bytes_per_sec = 1;
  TestNode node(world, config);
  // 14 bytes: the txid is readable, so the spec wants a 16-byte MALFORMED
  // answer; over the budget it would be larger than the request.
  std::vector<std::byte> runt = Bytes(Ping(1, wire::CheckType::kNone));
  runt.resize(14);
  EXPECT_TRUE(node.SendRaw(runt).empty());
}

TEST(RateLimiter, EvictsIdleSourcesAndBoundsItsTable) {
  RateLimiter limiter(100, 1000, 4);
  protocol::Ipv6Address prefix{};
  for (uint8_t i = 0; i < 10; ++i) {
    prefix[0] = i;
    EXPECT_TRUE(limiter.TryConsume(prefix, 500, 1));
    EXPECT_LE(limiter.sources(), 4u);
  }
  limiter.Evict(2);
  EXPECT_EQ(limiter.sources(), 4u);  // half empty, 100 B/s: not yet full
  limiter.Evict(6);
  EXPECT_EQ(limiter.sources(), 0u);
}

TEST(RateLimiter, RefusesWithoutTakingAndRefillsOverTime) {
  RateLimiter limiter(100, 1000, 16);
  const protocol::Ipv6Address p{};
  EXPECT_TRUE(limiter.TryConsume(p, 900, 0));
  EXPECT_FALSE(limiter.TryConsume(p, 200, 0));
  EXPECT_TRUE(limiter.TryConsume(p, 100, 0));
  EXPECT_FALSE(limiter.HasBudget(p, 0));
  EXPECT_TRUE(limiter.TryConsume(p, 200, 2));
  EXPECT_TRUE(limiter.TryConsume(p, 1000, 1000));
}

}  // namespace
}  // namespace crsp::node::testing
