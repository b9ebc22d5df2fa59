// Register: per-entry statuses, contact defaults, quotas, DHT confirmation
// (STORAGE_FAILED on failure or timeout), require_signed, expiry.
#include <gtest/gtest.h>

#include "node_harness.h"

namespace crsp::node::testing {
namespace {

using wire::Status;

TEST(Register, AnswersOkWithReplicasAndTheOfferIsQueryable) {
  World world;
  TestNode node(world);
  const auto a =
      node.Send(Register(1, Device(1), {Entry(1, 250), Entry(4, 12)}));
  EXPECT_EQ(a.packet.header.status, Status::kOk);
  const auto& results = Results(a);
  EXPECT_EQ(results.device, Device(1));
  ASSERT_EQ(results.entries.size(), 2u);
  for (const auto& e : results.entries) {
    EXPECT_EQ(e.status, Status::kOk);
    EXPECT_EQ(e.replicas, 1);
  }
  EXPECT_EQ(results.entries[0].resource, 1);
  EXPECT_EQ(results.entries[1].resource, 4);
  EXPECT_EQ(node.node().offer_count(), 2u);
  EXPECT_EQ(Offers(node.Send(Query(2, {Want(4)}))).offers.size(), 1u);
}

TEST(Register, FillsAnAllZeroContactAndPortFromTheSource) {
  World world;
  TestNode node(world);
  node.Send(Register(1, Device(1), {Entry(1, 250)}), SourceB());
  const auto offers = Offers(node.Send(Query(2, {Want(1)}))).offers;
  ASSERT_EQ(offers.size(), 1u);
  EXPECT_EQ(offers[0].contact, SourceB().address);
  EXPECT_EQ(offers[0].contact_port, SourceB().port);
  EXPECT_EQ(offers[0].device_kind, 1);
  EXPECT_EQ(offers[0].currency, 156);
}

TEST(Register, KeepsAnExplicitContact) {
  World world;
  TestNode node(world);
  protocol::Packet p = Register(1, Device(1), {Entry(1, 250)});
  auto& reg = std::get<protocol::RegisterRequest>(p.body);
  reg.set.contact = SourceB().address;
  reg.set.contact_port = 7000;
  node.Send(p);
  const auto offers = Offers(node.Send(Query(2, {Want(1)}))).offers;
  ASSERT_EQ(offers.size(), 1u);
  EXPECT_EQ(offers[0].contact, SourceB().address);
  EXPECT_EQ(offers[0].contact_port, 7000);
}

TEST(Register, StoresTheValidEntriesAndAnswersTheFirstFailingStatus) {
  World world;
  TestNode node(world);
  // Entry 2 ends in the past: INVALID_FIELD for it only.
  const auto a = node.Send(Register(
      1, Device(1),
      {Entry(1, 250), Entry(4, 12, kStart - 100, kStart - 10), Entry(11, 5)}));
  EXPECT_EQ(a.packet.header.status, Status::kInvalidField);
  const auto& r = Results(a).entries;
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].status, Status::kOk);
  EXPECT_EQ(r[1].status, Status::kInvalidField);
  EXPECT_EQ(r[1].replicas, 0);
  EXPECT_EQ(r[2].status, Status::kOk);
  EXPECT_EQ(node.node().offer_count(), 2u);
}

TEST(Register, RefusesZeroQuantityAndReversedValidityPerEntry) {
  World world;
  TestNode node(world);
  const auto a = node.Send(
      Register(1, Device(1),
               {Entry(1, 250, kStart, kStart + 10, 1, 0),
                Entry(4, 12, kStart + 10, kStart + 5), Entry(11, 5)}));
  EXPECT_EQ(a.packet.header.status, Status::kInvalidField);
  const auto& r = Results(a).entries;
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].status, Status::kInvalidField);
  EXPECT_EQ(r[1].status, Status::kInvalidField);
  EXPECT_EQ(r[2].status, Status::kOk);
  EXPECT_EQ(node.node().offer_count(), 1u);
}

TEST(Register, ReplacesAnOfferOfTheSameDeviceAndResource) {
  World world;
  TestNode node(world);
  node.Send(Register(1, Device(1), {Entry(1, 250)}));
  node.Send(Register(2, Device(1), {Entry(1, 199)}));
  const auto offers = Offers(node.Send(Query(3, {Want(1)}))).offers;
  ASSERT_EQ(offers.size(), 1u);
  EXPECT_EQ(offers[0].price, 199u);
  EXPECT_EQ(node.node().offer_count(), 1u);
}

TEST(Register, TakesTheLastEntryOfAResourceListedTwice) {
  World world;
  TestNode node(world);
  const auto a =
      node.Send(Register(1, Device(1), {Entry(1, 300), Entry(1, 100)}));
  EXPECT_EQ(a.packet.header.status, Status::kOk);
  EXPECT_EQ(Results(a).entries.size(), 2u);
  const auto offers = Offers(node.Send(Query(2, {Want(1)}))).offers;
  ASSERT_EQ(offers.size(), 1u);
  EXPECT_EQ(offers[0].price, 100u);
}

