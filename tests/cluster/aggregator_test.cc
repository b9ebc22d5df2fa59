// Aggregators on real hosts (docs/scaling.md): only a few nodes aggregate
// an id while every node gives the same exact answer, and when every
// aggregator of an id dies at once the others keep answering (direct
// reads) and new aggregators take over, with no offer lost.
#include <gtest/gtest.h>

#include <iostream>
#include <set>

#include "cluster_test_util.h"

namespace crsp::testing {
namespace {

constexpr uint16_t kResource = 0x8103;
constexpr char kAggregating[] = "aggregating resource id 8103";
constexpr int kNodes = 7;

std::set<int> Aggregators(Cluster& cluster, const std::set<int>& among) {
  std::set<int> found;
  for (int k : among) {
    // "no longer aggregating ..." also contains the phrase: count the
    // starts and the ends.
    const std::string log = cluster.node(k)->Log();
    size_t starts = 0, ends = 0;
    for (size_t at = log.find(kAggregating); at != std::string::npos;
         at = log.find(kAggregating, at + 1)) {
      const bool end = at >= 11 && log.compare(at - 11, 11, "no longer ") == 0;
      (end ? ends : starts) += 1;
    }
    if (starts > ends) found.insert(k);
  }
  return found;
}

// Node k's exact answer holds every one of `devices`, and `total` counts
// exactly them.
bool ServesExactly(Cluster& cluster, int k,
                   const std::vector<protocol::DeviceId>& devices) {
  auto offers = QueryAll(cluster.Client(k), kResource, Answers::kExact);
  if (!offers || offers->size() != devices.size()) return false;
  for (const auto& d : devices) {
    if (!FindOffer(*offers, d)) return false;
  }
  return true;
}

bool AllServeExactly(Cluster& cluster, const std::set<int>& nodes,
                     const std::vector<protocol::DeviceId>& devices,
                     std::chrono::seconds within) {
  const auto deadline = Clock::now() + Scaled(within);
  for (int k : nodes) {
    if (!PollUntil([&] { return ServesExactly(cluster, k, devices); },
                   deadline)) {
      ADD_FAILURE() << "node " << k << " has no exact answer of "
                    << devices.size() << " offers";
      return false;
    }
  }
  return true;
}

std::vector<protocol::DeviceId> RegisterAt(Cluster& cluster, int at, int n,
                                           uint8_t tag) {
  std::vector<protocol::DeviceId> devices;
  for (int i = 0; i < n; ++i) {
    devices.push_back(DeviceNumber(i, tag));
    EXPECT_TRUE(RegisterOk(cluster.Client(at), devices.back(),
                           {Entry(kResource, 200 + i)}, 100 + i));
  }
  return devices;
}

std::set<int> AllNodes() {
  std::set<int> all;
  for (int k = 1; k <= kNodes; ++k) all.insert(k);
  return all;
}

TEST(ClusterAggregators, AFewNodesAggregateAnIdAndEveryNodeAnswersExactly) {
  Cluster cluster(CRSP_NODE_BINARY, kNodes);
  ASSERT_TRUE(cluster.StartAll());
  ASSERT_TRUE(cluster.WaitJoined());
  auto devices = RegisterAt(cluster, 1, 5, 0x30);
  ASSERT_TRUE(AllServeExactly(cluster, AllNodes(), devices,
                              std::chrono::seconds(20)));
  // Every node was asked; only the id's closest nodes aggregate it: 3,
  // one more while two nodes' views of the DHT differ.
  const std::set<int> aggregators = Aggregators(cluster, AllNodes());
  std::cout << "aggregators of 8103: " << aggregators.size() << " of "
            << kNodes << " nodes\n";
  EXPECT_GE(aggregators.size(), 1u);
  EXPECT_LE(aggregators.size(), 4u);
  // A registration after that is seen everywhere, exactly.
  auto more = RegisterAt(cluster, 4, 1, 0x31);
  devices.insert(devices.end(), more.begin(), more.end());
  EXPECT_TRUE(AllServeExactly(cluster, AllNodes(), devices,
                              std::chrono::seconds(10)));
}

TEST(ClusterAggregators, WhenEveryAggregatorDiesOthersAnswerAndNewOnesTakeOver) {
  Cluster cluster(CRSP_NODE_BINARY, kNodes);
  ASSERT_TRUE(cluster.StartAll());
  ASSERT_TRUE(cluster.WaitJoined());
  auto devices = RegisterAt(cluster, 1, 4, 0x32);
  ASSERT_TRUE(AllServeExactly(cluster, AllNodes(), devices,
                              std::chrono::seconds(20)));
  // Adverts are put once warm: give them a moment to be stored.
  const auto found_by = Clock::now() + std::chrono::seconds(10);
  std::set<int> aggregators;
  PollUntil(
      [&] {
        aggregators = Aggregators(cluster, AllNodes());
        return !aggregators.empty();
      },
      found_by);
  ASSERT_FALSE(aggregators.empty());
  ASSERT_LT(aggregators.size(), static_cast<size_t>(kNodes) - 1);
  for (int k : aggregators) ASSERT_TRUE(cluster.Kill(k));
  const auto killed_at = Clock::now();
  std::set<int> alive;
  for (int k : AllNodes()) {
    if (!aggregators.count(k)) alive.insert(k);
  }
  // The others keep answering, exactly, with every offer (the offers live
  // in the DHT, not at the aggregators).
  EXPECT_TRUE(
      AllServeExactly(cluster, alive, devices, std::chrono::seconds(15)));
  // New aggregators take over among the living.
  std::set<int> successors;
  EXPECT_TRUE(PollUntil(
      [&] {
        for (int k : alive) ServesExactly(cluster, k, devices);
        successors = Aggregators(cluster, alive);
        return !successors.empty();
      },
      Clock::now() + std::chrono::seconds(40), std::chrono::seconds(1), 60))
      << "no node took over";
  std::cout << "killed " << aggregators.size() << " aggregators; "
            << successors.size() << " took over within "
            << std::chrono::duration_cast<std::chrono::milliseconds>(
                   Clock::now() - killed_at)
                   .count()
            << " ms of the kill\n";
  EXPECT_TRUE(
      AllServeExactly(cluster, alive, devices, std::chrono::seconds(10)));
}

}  // namespace
}  // namespace crsp::testing
