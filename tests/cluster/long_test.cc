// Long cluster tests (label `long`, built with -DCRSP_LONG_TESTS=ON): many
// nodes, many offers, a third of the nodes killed at once, and a 60 s
// partition. Run by the long job (docs/cluster.md).
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <set>
#include <string>

#include "cluster_test_util.h"

namespace crsp::testing {
namespace {

// Queries here read thousands of offers from one client host: lift the
// per-source answer budget so that the test measures storage, not limits.
const std::vector<std::string> kBigBudget = {"--answer-budget", "268435456",
                                             "--answer-burst", "268435456"};

// Where an offer was registered: the accepting node and the replicas its
// answer named (how many DHT nodes acknowledged the put), so that a missing
// offer's report says whether it was put thinly.
struct Placed {
  int node = 0;
  uint16_t replicas = 0;
};
using Wanted = std::map<std::pair<protocol::DeviceId, uint16_t>, Placed>;

// Registers `entries` of `device` at node `at` and records them in `wanted`.
bool RegisterAt(UdpClient& client, int at,
                const protocol::DeviceId& device,
                std::vector<protocol::ResourceEntry> entries, uint32_t txid,
                Wanted& wanted) {
  std::vector<protocol::EntryResult> results;
  if (!RegisterOk(client, device, std::move(entries), txid, &results)) {
    return false;
  }
  for (const auto& r : results) wanted[{device, r.resource}] = {at, r.replicas};
  return true;
}

// "replicas: 8 x1990, 5 x10": how thinly the offers were put.
std::string ReplicaCounts(const Wanted& wanted) {
  std::map<uint16_t, size_t> counts;
  for (const auto& [offer, placed] : wanted) ++counts[placed.replicas];
  std::string out = "replicas:";
  for (auto it = counts.rbegin(); it != counts.rend(); ++it) {
    char item[32];
    std::snprintf(item, sizeof item, " %u x%zu", unsigned{it->first},
                  it->second);
    out += item;
  }
  return out;
}

// (device, resource) pairs node k misses among `wanted`, or every pair when
// the node does not answer.
size_t Missing(Cluster& cluster, int k, const std::vector<uint16_t>& resources,
               const Wanted& wanted, std::string* which = nullptr) {
  std::set<std::pair<protocol::DeviceId, uint16_t>> seen;
  for (uint16_t r : resources) {
    auto offers = QueryAll(cluster.Client(k), r, Answers::kWhatItHolds);
    if (!offers) {
      if (which) *which = "no answer";
      return wanted.size();
    }
    for (const auto& o : *offers) seen.insert({o.device, o.resource});
  }
  size_t missing = 0;
  for (const auto& [w, placed] : wanted) {
    if (seen.count(w) != 0) continue;
    // Say which, so that a failure shows a pattern (one id, one node, thin
    // puts).
    ++missing;
    if (which && missing <= 8) {
      char item[96];
      std::snprintf(item, sizeof item,
                    " device #%u id %04x (put at node %d, %u replicas)",
                    (unsigned{w.first[14]} << 8) | w.first[15], w.second,
                    placed.node, unsigned{placed.replicas});
      *which += item;
    }
  }
  return missing;
}

// Waits until every node in `nodes` serves every wanted offer, polling them
// in rounds (so that each node is asked again and again until the deadline,
// not only the first ones); reports each node's last count otherwise.
void ExpectAllServe(Cluster& cluster, const std::vector<int>& nodes,
                    const std::vector<uint16_t>& resources,
                    const Wanted& wanted, std::chrono::seconds within) {
  const auto deadline = Clock::now() + within;
  std::map<int, size_t> missing;
  std::set<int> asked;  // a slow round may reach the deadline before some
  for (int k : nodes) missing[k] = wanted.size();
  for (int round = 0; round < 400; ++round) {
    bool all = true;
    for (auto& [k, count] : missing) {
      // Past the deadline a round only finishes the nodes it has begun.
      if (count != 0 && Clock::now() < deadline) {
        count = Missing(cluster, k, resources, wanted);
        asked.insert(k);
      }
      all = all && count == 0;
    }
    if (all || Clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  for (const auto& [k, count] : missing) {
    if (count == 0) continue;
    std::string which;
    const size_t now_missing = Missing(cluster, k, resources, wanted, &which);
    EXPECT_EQ(count, 0u) << "node " << k << " misses " << count << " of "
                         << wanted.size()
                         << (asked.count(k) ? ""
                                            : " (never asked before the "
                                              "deadline: the rounds were slow)")
                         << " offers (asked again: " << now_missing << ":"
                         << which << ")";
  }
}

TEST(ClusterLong, TwentyNodesLoseNoneOfTwoThousandOffersWhenSevenDie) {
  constexpr int kNodes = 20;
  const std::vector<uint16_t> resources = {0x8201, 0x8202, 0x8203, 0x8204};
  Cluster cluster(CRSP_NODE_BINARY, kNodes);
  ASSERT_TRUE(cluster.StartAll(kBigBudget));

  // 500 devices x 4 resource ids, registered round-robin over every node.
  Wanted wanted;
  for (uint32_t d = 0; d < 500; ++d) {
    protocol::DeviceId device = DeviceNumber(d, 0x50);
    std::vector<protocol::ResourceEntry> entries;
    for (uint16_t r : resources) {
      entries.push_back(Entry(r, 10 + (d * 37) % 100000));
    }
    int at = 1 + static_cast<int>(d % kNodes);
    ASSERT_TRUE(RegisterAt(cluster.Client(at), at, device, entries,
                           1 + d, wanted))
        << "device " << d << " at node " << at;
  }
  ASSERT_EQ(wanted.size(), 2000u);
  std::printf("registered: %s\n", ReplicaCounts(wanted).c_str());
  std::vector<int> all;
  for (int k = 1; k <= kNodes; ++k) all.push_back(k);
  // A node's first query reads 5,632 keys in 1.5 s and answers with what
  // came; its watch listens and re-reads them at 32 gets/s (~3 min). On
  // this 2-core machine 20 nodes share two cores: give them 4 minutes.
  ExpectAllServe(cluster, all, resources, wanted, std::chrono::seconds(240));

  // Seven at once, accepting nodes among them (every node accepted some).
  std::vector<int> live;
  for (int k = 1; k <= kNodes; ++k) {
    if (k >= 14) {
      ASSERT_TRUE(cluster.Kill(k));
    } else {
      live.push_back(k);
    }
  }
  ExpectAllServe(cluster, live, resources, wanted, std::chrono::seconds(120));
}

TEST(ClusterLong, OffersOnBothSidesOfASixtySecondPartitionReachEveryNode) {
  constexpr int kNodes = 6;
  const std::vector<uint16_t> resources = {0x8301};
  Cluster cluster(CRSP_NODE_BINARY, kNodes);
  if (!cluster.separate_hosts()) {
    GTEST_SKIP() << "needs separate hosts: " << cluster.why_not_separate();
  }
  ASSERT_TRUE(cluster.StartAll(kBigBudget));
  ASSERT_TRUE(cluster.Partition({4, 5, 6}));

  Wanted wanted;
  for (uint32_t d = 0; d < 20; ++d) {
    protocol::DeviceId device = DeviceNumber(d, 0x60);
    int at = d % 2 == 0 ? 1 + static_cast<int>(d % 3)   // side A: 1..3
                        : 4 + static_cast<int>(d % 3);  // side B: 4..6
    // The client host sits on side A: reach side B from inside its hosts.
    ASSERT_TRUE(RegisterAt(cluster.LocalClient(at), at, device,
                           {Entry(0x8301, 100 + d)}, d, wanted))
        << "device " << d << " at node " << at;
  }
  std::printf("registered: %s\n", ReplicaCounts(wanted).c_str());
  std::this_thread::sleep_for(std::chrono::seconds(60));
  ASSERT_TRUE(cluster.Heal());
  // Two re-announce intervals; the node re-announces well within 60 s.
  std::vector<int> all = {1, 2, 3, 4, 5, 6};
  ExpectAllServe(cluster, all, resources, wanted, std::chrono::seconds(120));
}

}  // namespace
}  // namespace crsp::testing