TEST(Register, AnswersStorageFailedWhenTheDhtRefusesAndRetriesLater) {
  World world;
  TestNode node(world);
  world.dht->SetFailPuts(true);
  const auto a = node.Send(Register(1, Device(1), {Entry(1, 250)}));
  EXPECT_EQ(a.packet.header.status, Status::kStorageFailed);
  EXPECT_EQ(Results(a).entries[0].status, Status::kStorageFailed);
  EXPECT_EQ(Results(a).entries[0].replicas, 0);
  EXPECT_EQ(world.dht->StoredValues(), 0u);
  // Journalled: re-published by Tick once the DHT works again.
  world.dht->SetFailPuts(false);
  *world.now += 31;
  node.node().Tick();
  EXPECT_EQ(world.dht->StoredValues(), 1u);
}

TEST(Register, AnswersOnlyOnceTheDhtConfirmed) {
  World world;
  TestNode node(world);
  world.hold_puts = true;
  const std::vector<std::byte> request =
      Bytes(Register(1, Device(1), {Entry(1, 250)}));
  std::vector<std::vector<std::byte>> answers;
  node.node().HandleDatagram(request, SourceA(), [&](std::vector<std::byte> a) {
    answers.push_back(std::move(a));
  });
  EXPECT_TRUE(answers.empty());
  ASSERT_EQ(world.held.size(), 1u);
  world.hold_puts = false;
  world.ReleaseHeld(true);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(protocol::Decode(answers[0]).packet.header.status, Status::kOk);
}

TEST(Register, AnswersStorageFailedWhenTheDhtDoesNotConfirmInTime) {
  World world;
  TestNode node(world);
  world.hold_puts = true;
  std::vector<std::vector<std::byte>> answers;
  node.node().HandleDatagram(
      Bytes(Register(1, Device(1), {Entry(1, 250)})), SourceA(),
      [&](std::vector<std::byte> a) { answers.push_back(std::move(a)); });
  node.node().Tick();
  EXPECT_TRUE(answers.empty());
  *world.now += 5;  // kPublishTimeoutSec
  node.node().Tick();
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(protocol::Decode(answers[0]).packet.header.status,
            Status::kStorageFailed);
  // A late confirmation changes nothing: one answer only.
  world.hold_puts = false;
  world.ReleaseHeld(true);
  EXPECT_EQ(answers.size(), 1u);
}

TEST(Register, AnswersRateLimitedAtOncePastTheBoundOnPendingWrites) {
  World world;
  NodeConfig config;
  config.limits.max_pending_writes = 2;
  TestNode node(world, config);
  world.hold_puts = true;
  std::vector<std::vector<std::byte>> first;
  node.node().HandleDatagram(
      Bytes(Register(1, Device(1), {Entry(1, 250), Entry(4, 12)})), SourceA(),
      [&](std::vector<std::byte> a) { first.push_back(std::move(a)); });
  ASSERT_TRUE(first.empty());
  ASSERT_EQ(world.held.size(), 2u);
  // Two records wait for the DHT: the next register and withdraw are
  // refused without being journalled or published.
  const auto refused = node.Send(Register(2, Device(2), {Entry(1, 9)}));
  EXPECT_EQ(refused.packet.header.status, Status::kRateLimited);
  EXPECT_EQ(node.Send(Withdraw(3, Device(1), {1})).packet.header.status,
            Status::kRateLimited);
  EXPECT_EQ(world.held.size(), 2u);
  world.hold_puts = false;
  world.ReleaseHeld(true);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(protocol::Decode(first[0]).packet.header.status, Status::kOk);
  // Settled: room again.
  EXPECT_EQ(
      node.Send(Register(4, Device(2), {Entry(1, 9)})).packet.header.status,
      Status::kOk);
}

TEST(Register, FreesPendingWritesThatTimedOut) {
  World world;
  NodeConfig config;
  config.limits.max_pending_writes = 1;
  TestNode node(world, config);
  world.hold_puts = true;
  std::vector<std::vector<std::byte>> answers;
  node.node().HandleDatagram(
      Bytes(Register(1, Device(1), {Entry(1, 250)})), SourceA(),
      [&](std::vector<std::byte> a) { answers.push_back(std::move(a)); });
  *world.now += 5;     // kPublishTimeoutSec
  node.node().Tick();  // STORAGE_FAILED: no longer pending
  ASSERT_EQ(answers.size(), 1u);
  world.hold_puts = false;
  EXPECT_EQ(
      node.Send(Register(2, Device(2), {Entry(1, 9)})).packet.header.status,
      Status::kOk);
  world.ReleaseHeld(true);
}

