// OpenDhtDht on real OpenDHT nodes over [::1] (ephemeral ports): publish at
// one node, fetch and watch at another, a node alone, restart identity, and
// hostile values put by a raw DhtRunner that must never be served.
#include "crsp/dht_adapter/opendht_dht.h"

#include <gtest/gtest.h>
#include <opendht.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <mutex>
#include <thread>

#include "crsp/dht_adapter/keys.h"
#include "loopback_dht.h"
#include "record_builder.h"

namespace crsp::dht {
namespace {

constexpr Dht::WatchMode kListen = Dht::WatchMode::kListen;

using testing::LoopbackConfig;
using testing::WaitUntil;

using namespace std::chrono_literals;
using testing::SignedRecord;
using testing::TestKey;
using testing::UnsignedRecord;

std::pair<bool, uint16_t> PublishAndWait(Dht& dht, const OfferRecord& r) {
  auto result = std::make_shared<std::promise<std::pair<bool, uint16_t>>>();
  auto future = result->get_future();
  dht.Publish(r, [result](bool ok, uint16_t n) { result->set_value({ok, n}); });
  // put_timeout (5 s) bounds it; 10 s means the done was lost.
  if (future.wait_for(10s) != std::future_status::ready) return {false, 999};
  return future.get();
}

// What one Fetch delivered: its answer, then what its finish added.
struct Fetched {
  std::vector<OfferRecord> answer;
  bool answer_complete = false;
  std::vector<OfferRecord> later;
  bool finished_complete = false;
  bool finished = false;
};

Fetched FetchInTwoSteps(Dht& dht, uint16_t resource, uint32_t max_price,
                        Dht::FetchDeadlines deadlines) {
  auto result = std::make_shared<Fetched>();
  auto done = std::make_shared<std::promise<void>>();
  auto future = done->get_future();
  dht.Fetch(
      resource, max_price, deadlines,
      [result](std::vector<OfferRecord> r, bool complete) {
        result->answer = std::move(r);
        result->answer_complete = complete;
      },
      [result, done](std::vector<OfferRecord> r, Dht::FetchProgress progress) {
        EXPECT_FALSE(result->finished) << "a call after the last";
        result->later.insert(result->later.end(), r.begin(), r.end());
        if (progress == Dht::FetchProgress::kReading) return;
        result->finished_complete = progress == Dht::FetchProgress::kComplete;
        result->finished = true;
        done->set_value();
      });
  const auto bound = std::max(deadlines.answer_by, deadlines.finish_by) + 2s;
  EXPECT_EQ(future.wait_for(bound), std::future_status::ready)
      << "Fetch missed its deadline";
  if (future.wait_for(0s) != std::future_status::ready) return {};
  return *result;
}

// Everything one Fetch read, answer and finish deadline both `deadline`.
std::vector<OfferRecord> FetchAndWait(Dht& dht, uint16_t resource,
                                      uint32_t max_price,
                                      std::chrono::milliseconds deadline) {
  Fetched f = FetchInTwoSteps(dht, resource, max_price, {deadline, deadline});
  f.answer.insert(f.answer.end(), f.later.begin(), f.later.end());
  return f.answer;
}

bool Contains(const std::vector<OfferRecord>& records, const OfferRecord& r) {
  for (const OfferRecord& x : records) {
    if (x.offer.device == r.offer.device && x.version == r.version) {
      return true;
    }
  }
  return false;
}

// Two nodes that know each other as good peers.
class TwoNodes : public ::testing::Test {
 protected:
  void SetUp() override {
    a_ = std::make_unique<OpenDhtDht>(LoopbackConfig());
    b_ = std::make_unique<OpenDhtDht>(LoopbackConfig({a_->LoopbackAddress()}));
    ASSERT_TRUE(WaitUntil(
        [&] {
          return a_->Info().good_peers >= 1 && b_->Info().good_peers >= 1;
        },
        10s))
        << "nodes did not connect";
  }
  // The last node's shutdown waits for its announces to a dead peer: the
  // bound is what keeps it short.
  void TearDown() override {
    if (b_) b_->Shutdown(1s);
    if (a_) a_->Shutdown(1s);
  }
  // Starts b again, its catch-up re-read `settle` after a Watch.
  void RestartBWithRereadSettle(std::chrono::milliseconds settle) {
    b_->Shutdown(1s);
    OpenDhtConfig config = LoopbackConfig({a_->LoopbackAddress()});
    config.reread_settle = settle;
    b_ = std::make_unique<OpenDhtDht>(config);
    ASSERT_TRUE(WaitUntil([&] { return b_->Info().good_peers >= 1; }, 10s));
  }
  std::unique_ptr<OpenDhtDht> a_, b_;
};

// What a Watch reported, from the adapter's thread; shared with the
// callback (Into), which may run until the node is destroyed.
struct SeenRecords {
  std::mutex mu;
  std::vector<OfferRecord> records;
  bool Saw(const OfferRecord& r) {
    std::lock_guard lock(mu);
    return Contains(records, r);
  }
};
Dht::RecordSeen Into(const std::shared_ptr<SeenRecords>& seen) {
  return [seen](const OfferRecord& r) {
    std::lock_guard lock(seen->mu);
    seen->records.push_back(r);
  };
}

TEST_F(TwoNodes, ARecordPublishedAtOneIsFetchedAtTheOther) {
  const OfferRecord r =
      SignedRecord(UnsignedRecord(1, 500).offer, 3, TestKey());
  const auto [ok, replicas] = PublishAndWait(*a_, r);
  ASSERT_TRUE(ok);
  EXPECT_EQ(replicas, 2);  // b, and a's own copy
  std::vector<OfferRecord> got = FetchAndWait(*b_, 1, 1000, 3s);
  ASSERT_EQ(got.size(), 1u);
  OfferRecord expected = r;
  expected.offer.flags = wire::kOfferFlagSigned;
  EXPECT_EQ(got[0], expected);
  EXPECT_GE(b_->Info().stored_values, 1u);
  // Above the max price's buckets: not read.
  EXPECT_TRUE(FetchAndWait(*b_, 1, 10, 3s).empty());
}

TEST_F(TwoNodes, AFetchPastItsAnswerDeadlineReadsOnInTheBackground) {
  const OfferRecord r = UnsignedRecord(5, 900, 0x0005);
  ASSERT_TRUE(PublishAndWait(*a_, r).first);
  // Answer at once, before any key could be read; finish within 10 s.
  Fetched f = FetchInTwoSteps(*b_, 5, wire::kAnyPrice, {0ms, 10s});
  ASSERT_TRUE(f.finished);
  EXPECT_FALSE(f.answer_complete);
  EXPECT_TRUE(f.finished_complete);  // every one of the 1,408 keys read
  EXPECT_FALSE(Contains(f.answer, r) && Contains(f.later, r));  // once
  EXPECT_TRUE(Contains(f.answer, r) || Contains(f.later, r));
}

TEST_F(TwoNodes, AWatcherSeesARecordPublishedAtTheOtherNode) {
  std::mutex mu;
  std::vector<OfferRecord> seen;
  b_->Watch(
      1, wire::kAnyPrice,
      [&](const OfferRecord& r) {
        std::lock_guard lock(mu);
        seen.push_back(r);
      },
      kListen);
  std::this_thread::sleep_for(500ms);  // let the listens reach a
  const OfferRecord r = UnsignedRecord(2, 70000);
  ASSERT_TRUE(PublishAndWait(*a_, r).first);
  EXPECT_TRUE(WaitUntil(
      [&] {
        std::lock_guard lock(mu);
        return Contains(seen, r);
      },
      5s));
}

// Without a listen, a record put after the Watch arrives by the catch-up
// read (docs/scaling.md "Pushed records"), not at once.
TEST_F(TwoNodes, ARereadWatchListensNowhereAndReadsAfterItsSettleTime) {
  RestartBWithRereadSettle(2s);
  auto seen = std::make_shared<SeenRecords>();
  const auto watched = std::chrono::steady_clock::now();
  b_->Watch(1, 15,  // price bucket 0: 64 keys, read in 2 s
            Into(seen), Dht::WatchMode::kReread);
  const OfferRecord r = UnsignedRecord(2, 10);
  ASSERT_TRUE(PublishAndWait(*a_, r).first);
  // A listen would have it within milliseconds.
  std::this_thread::sleep_for(500ms);
  if (std::chrono::steady_clock::now() - watched < 1900ms) {
    EXPECT_FALSE(seen->Saw(r));
  }
  EXPECT_TRUE(WaitUntil([&] { return seen->Saw(r); }, 15s));
}

// An aggregator listens while it reads its id and then stops
// (docs/scaling.md "Warm-up listens"): a record put after StopListening is
// not reported by a listen, but by the catch-up re-read.
TEST_F(TwoNodes, AfterStopListeningARecordArrivesByTheReread) {
  RestartBWithRereadSettle(2s);
  auto seen = std::make_shared<SeenRecords>();
  b_->Watch(1, 15, Into(seen), kListen);  // price bucket 0: 64 keys
  std::this_thread::sleep_for(500ms);     // let the listens reach a
  const OfferRecord listened = UnsignedRecord(2, 10);
  ASSERT_TRUE(PublishAndWait(*a_, listened).first);
  ASSERT_TRUE(WaitUntil([&] { return seen->Saw(listened); }, 5s));

  b_->StopListening(1);
  const auto stopped = std::chrono::steady_clock::now();
  const OfferRecord reread = UnsignedRecord(3, 10);
  ASSERT_TRUE(PublishAndWait(*a_, reread).first);
  // A listen would have it within milliseconds.
  std::this_thread::sleep_for(500ms);
  if (std::chrono::steady_clock::now() - stopped < 1900ms) {
    EXPECT_FALSE(seen->Saw(reread));
  }
  EXPECT_TRUE(WaitUntil([&] { return seen->Saw(reread); }, 15s));
}

TEST_F(TwoNodes, ARepublishReplacesTheValueAndATombstoneHidesIt) {
  const protocol::Ed25519Key key = TestKey();
  OfferRecord v1 = SignedRecord(UnsignedRecord(3, 100).offer, 10, key);
  ASSERT_TRUE(PublishAndWait(*a_, v1).first);
  const OfferRecord tomb =
      testing::SignedTombstone(v1.offer, 11, {v1.offer.resource}, key);
  ASSERT_TRUE(PublishAndWait(*a_, tomb).first);
  // The tombstone is a new value, and the old version's value is edited
  // into a short-lived copy of it: b holds no copy of version 10 any more.
  EXPECT_TRUE(WaitUntil(
      [&] {
        std::vector<OfferRecord> got = FetchAndWait(*b_, 1, 1000, 2s);
        return !got.empty() &&
               std::all_of(got.begin(), got.end(), [](const OfferRecord& r) {
                 return r.withdrawn && r.version == 11;
               });
      },
      8s));
}

TEST_F(TwoNodes, ANewPriceIsReadUnderTheOldPricesKeyToo) {
  // Version 2 moves the offer to another price bucket; it is also put under
  // the old price's key, and the store and read policy take it there,
  // though that is not the key of the record's own price.
  OfferRecord v1 = UnsignedRecord(6, 100);
  v1.version = 1;
  ASSERT_TRUE(PublishAndWait(*a_, v1).first);
  OfferRecord v2 = v1;
  v2.offer.price = 100'000;
  v2.version = 2;
  ASSERT_NE(PriceBucket(v1.offer.price), PriceBucket(v2.offer.price));
  ASSERT_TRUE(PublishAndWait(*a_, v2).first);
  // A read of the cheap buckets only (max price 100).
  EXPECT_TRUE(WaitUntil(
      [&] { return Contains(FetchAndWait(*b_, 1, 100, 2s), v2); }, 8s));
}

// What a node stores as a replica is read first: OpenDHT answers a get from
// the local store before it searches, so a Fetch cut short (one get at a
// time over 1,408 keys) still has the offer whose key comes last in bucket
// order. Without the order it is not read. A get on loopback takes 0.1 to
// 1 ms, so the deadline shrinks until the read is cut short (CI once read
// all 1,408 keys within 200 ms).
TEST(OpenDhtDht, AFetchReadsTheKeysThisNodeStoresFirst) {
  OpenDhtDht a(LoopbackConfig());
  OpenDhtConfig config = LoopbackConfig({a.LoopbackAddress()});
  config.fetch_parallelism = 1;
  OpenDhtDht b(config);
  ASSERT_TRUE(WaitUntil(
      [&] { return a.Info().good_peers >= 1 && b.Info().good_peers >= 1; },
      10s));
  const OfferRecord r = UnsignedRecord(6, 4'000'000'000u, 0x0006);
  ASSERT_TRUE(PublishAndWait(a, r).first);
  ASSERT_TRUE(WaitUntil([&] { return b.Info().stored_values >= 1; }, 5s));
  bool cut_short = false;
  for (std::chrono::milliseconds deadline : {200ms, 50ms, 20ms}) {
    Fetched f = FetchInTwoSteps(b, 6, wire::kAnyPrice, {deadline, deadline});
    if (f.answer_complete) continue;
    cut_short = true;
    EXPECT_TRUE(Contains(f.answer, r))
        << "cut short at " << deadline.count() << " ms";
    break;
  }
  EXPECT_TRUE(cut_short) << "1,408 gets within 20 ms";
  b.Shutdown(1s);
  a.Shutdown(1s);
}

TEST(OpenDhtDht, ANodeAlonePublishesWithOneReplicaWithoutHanging) {
  OpenDhtDht alone(LoopbackConfig());
  const auto start = std::chrono::steady_clock::now();
  const OfferRecord r = UnsignedRecord(4);
  EXPECT_EQ(PublishAndWait(alone, r), std::make_pair(true, uint16_t{1}));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 6s);
  std::vector<OfferRecord> got = FetchAndWait(alone, 1, wire::kAnyPrice, 3s);
  EXPECT_TRUE(Contains(got, r));
  alone.Shutdown(3s);
}

TEST(OpenDhtDht, RefusedRecordsFailThePublishAtOnce) {
  OpenDhtDht alone(LoopbackConfig());
  OfferRecord expired = UnsignedRecord(4);
  expired.offer.valid_until = testing::Now() - 1;
  EXPECT_EQ(PublishAndWait(alone, expired), std::make_pair(false, uint16_t{0}));
  alone.Shutdown(3s);
}

// Past valid_until the node stops announcing the offer (the expiry sweep);
// a later version with a later end is announced until that end.
TEST(OpenDhtDht, StopsAnnouncingAnOfferOnceItExpires) {
  OpenDhtConfig config = LoopbackConfig();
  config.expiry_sweep_interval = 200ms;
  OpenDhtDht alone(config);
  OfferRecord brief = UnsignedRecord(4);
  brief.offer.valid_until = testing::Now() + 2;
  OfferRecord lasting = UnsignedRecord(5);
  ASSERT_TRUE(PublishAndWait(alone, brief).first);
  ASSERT_TRUE(PublishAndWait(alone, lasting).first);
  EXPECT_EQ(alone.AnnouncedOffers(), 2u);
  EXPECT_TRUE(WaitUntil([&] { return alone.AnnouncedOffers() == 1; }, 5s));
  std::this_thread::sleep_for(500ms);  // a few more sweeps
  EXPECT_EQ(alone.AnnouncedOffers(), 1u);
  alone.Shutdown(3s);
}

TEST(OpenDhtDht, TheNodeIdSurvivesARestartWithTheSameStateDir) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() /
      ("crsp-dht-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  OpenDhtConfig config = LoopbackConfig();
  config.state_dir = dir.string();
  config.persist = true;
  protocol::NodeId first{};
  {
    OpenDhtDht node(config);
    first = node.Info().node_id;
    node.Shutdown(3s);
  }
  EXPECT_TRUE(std::filesystem::exists(dir / "identity.key"));
  {
    OpenDhtDht node(config);
    EXPECT_EQ(node.Info().node_id, first);
    node.Shutdown(3s);
  }
  EXPECT_NE(first, protocol::NodeId{});
  std::filesystem::remove_all(dir);
}

TEST(OpenDhtDht, ABusyPortThrowsAtStartUp) {
  OpenDhtDht first(LoopbackConfig());
  OpenDhtConfig same = LoopbackConfig();
  same.port = first.port();
  EXPECT_THROW(OpenDhtDht second(same), std::runtime_error);
  first.Shutdown(3s);
}

// A peer that ignores our rules: a raw DhtRunner puts values of our offer
// types under an offer key. Only the valid one may ever be fetched.
TEST_F(TwoNodes, HostileValuesUnderAnOfferKeyAreNeverFetched) {
  ::dht::DhtRunner raw;
  ::dht::DhtRunner::Config config;
  config.dht_config.id = ::dht::crypto::generateIdentity("hostile", {}, 2048);
  config.threaded = true;
  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  sin6.sin6_addr = in6addr_loopback;
  config.bind6 =
      ::dht::SockAddr(reinterpret_cast<sockaddr*>(&sin6), sizeof(sin6));
  raw.run(config, {});
  raw.bootstrap(a_->LoopbackAddress());
  raw.bootstrap(b_->LoopbackAddress());
  ASSERT_TRUE(WaitUntil(
      [&] { return raw.getNodesStats(AF_INET6).good_nodes >= 2; }, 10s));

  const OfferRecord good = UnsignedRecord(5, 300);
  const ::dht::InfoHash key = ::dht::InfoHash::get(KeyFor(good.offer));
  auto blob = [](const std::vector<std::byte>& b) {
    const auto* p = reinterpret_cast<const uint8_t*>(b.data());
    return ::dht::Blob(p, p + b.size());
  };
  const uint16_t type = 0x4301;  // crsp.offer.1h
  OfferRecord expired = good;
  expired.offer.device[1] = 0xEE;
  expired.offer.valid_until = testing::Now() - 5;
  OfferRecord forged = SignedRecord(good.offer, 8, TestKey());
  forged.offer.device[1] = 0xEF;  // no longer what the seller signed
  OfferRecord misplaced = good;   // valid, but not its device's shard
  misplaced.offer.device[0] ^= 0x55;
  if (ShardOf(misplaced.offer.device) == ShardOf(good.offer.device)) {
    misplaced.offer.device[0] ^= 0x0F;
  }
  ASSERT_NE(ShardOf(misplaced.offer.device), ShardOf(good.offer.device));

  OfferRecord bad_signature = good;  // valid, but its DHT signature is not
  bad_signature.offer.device[1] = 0xF0;
  std::atomic<int> acks{0};
  enum class Signing { kNone, kSigned, kBroken };
  auto put = [&](const std::shared_ptr<::dht::Value>& v, Signing sign) {
    auto cb = [&acks](bool, const std::vector<std::shared_ptr<::dht::Node>>&) {
      ++acks;
    };
    // The user type our values carry (Fetch asks for it): the hostile
    // values pass that clause, so the read filter is what is tested.
    v->user_type = "crsp/offer";
    switch (sign) {
      case Signing::kNone:
        raw.put(key, v, ::dht::DoneCallback(cb));
        break;
      case Signing::kSigned:
        raw.putSigned(key, v, ::dht::DoneCallback(cb));
        break;
      case Signing::kBroken:  // signs other bytes: does not verify
        v->data.push_back(0);
        v->sign(*config.dht_config.id.first);
        v->data.pop_back();
        raw.put(key, v, ::dht::DoneCallback(cb));
        break;
    }
  };
  auto value = [&](const std::vector<std::byte>& data) {
    return std::make_shared<::dht::Value>(type, blob(data));
  };
  put(std::make_shared<::dht::Value>(type, ::dht::Blob(40, 0xC1)),
      Signing::kNone);
  put(std::make_shared<::dht::Value>(type, ::dht::Blob(40, 0xC2)),
      Signing::kSigned);
  put(value(EncodeRecord(expired)), Signing::kNone);
  put(value(EncodeRecord(forged)), Signing::kSigned);
  put(value(EncodeRecord(misplaced)), Signing::kNone);
  put(value(EncodeRecord(bad_signature)), Signing::kBroken);
  // The positive controls: a valid record put as our nodes put (unsigned),
  // and one signed by the peer's identity (which nothing requires).
  put(value(EncodeRecord(good)), Signing::kNone);
  put(value(EncodeRecord(good)), Signing::kSigned);
  ASSERT_TRUE(WaitUntil([&] { return acks == 8; }, 15s));

  for (OpenDhtDht* node : {a_.get(), b_.get()}) {
    std::vector<OfferRecord> got = FetchAndWait(*node, 1, 1000, 3s);
    ASSERT_EQ(got.size(), 2u);  // two values of the same record
    for (const OfferRecord& r : got) {
      EXPECT_EQ(r.offer.device, good.offer.device);
    }
  }
  raw.shutdown({});
  raw.join();
}

}  // namespace
}  // namespace crsp::dht
