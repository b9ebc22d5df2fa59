// What OpenDhtDht tells its DhtMetrics (crsp/dht_adapter/dht_metrics.h), on
// real loopback DhtRunners: each put started and finished with its outcome
// (ok, failed, timed out), each get of a Fetch, each listen of a Watch and
// each one Unwatch cancels, each put sent again; rendezvous puts and gets are
// not counted.
#include "crsp/dht_adapter/dht_metrics.h"

#include <gtest/gtest.h>
#include <opendht/infohash.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "crsp/dht_adapter/aggregator_role.h"
#include "crsp/dht_adapter/keys.h"
#include "crsp/dht_adapter/opendht_dht.h"
#include "loopback_dht.h"
#include "record_builder.h"

namespace crsp::dht {
namespace {

constexpr Dht::WatchMode kListen = Dht::WatchMode::kListen;

using testing::LoopbackConfig;
using testing::UnsignedRecord;
using testing::WaitUntil;

using namespace std::chrono_literals;

class RecordingDhtMetrics final : public DhtMetrics {
 public:
  void Started(DhtOp op) override {
    std::lock_guard lock(mu_);
    ++started_[op];
  }
  void Finished(DhtOp op, DhtOutcome outcome,
                std::chrono::nanoseconds took) override {
    std::lock_guard lock(mu_);
    ++finished_[{op, outcome}];
    EXPECT_GE(took.count(), 0);
  }
  void ListenStarted(std::chrono::nanoseconds waited) override {
    std::lock_guard lock(mu_);
    ++listens_;
    EXPECT_GE(waited.count(), 0);
  }
  void ListenCancelled() override {
    std::lock_guard lock(mu_);
    ++cancelled_;
  }
  void PutRetried() override {
    std::lock_guard lock(mu_);
    ++put_retries_;
  }
  int started(DhtOp op) {
    std::lock_guard lock(mu_);
    return started_[op];
  }
  int finished(DhtOp op, DhtOutcome outcome) {
    std::lock_guard lock(mu_);
    return finished_[{op, outcome}];
  }
  int finished(DhtOp op) {
    std::lock_guard lock(mu_);
    int n = 0;
    for (const auto& [key, count] : finished_) n += key.first == op ? count : 0;
    return n;
  }
  int listens() {
    std::lock_guard lock(mu_);
    return listens_;
  }
  int cancelled() {
    std::lock_guard lock(mu_);
    return cancelled_;
  }
  int put_retries() {
    std::lock_guard lock(mu_);
    return put_retries_;
  }

