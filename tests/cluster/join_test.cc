// Joining: nodes bootstrapped to one another form one platform; an offer
// registered at one node is answered, with every field, by all the others.
#include <gtest/gtest.h>

#include <future>
#include <map>

#include "cluster_test_util.h"

namespace crsp::testing {
namespace {

constexpr uint16_t kResource = 0x8101;

// How the other nodes are asked.
enum class Asked {
  // Each has been asked about the resource id before the registration (a
  // buyer was there first): all are polled at once, one thread each, and
  // each is held to `within`.
  kWarm,
  // Never asked before: a cold query each (a fetch of every price bucket,
  // which on this 2-core machine with ASan takes seconds of CPU per node),
  // so they are asked one after another, each within `within` of its turn.
  kCold,
};

std::optional<protocol::Offer> PollFor(UdpClient& client,
                                       const protocol::DeviceId& device,
                                       Clock::time_point deadline) {
  std::optional<protocol::Offer> seen;
  PollUntil(
      [&] {
        // Visibility: an INCOMPLETE answer that has the offer shows it.
        auto offers = QueryAll(client, kResource, Answers::kWhatItHolds);
        if (offers) seen = FindOffer(*offers, device);
        return seen.has_value();
      },
      deadline, std::chrono::milliseconds(50));
  // Served, but only after the deadline: late.
  if (Clock::now() > deadline + std::chrono::milliseconds(50)) return {};
  return seen;
}

// Registers one offer at node `at` and expects every other node to serve it,
// field for field, within `within`.
void ExpectServedEverywhere(Cluster& cluster, int at,
                            std::chrono::milliseconds within, Asked asked) {
  within = Scaled(within);
  std::vector<int> others;
  for (int k = 1; k <= cluster.hosts(); ++k) {
    if (k != at) others.push_back(k);
  }
  if (asked == Asked::kWarm) {
    std::vector<std::future<void>> warming;
    for (int k : others) {
      UdpClient& client = cluster.Client(k);  // one per node: no sharing
      // Warm: answered exactly (every key read and watched).
      warming.push_back(std::async(std::launch::async, [&client] {
        ASSERT_TRUE(PollUntil(
            [&client] { return QueryAll(client, kResource).has_value(); },
            Clock::now() + Scaled(std::chrono::seconds(30)),
            std::chrono::milliseconds(200)));
      }));
    }
    for (auto& w : warming) w.get();
  }
  protocol::DeviceId device = DeviceNumber(1, 0x10);
  protocol::ResourceEntry entry = Entry(kResource, 4200, 8);
  ASSERT_TRUE(RegisterOk(cluster.Client(at), device, {entry}, 1));
  std::map<int, std::optional<protocol::Offer>> served;
  if (asked == Asked::kWarm) {
    const auto deadline = Clock::now() + within;
    std::map<int, std::future<std::optional<protocol::Offer>>> polls;
    for (int k : others) {
      UdpClient& client = cluster.Client(k);
      polls[k] = std::async(std::launch::async, [&client, &device, deadline] {
        return PollFor(client, device, deadline);
      });
    }
    for (auto& [k, poll] : polls) served[k] = poll.get();
  } else {
    for (int k : others) {
      served[k] = PollFor(cluster.Client(k), device, Clock::now() + within);
    }
  }
  for (const auto& [k, seen] : served) {
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
  ExpectServedEverywhere(cluster, 2, std::chrono::seconds(2), Asked::kCold);
}

TEST(ClusterJoin, FiveNodesServeAnOfferRegisteredAtNodeOneWithinTwoSeconds) {
  Cluster cluster(CRSP_NODE_BINARY, 5);
  ASSERT_TRUE(cluster.StartAll());
  ExpectServedEverywhere(cluster, 1, std::chrono::seconds(2), Asked::kWarm);
}

TEST(ClusterJoin, NodesBootstrappedInAChainFormOneCluster) {
  Cluster cluster(CRSP_NODE_BINARY, 5);
  ASSERT_TRUE(cluster.StartAll({}, /*chain=*/true));
  ExpectServedEverywhere(cluster, 5, std::chrono::seconds(5), Asked::kCold);
}

}  // namespace
}  // namespace crsp::testing