TEST(Register, RefusesPastTheDeviceQuota) {
  World world;
  NodeConfig config;
  config.limits.offers_per_device = 2;
  TestNode node(world, config);
  const auto a = node.Send(
      Register(1, Device(1), {Entry(1, 250), Entry(4, 12), Entry(11, 5)}));
  EXPECT_EQ(a.packet.header.status, Status::kRateLimited);
  const auto& r = Results(a).entries;
  EXPECT_EQ(r[0].status, Status::kOk);
  EXPECT_EQ(r[1].status, Status::kOk);
  EXPECT_EQ(r[2].status, Status::kRateLimited);
  // Replacing an existing offer is not a new one.
  EXPECT_EQ(
      node.Send(Register(2, Device(1), {Entry(1, 200)})).packet.header.status,
      Status::kOk);
  EXPECT_EQ(
      node.Send(Register(3, Device(2), {Entry(1, 200)})).packet.header.status,
      Status::kOk);
}

TEST(Register, RefusesPastTheSourceQuotaPerSlash64) {
  World world;
  NodeConfig config;
  config.limits.offers_per_source = 2;
  TestNode node(world, config);
  Sender same64 = SourceA();
  same64.address[15] = 0x99;  // same /64, another host
  EXPECT_EQ(
      node.Send(Register(1, Device(1), {Entry(1, 1)})).packet.header.status,
      Status::kOk);
  EXPECT_EQ(node.Send(Register(2, Device(2), {Entry(1, 1)}), same64)
                .packet.header.status,
            Status::kOk);
  EXPECT_EQ(node.Send(Register(3, Device(3), {Entry(1, 1)}), same64)
                .packet.header.status,
            Status::kRateLimited);
  EXPECT_EQ(node.Send(Register(4, Device(3), {Entry(1, 1)}), SourceB())
                .packet.header.status,
            Status::kOk);
}

// A withdrawn offer's tombstone is kept (index, journal, DHT) until its
// valid_until, so it keeps its quota slot: register, withdraw and repeat
// with new device ids cannot grow the node past the quota, and at the
// quota the withdrawn offer cannot be registered again either (no
// register/withdraw cycling). Expiry frees the slots.
TEST(Register, TombstonesKeepTheirQuotaSlotUntilTheyExpire) {
  World world;
  NodeConfig config;
  config.limits.offers_per_source = 2;
  TestNode node(world, config);
  const uint64_t until = kStart + 100;
  for (uint8_t d = 1; d <= 2; ++d) {
    ASSERT_EQ(
        node.Send(Register(d, Device(d), {Entry(1, 5, kStart - 60, until)}))
            .packet.header.status,
        Status::kOk);
    ASSERT_EQ(node.Send(Withdraw(10 + d, Device(d), {1})).packet.header.status,
              Status::kOk);
  }
  EXPECT_EQ(
      node.Send(Register(3, Device(3), {Entry(1, 5)})).packet.header.status,
      Status::kRateLimited);
  // Nor the withdrawn offer again: its tombstone still holds the slot.
  EXPECT_EQ(
      node.Send(Register(4, Device(1), {Entry(1, 7)})).packet.header.status,
      Status::kRateLimited);
  // Past the tombstone's valid_until its slot is free.
  *world.now = until + 1;
  node.node().Tick();
  EXPECT_EQ(
      node.Send(Register(5, Device(3), {Entry(1, 5)})).packet.header.status,
      Status::kOk);
}

TEST(Register, RefusesPastTheNodesTotal) {
  World world;
  NodeConfig config;
  config.limits.max_offers = 1;
  TestNode node(world, config);
  EXPECT_EQ(
      node.Send(Register(1, Device(1), {Entry(1, 1)})).packet.header.status,
      Status::kOk);
  EXPECT_EQ(node.Send(Register(2, Device(2), {Entry(1, 1)}), SourceB())
                .packet.header.status,
            Status::kRateLimited);
}

TEST(Register, RefusesUnsignedWritesWhenSignaturesAreRequired) {
  World world;
  NodeConfig config;
  config.require_signed = true;
  TestNode node(world, config);
  EXPECT_EQ(
      node.Send(Register(1, Device(1), {Entry(1, 1)})).packet.header.status,
      Status::kNotAuthorized);
  EXPECT_EQ(node.Send(Withdraw(2, Device(1), {})).packet.header.status,
            Status::kNotAuthorized);
  const protocol::Ed25519Key key = KeyFromByte(1);
  EXPECT_EQ(node.Send(Register(3, Device(1), {Entry(1, 1)},
                               wire::CheckType::kEd25519),
                      SourceA(), &key)
                .packet.header.status,
            Status::kOk);
  // Queries and pings need no signature.
  EXPECT_EQ(Offers(node.Send(Query(4, {Want(1)}))).offers.size(), 1u);
}

TEST(Register, ForgetsOffersPastValidUntil) {
  World world;
  TestNode node(world);
  node.Send(Register(1, Device(1), {Entry(1, 250, kStart - 10, kStart + 10)}));
  EXPECT_EQ(Offers(node.Send(Query(2, {Want(1)}))).offers.size(), 1u);
  *world.now += 10;
  // Never served once expired, even before a Tick.
  EXPECT_EQ(Offers(node.Send(Query(3, {Want(1)}))).total, 0u);
  node.node().Tick();
  EXPECT_EQ(node.node().offer_count(), 0u);
}

}  // namespace
}  // namespace crsp::node::testing