 private:
  std::mutex mu_;
  std::map<DhtOp, int> started_;
  std::map<std::pair<DhtOp, DhtOutcome>, int> finished_;
  int listens_ = 0;
  int cancelled_ = 0;
  int put_retries_ = 0;
};

bool PublishAndWait(Dht& dht, const OfferRecord& r) {
  auto result = std::make_shared<std::promise<bool>>();
  auto future = result->get_future();
  dht.Publish(r, [result](bool ok, uint16_t) { result->set_value(ok); });
  if (future.wait_for(10s) != std::future_status::ready) return false;
  return future.get();
}

TEST(OpenDhtDhtMetrics, ReportsEveryPutGetAndListen) {
  auto metrics = std::make_shared<RecordingDhtMetrics>();
  OpenDhtDht a(LoopbackConfig(), {}, metrics);
  OpenDhtDht b(LoopbackConfig({a.LoopbackAddress()}));
  ASSERT_TRUE(WaitUntil([&] { return a.Info().good_peers >= 1; }, 10s));

  ASSERT_TRUE(PublishAndWait(a, testing::UnsignedRecord(1, 500)));
  EXPECT_EQ(metrics->started(DhtOp::kPut), 1);
  EXPECT_EQ(metrics->finished(DhtOp::kPut, DhtOutcome::kOk), 1);
  // Refused before any put: started and failed at once.
  OfferRecord expired = testing::UnsignedRecord(2);
  expired.offer.valid_until = testing::Now() - 1;
  EXPECT_FALSE(PublishAndWait(a, expired));
  EXPECT_EQ(metrics->started(DhtOp::kPut), 2);
  EXPECT_EQ(metrics->finished(DhtOp::kPut, DhtOutcome::kFailed), 1);

  // A Fetch: one get per key, each finished.
  const size_t keys = KeysFor(1, 1000).size();
  auto fetched = std::make_shared<std::promise<void>>();
  auto fetch_done = fetched->get_future();
  a.Fetch(
      1, 1000, {3s, 3s}, [](std::vector<OfferRecord>, bool) {},
      [fetched](std::vector<OfferRecord>, Dht::FetchProgress progress) {
        if (progress != Dht::FetchProgress::kReading) fetched->set_value();
      });
  ASSERT_EQ(fetch_done.wait_for(6s), std::future_status::ready);
  EXPECT_EQ(metrics->started(DhtOp::kGet), static_cast<int>(keys));
  EXPECT_TRUE(WaitUntil(
      [&] { return metrics->finished(DhtOp::kGet) == static_cast<int>(keys); },
      5s))
      << metrics->finished(DhtOp::kGet) << " of " << keys;

  // A Watch: one listen per key, handed to OpenDHT in paced batches.
  a.Watch(
      1, 1000, [](const OfferRecord&) {}, kListen);
  EXPECT_TRUE(WaitUntil(
      [&] { return metrics->listens() == static_cast<int>(keys); }, 5s))
      << metrics->listens() << " of " << keys;

  const DhtInfo info = a.Info();
  EXPECT_GE(info.good_peers, 1u);
  EXPECT_LE(info.dubious_peers, 4u);  // b on two families at most, twice
  b.Shutdown(1s);
  a.Shutdown(1s);
}

TEST(OpenDhtDhtMetrics, APutPastPutTimeoutIsReportedTimedOut) {
  auto metrics = std::make_shared<RecordingDhtMetrics>();
  OpenDhtConfig config = LoopbackConfig();
  config.put_timeout = 300ms;
  auto peer = std::make_unique<OpenDhtDht>(LoopbackConfig());
  OpenDhtDht a(
      [&] {
        config.bootstrap = {peer->LoopbackAddress()};
        return config;
      }(),
      {}, metrics);
  ASSERT_TRUE(WaitUntil([&] { return a.Info().good_peers >= 1; }, 10s));
  // The peer goes away while `a` still holds it good: `a`'s put waits for
  // an answer that never comes, and put_timeout ends it.
  peer->Shutdown(1s);
  peer.reset();
  EXPECT_FALSE(PublishAndWait(a, testing::UnsignedRecord(3)));
  EXPECT_EQ(metrics->finished(DhtOp::kPut, DhtOutcome::kTimedOut), 1);
  a.Shutdown(1s);
}

// Every listen a Watch handed to OpenDHT is cancelled by Unwatch, also the
// ones handed over while the Unwatch ran, and the ones still queued never
// start.
TEST(OpenDhtDhtMetrics, UnwatchCancelsEveryListenStartedAndStartsNoMore) {
  auto metrics = std::make_shared<RecordingDhtMetrics>();
  OpenDhtDht a(LoopbackConfig(), {}, metrics);
  const int keys = static_cast<int>(KeysFor(1, 1000).size());
  a.Watch(
      1, 1000, [](const OfferRecord&) {}, kListen);
  ASSERT_TRUE(WaitUntil([&] { return metrics->listens() == keys; }, 5s));
  a.Unwatch(1);
  EXPECT_EQ(metrics->cancelled(), keys);

  // 1,408 listens, paced 64 per 20 ms: the Unwatch comes while most wait.
  a.Watch(
      2, wire::kAnyPrice, [](const OfferRecord&) {}, kListen);
  std::this_thread::sleep_for(50ms);
  a.Unwatch(2);
  std::this_thread::sleep_for(200ms);  // a batch in hand finishes
  const int started = metrics->listens();
  EXPECT_LT(started - keys,
            static_cast<int>(KeysFor(2, wire::kAnyPrice).size()));
  EXPECT_EQ(metrics->cancelled(), started);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(metrics->listens(), started);  // the queue went with the watch

  // Rendezvous puts and gets are none of the metrics' puts and gets.
  auto put = std::make_shared<std::promise<bool>>();
  auto put_done = put->get_future();
  a.PutRendezvous(2, aggregator::EncodeDemand({2, {}}),
                  [put](bool ok) { put->set_value(ok); });
  ASSERT_EQ(put_done.wait_for(10s), std::future_status::ready);
  EXPECT_TRUE(put_done.get());
  auto got = std::make_shared<std::promise<void>>();
  auto get_done = got->get_future();
  a.GetRendezvous(2, [got](auto, auto) { got->set_value(); });
  ASSERT_EQ(get_done.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(metrics->started(DhtOp::kPut), 0);
  EXPECT_EQ(metrics->started(DhtOp::kGet), 0);
  a.Shutdown(1s);
}

// StopListening cancels the listens a Watch handed over and drops the
// queued ones, for its resource only; the keys stay watched (a later Watch
// of them starts no listen).
TEST(OpenDhtDhtMetrics, StopListeningCancelsItsResourcesListensOnly) {
  auto metrics = std::make_shared<RecordingDhtMetrics>();
  OpenDhtDht a(LoopbackConfig(), {}, metrics);
  const int keys = static_cast<int>(KeysFor(1, 1000).size());
  a.Watch(
      1, 1000, [](const OfferRecord&) {}, kListen);
  a.Watch(
      3, 1000, [](const OfferRecord&) {}, kListen);
  ASSERT_TRUE(WaitUntil([&] { return metrics->listens() == 2 * keys; }, 5s));
  a.StopListening(1);
  EXPECT_EQ(metrics->cancelled(), keys);
  a.StopListening(1);  // idempotent
  EXPECT_EQ(metrics->cancelled(), keys);
  a.Watch(
      1, 1000, [](const OfferRecord&) {}, kListen);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(metrics->listens(), 2 * keys);  // the keys keep their mode

  // 1,408 listens, paced 64 per 20 ms: the stop comes while most wait.
  a.Watch(
      2, wire::kAnyPrice, [](const OfferRecord&) {}, kListen);
  std::this_thread::sleep_for(50ms);
  a.StopListening(2);
  std::this_thread::sleep_for(200ms);  // a batch in hand finishes
  const int started = metrics->listens();
  EXPECT_LT(started - 2 * keys,
            static_cast<int>(KeysFor(2, wire::kAnyPrice).size()));
  EXPECT_EQ(metrics->cancelled(), started - keys);  // resource 3's stay
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(metrics->listens(), started);  // no queued listen started
  a.Shutdown(1s);
}

// A kListenWhereLarge Watch listens only on the keys this node stores at
// least 16 values of (opendht_impl.h kListenMinValues); the others are
// re-read. Here one key of bucket 0 gets 16 values from a peer, and one
// other key 1.
TEST(OpenDhtDhtMetrics, AListenWhereLargeWatchListensOnlyOnLargeKeys) {
  OpenDhtDht a(LoopbackConfig());
  auto metrics = std::make_shared<RecordingDhtMetrics>();
  OpenDhtDht b(LoopbackConfig({a.LoopbackAddress()}), {}, metrics);
  ASSERT_TRUE(WaitUntil([&] { return a.Info().good_peers >= 1; }, 10s));
  // Records of 4,096 devices by shard; the largest shard must hold 16.
  auto record = [](int i) {
    OfferRecord r = UnsignedRecord(static_cast<uint8_t>(i), 10, 9);
    r.offer.device[1] = static_cast<uint8_t>(i >> 8);
    return r;
  };
  std::map<uint32_t, std::vector<int>> by_shard;
  for (int i = 0; i < 4096; ++i) {
    by_shard[ShardOf(record(i).offer.device)].push_back(i);
  }
  auto large = std::max_element(by_shard.begin(), by_shard.end(),
                                [](const auto& x, const auto& y) {
                                  return x.second.size() < y.second.size();
                                });
  ASSERT_GE(large->second.size(), 16u);
  for (size_t i = 0; i < 16; ++i) {
    ASSERT_TRUE(PublishAndWait(a, record(large->second[i])));
  }
  auto small =
      std::find_if(by_shard.begin(), by_shard.end(),
                   [&](const auto& x) { return x.first != large->first; });
  ASSERT_TRUE(PublishAndWait(a, record(small->second[0])));

  b.Watch(
      9, 15, [](const OfferRecord&) {}, Dht::WatchMode::kListenWhereLarge);
  ASSERT_TRUE(WaitUntil([&] { return metrics->listens() >= 1; }, 5s));
  std::this_thread::sleep_for(300ms);  // every listen handed over
  EXPECT_EQ(metrics->listens(), 1);
  b.StopListening(9);
  EXPECT_EQ(metrics->cancelled(), 1);
  b.Shutdown(1s);
  a.Shutdown(1s);
}

// Where `self` ranks, 1 the closest, among `nodes` by XOR distance to `key`.
size_t RankOf(const protocol::NodeId& self,
              const std::vector<protocol::NodeId>& nodes,
              const ::dht::InfoHash& key) {
  protocol::NodeId target;
  std::copy_n(key.data(), target.size(), target.begin());
  size_t rank = 1;
  for (const protocol::NodeId& n : nodes) {
    rank += aggregator::Closer(target, n, self) ? 1 : 0;
  }
  return rank;
}

// OpenDHT 2.4.12's storage maintenance fails the first confirmation of a
// put under a key this node is not among the 8 closest to
// (opendht_impl.h kPutRetryStep): such a put is sent again, counted, and
// confirmed; under a key this node is among the closest to, nothing is.
TEST(OpenDhtDhtMetrics, APutFarFromItsKeyIsSentAgainAndConfirmed) {
  constexpr size_t kNodes = 10;
  auto metrics = std::make_shared<RecordingDhtMetrics>();
  OpenDhtConfig config = LoopbackConfig();
  config.search_anchors = 0;  // not what this is about; fewer packets
  OpenDhtDht a(config, {}, metrics);
  std::vector<std::unique_ptr<OpenDhtDht>> peers;
  for (size_t i = 1; i < kNodes; ++i) {
    OpenDhtConfig c = LoopbackConfig({a.LoopbackAddress()});
    c.search_anchors = 0;
    peers.push_back(std::make_unique<OpenDhtDht>(c));
  }
  // Every peer known (on IPv6, which the bootstrap address is): OpenDHT's
  // "am I among the 8 closest" then agrees with RankOf.
  ASSERT_TRUE(WaitUntil([&] { return a.Info().good_peers >= kNodes - 1; }, 20s))
      << a.Info().good_peers;
  std::vector<protocol::NodeId> ids;
  for (const auto& p : peers) ids.push_back(p->Info().node_id);
  const protocol::NodeId self = a.Info().node_id;

  std::optional<OfferRecord> far;
  std::optional<OfferRecord> near;
  for (int d = 1; d <= 255 && !(far && near); ++d) {
    OfferRecord r = testing::UnsignedRecord(static_cast<uint8_t>(d), 500,
                                            static_cast<uint16_t>(d));
    const size_t rank =
        RankOf(self, ids, ::dht::InfoHash::get(KeyFor(r.offer)));
    if (rank > 8 && !far) far = r;
    if (rank <= 8 && !near) near = r;
  }
  ASSERT_TRUE(far && near);

  ASSERT_TRUE(PublishAndWait(a, *near));
  EXPECT_EQ(metrics->put_retries(), 0);
  ASSERT_TRUE(PublishAndWait(a, *far));
  EXPECT_GE(metrics->put_retries(), 1);
  EXPECT_EQ(metrics->finished(DhtOp::kPut, DhtOutcome::kOk), 2);
  for (auto& p : peers) p->Shutdown(1s);
  a.Shutdown(1s);
}

}  // namespace
}  // namespace crsp::dht
