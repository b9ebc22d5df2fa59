// What a Node reports through NodeMetrics (crsp/node/metrics.h): drops,
// rate limits by reason, journal writes and syncs, how query entries were
// served, and the offer gauges. (Answers by type and status are counted by
// the daemon's UdpServer: node.daemon.MetricsPrometheus checks them.) The
// sink here records calls; the request paths are real.
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <utility>

#include "crsp/node/metrics.h"
#include "node_harness.h"

namespace crsp::node::testing {
namespace {

using wire::Status;

class RecordingMetrics final : public NodeMetrics {
 public:
  void Answered(RequestType type, Status status, size_t bytes) override {
    std::lock_guard lock(mu_);
    ++answers[{type, status}];
    answer_bytes += bytes;
  }
  void Dropped(DropReason reason) override {
    std::lock_guard lock(mu_);
    ++dropped[reason];
  }
  void RateLimited(LimitReason reason) override {
    std::lock_guard lock(mu_);
    ++limited[reason];
  }
  void Journaled(size_t records) override {
    std::lock_guard lock(mu_);
    journaled += records;
  }
  void JournalSynced(std::chrono::nanoseconds took) override {
    std::lock_guard lock(mu_);
    ++syncs;
    EXPECT_GE(took.count(), 0);
  }
  void ResourceIdsServed(size_t from_index, size_t cold_read,
                         size_t forwarded) override {
    served_forwarded += forwarded;
    std::lock_guard lock(mu_);
    served_from_index += from_index;
    served_cold += cold_read;
  }
  void Offers(const OfferGauges& g) override {
    std::lock_guard lock(mu_);
    gauges = g;
  }

  std::map<std::pair<RequestType, Status>, int> answers;
  size_t answer_bytes = 0;
  std::map<DropReason, int> dropped;
  std::map<LimitReason, int> limited;
  size_t journaled = 0;
  int syncs = 0;
  size_t served_from_index = 0;
  size_t served_cold = 0;
  size_t served_forwarded = 0;
  OfferGauges gauges;

 private:
  std::mutex mu_;
};

struct Fixture {
  explicit Fixture(NodeConfig config = {}) {
    world.metrics = metrics;
    node = std::make_unique<TestNode>(world, config);
  }
  World world;
  std::shared_ptr<RecordingMetrics> metrics =
      std::make_shared<RecordingMetrics>();
  std::unique_ptr<TestNode> node;
};

TEST(NodeMetrics, CountsDropsAndRateLimitsByReason) {
  NodeConfig config;
  config.limits.answer_bytes_per_sec = 500;
  config.limits.answer_burst_bytes = 3000;
  config.limits.offers_per_device = 1;
  Fixture f(config);
  // A quota: the device may hold one offer; the second entry is refused.
  const auto reg =
      f.node->Send(Register(1, Device(1), {Entry(1, 10), Entry(2, 10)}));
  EXPECT_EQ(Results(reg).entries[1].status, Status::kRateLimited);
  EXPECT_EQ(f.metrics->limited[LimitReason::kQuota], 1);
  // Undecodable: no CRSP magic, no answer.
  const std::vector<std::byte> junk(5, std::byte{0x42});
  EXPECT_TRUE(f.node->SendRaw(junk).empty());
  EXPECT_EQ(f.metrics->dropped[DropReason::kUndecodable], 1);
  // The budget: 20 offers make a query answer of ~1.1 kB; past the 3000
  // bytes of burst, queries are answered RATE_LIMITED.
  for (uint8_t j = 0; j < 20; ++j) {
    f.node->Send(Register(100 + j, Device(j + 2), {Entry(1, 10)}), SourceB());
  }
  const int limited_before = f.metrics->limited[LimitReason::kBudget];
  int limited = 0;
  for (uint32_t i = 0; i < 20; ++i) {
    limited += f.node->Send(Query(1000 + i, {Want(1)})).packet.header.status ==
               Status::kRateLimited;
  }
  EXPECT_GT(limited, 0);
  EXPECT_EQ(f.metrics->limited[LimitReason::kBudget] - limited_before, limited);
  EXPECT_EQ(f.metrics->dropped[DropReason::kBudget], 0);
}

TEST(NodeMetrics, CountsDatagramsDroppedOverTheBudget) {
  NodeConfig config;
  config.limits.answer_bytes_per_sec = 1;
  config.limits.answer_burst_bytes = 1;
  Fixture f(config);
  // Over the budget, and even a MALFORMED answer (16 bytes) would be
  // larger than this 14-byte request: nothing is sent.
  std::vector<std::byte> runt = Bytes(Ping(7, wire::CheckType::kNone));
  runt.resize(14);
  EXPECT_TRUE(f.node->SendRaw(runt).empty());
  EXPECT_EQ(f.metrics->dropped[DropReason::kBudget], 1);
  EXPECT_TRUE(f.metrics->answers.empty());
}

TEST(NodeMetrics, CountsRegistersRefusedForPendingWrites) {
  NodeConfig config;
  config.limits.max_pending_writes = 1;
  Fixture f(config);
  f.world.hold_puts = true;  // the first register's record stays pending
  EXPECT_TRUE(
      f.node->SendRaw(Bytes(Register(1, Device(1), {Entry(1, 10)}))).empty());
  EXPECT_EQ(
      f.node->Send(Register(2, Device(2), {Entry(1, 10)})).packet.header.status,
      Status::kRateLimited);
  EXPECT_EQ(f.metrics->limited[LimitReason::kPendingWrites], 1);
  f.node->node().Tick();
  EXPECT_EQ(f.metrics->gauges.pending_writes, 1u);
  f.world.ReleaseHeld(true);
  f.node->node().Tick();
  EXPECT_EQ(f.metrics->gauges.pending_writes, 0u);
}

TEST(NodeMetrics, CountsJournalWritesSyncsServedIdsAndOfferGauges) {
  Fixture f;
  f.node->Send(Register(1, Device(1), {Entry(1, 10), Entry(2, 10)}));
  f.node->Send(Register(2, Device(2), {Entry(1, 12)}));
  f.node->Send(Withdraw(3, Device(2), {1}));
  EXPECT_EQ(f.metrics->journaled, 4u);  // three offers, one withdrawal
  EXPECT_GE(f.metrics->syncs, 1);
  // The first query of a resource id reads the DHT; then it is warm.
  f.node->Send(Query(4, {Want(1), Want(2)}));
  EXPECT_EQ(f.metrics->served_cold, 2u);
  EXPECT_EQ(f.metrics->served_from_index, 0u);
  f.node->Send(Query(5, {Want(1)}));
  EXPECT_EQ(f.metrics->served_cold, 2u);
  EXPECT_EQ(f.metrics->served_from_index, 1u);
  f.node->node().Tick();
  EXPECT_EQ(f.metrics->gauges.journaled, 2u);  // live: the withdrawn one not
  EXPECT_EQ(f.metrics->gauges.indexed, 3u);    // the tombstone is a record
  EXPECT_EQ(f.metrics->gauges.pending_writes, 0u);
}

}  // namespace
}  // namespace crsp::node::testing
