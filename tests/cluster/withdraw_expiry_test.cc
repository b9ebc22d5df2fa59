// Withdraw and expiry across the cluster: a withdrawn offer leaves every
// node's answers within 5 s; an offer is never served once its `valid until`
// has come, on any node.
#include <gtest/gtest.h>

#include <array>

#include "cluster_test_util.h"

namespace crsp::testing {
namespace {

constexpr uint16_t kResource = 0x8103;

TEST(ClusterWithdraw, AWithdrawnOfferIsGoneFromEveryNodeWithinFiveSeconds) {
  Cluster cluster(CRSP_NODE_BINARY, 5);
  ASSERT_TRUE(cluster.StartAll());
  protocol::DeviceId device = DeviceNumber(1, 0x30);
  protocol::DeviceId stays = DeviceNumber(2, 0x30);
  ASSERT_TRUE(
      RegisterOk(cluster.Client(1), device, {Entry(kResource, 500)}, 1));
  ASSERT_TRUE(RegisterOk(cluster.Client(1), stays, {Entry(kResource, 600)}, 2));
  auto seen_by = Clock::now() + Scaled(std::chrono::seconds(5));
  for (int k = 2; k <= 5; ++k) {
    ASSERT_TRUE(PollUntil(
        [&] { return Serves(cluster.Client(k), kResource, device) == true; },
        seen_by))
        << "node " << k;
  }

  ASSERT_TRUE(WithdrawOk(cluster.Client(1), device, 3));
  auto gone_by = Clock::now() + Scaled(std::chrono::seconds(5));
  for (int k = 1; k <= 5; ++k) {
    EXPECT_TRUE(PollUntil(
        [&] { return Serves(cluster.Client(k), kResource, device) == false; },
        gone_by, std::chrono::milliseconds(50)))
        << "node " << k << " still serves the withdrawn offer after 5 s";
    // Withdrawing one device leaves the others alone.
    EXPECT_EQ(Serves(cluster.Client(k), kResource, stays), true)
        << "node " << k;
  }
}

TEST(ClusterExpiry, AnOfferIsNeverServedAfterValidUntilOnAnyNode) {
  Cluster cluster(CRSP_NODE_BINARY, 5);
  ASSERT_TRUE(cluster.StartAll());
  protocol::DeviceId device = DeviceNumber(1, 0x31);
  // Long enough to be seen everywhere first even on a loaded machine (under
  // ASan a node's first query may take seconds; 9 s were once too few).
  uint64_t until = support::UnixSeconds() + 20;
  ASSERT_TRUE(RegisterOk(
      cluster.Client(1), device,
      {Entry(kResource, 700, 1, support::UnixSeconds() - 60, until)}, 1));
  // Served everywhere before it ends (so the check below is not vacuous),
  // by the node that took it too: each node has been asked before `until`,
  // so what it answers after is its index's verdict, not a first read.
  auto seen_by = Clock::now() + std::chrono::seconds(16);
  for (int k = 1; k <= 5; ++k) {
    EXPECT_TRUE(PollUntil(
        [&] { return Serves(cluster.Client(k), kResource, device) == true; },
        seen_by))
        << "node " << k;
  }
  while (WallSeconds() < static_cast<double>(until)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // From `until` on, every answer of every node leaves it out; watch for
  // 4 s. A query sent after `until` cannot have been answered before it.
  // Not vacuous: every node must have answered at least once (one round
  // may take the whole window on a slow machine).
  auto watch_until = Clock::now() + std::chrono::seconds(4);
  int queries = 0;
  std::array<int, 6> answered{};
  while (Clock::now() < watch_until && queries < 2000) {
    for (int k = 1; k <= 5; ++k, ++queries) {
      const std::optional<bool> served =
          Serves(cluster.Client(k), kResource, device);
      if (served.has_value()) ++answered[k];
      EXPECT_NE(served, true)
          << "node " << k << " served the offer "
          << WallSeconds() - static_cast<double>(until) << " s after it ended";
    }
  }
  for (int k = 1; k <= 5; ++k) {
    EXPECT_GT(answered[k], 0) << "node " << k << " never answered";
  }
}

}  // namespace
}  // namespace crsp::testing
