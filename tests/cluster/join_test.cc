// Joining: nodes bootstrapped to one another form one platform; an offer
// registered at one node is answered, with every field, by all the others.
#include <gtest/gtest.h>

#include <future>
#include <map>

#include "cluster_test_util.h"

namespace crsp::testing {
namespace {

constexpr uint16_t kResource = 0x8101;

// Registers one offer at node `at` and expects every other node to serve it,
// field for field, within `within` of the acknowledgement. The nodes are
// asked at the same time, one thread each, so the last one gets the same
// time as the first.
void ExpectServedEverywhere(Cluster& cluster, int at,
                            std::chrono::milliseconds within) {
  protocol::DeviceId device = DeviceNumber(1, 0x10);
  protocol::ResourceEntry entry = Entry(kResource, 4200, 8);
  ASSERT_TRUE(RegisterOk(cluster.Client(at), device, {entry}, 1));
  const auto deadline = Clock::now() + within;
  std::map<int, std::future<std::optional<protocol::Offer>>> asked;
  for (int k = 1; k <= cluster.hosts(); ++k) {
    if (k == at) continue;
    UdpClient& client = cluster.Client(k);  // one per node: no sharing
    asked[k] = std::async(std::launch::async, [&client, &device, deadline] {
      std::optional<protocol::Offer> seen;
      PollUntil(
          [&] {
            auto offers = QueryAll(client, kResource);
            if (offers) seen = FindOffer(*offers, device);
            return seen.has_value();
          },
          deadline, std::chrono::milliseconds(50));
      // Served, but only after the deadline: late.
      if (Clock::now() > deadline + std::chrono::milliseconds(50)) {
        return std::optional<protocol::Offer>{};
      }
      return seen;
    });
  }
  for (auto& [k, future] : asked) {
    std::optional<protocol::Offer> seen = future.get();
    ASSERT_TRUE(seen) << "node " << k << " does not serve the offer within "
                      << within.count() << " ms";
    EXPECT_EQ(seen->resource, kResource);
    EXPECT_EQ(seen->price, entry.price);
    EXPECT_EQ(seen->quantity, entry.quantity);
    EXPECT_EQ(seen->unit, entry.unit);
    EXPECT_EQ(seen->valid_from, entry.valid_from);
    EXPECT_EQ(seen->valid_until, entry.valid_until);
    EXPECT_EQ(seen->currency, 156);
    EXPECT_EQ(seen->device_kind,
              static_cast<uint16_t>(wire::DeviceKind::kComputer));
    // Contact all zero in the request: the client host's source address.
    EXPECT_EQ(seen->contact, cluster.AddressBytes(0)) << "node " << k;
    EXPECT_NE(seen->contact_port, 0);
  }
}

TEST(ClusterJoin, TwoNodesServeEachOthersOffers) {
  Cluster cluster(CRSP_NODE_BINARY, 2);
  ASSERT_TRUE(cluster.StartAll());
  ExpectServedEverywhere(cluster, 2, std::chrono::seconds(2));
}

TEST(ClusterJoin, FiveNodesServeAnOfferRegisteredAtNodeOneWithinTwoSeconds) {
  Cluster cluster(CRSP_NODE_BINARY, 5);
  ASSERT_TRUE(cluster.StartAll());
  ExpectServedEverywhere(cluster, 1, std::chrono::seconds(2));
}

TEST(ClusterJoin, NodesBootstrappedInAChainFormOneCluster) {
  Cluster cluster(CRSP_NODE_BINARY, 5);
  ASSERT_TRUE(cluster.StartAll({}, /*chain=*/true));
  ExpectServedEverywhere(cluster, 5, std::chrono::seconds(2));
}

}  // namespace
}  // namespace crsp::testing
