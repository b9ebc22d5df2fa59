// Ownership and replay (PROTOCOL.md "Ownership").
#include <gtest/gtest.h>

#include "node_harness.h"

namespace crsp::node::testing {
namespace {

using wire::CheckType;
using wire::Status;

Status StatusOf(const protocol::DecodeResult& a) {
  return a.packet.header.status;
}

TEST(Ownership, RefusesAnotherAddressForAnUnsignedDevice) {
  World world;
  TestNode node(world);
  ASSERT_EQ(StatusOf(node.Send(Register(1, Device(1), {Entry(1, 1)}))),
            Status::kOk);
  EXPECT_EQ(
      StatusOf(node.Send(Register(2, Device(1), {Entry(4, 1)}), SourceB())),
      Status::kNotAuthorized);
  EXPECT_EQ(StatusOf(node.Send(Withdraw(3, Device(1), {1}), SourceB())),
            Status::kNotAuthorized);
  EXPECT_EQ(Offers(node.Send(Query(4, {Want(1)}))).offers.size(), 1u);
}

TEST(Ownership, FreesTheDeviceOnceItsOffersExpired) {
  World world;
  TestNode node(world);
  node.Send(Register(1, Device(1), {Entry(1, 1, kStart - 5, kStart + 5)}));
  *world.now += 5;
  EXPECT_EQ(StatusOf(node.Send(
                Register(2, Device(1), {Entry(1, 1, kStart, kStart + 100)}),
                SourceB())),
            Status::kOk);
}

TEST(Ownership, RefusesAnotherKeyForASignedDevice) {
  World world;
  TestNode node(world);
  const auto owner = KeyFromByte(1), other = KeyFromByte(2);
  ASSERT_EQ(StatusOf(node.Send(
                Register(10, Device(1), {Entry(1, 1)}, CheckType::kEd25519),
                SourceA(), &owner)),
            Status::kOk);
  EXPECT_EQ(StatusOf(node.Send(
                Register(11, Device(1), {Entry(1, 2)}, CheckType::kEd25519),
                SourceA(), &other)),
            Status::kNotAuthorized);
  EXPECT_EQ(StatusOf(node.Send(Withdraw(12, Device(1), {}, CheckType::kEd25519),
                               SourceA(), &other)),
            Status::kNotAuthorized);
}

TEST(Ownership, RefusesUnsignedWritesForASignedDevice) {
  World world;
  TestNode node(world);
  const auto owner = KeyFromByte(1);
  node.Send(Register(10, Device(1), {Entry(1, 1)}, CheckType::kEd25519),
            SourceA(), &owner);
  EXPECT_EQ(StatusOf(node.Send(Register(11, Device(1), {Entry(1, 2)}))),
            Status::kNotAuthorized);
  EXPECT_EQ(StatusOf(node.Send(Withdraw(12, Device(1), {1}))),
            Status::kNotAuthorized);
}

TEST(Ownership, RefusesASignedWriteForAnUnsignedDevice) {
  World world;
  TestNode node(world);
  const auto key = KeyFromByte(1);
  node.Send(Register(10, Device(1), {Entry(1, 1)}));
  EXPECT_EQ(StatusOf(node.Send(
                Register(11, Device(1), {Entry(1, 2)}, CheckType::kEd25519),
                SourceA(), &key)),
            Status::kNotAuthorized);
}

TEST(Ownership, AcceptsTheOwnersKeyFromAnyAddress) {
  World world;
  TestNode node(world);
  const auto owner = KeyFromByte(1);
  node.Send(Register(10, Device(1), {Entry(1, 1)}, CheckType::kEd25519),
            SourceA(), &owner);
  EXPECT_EQ(StatusOf(node.Send(
                Register(11, Device(1), {Entry(1, 2)}, CheckType::kEd25519),
                SourceB(), &owner)),
            Status::kOk);
}

TEST(Replay, RefusesASignedRequestWithALowerTransactionId) {
  World world;
  TestNode node(world);
  const auto key = KeyFromByte(1);
  node.Send(Register(100, Device(1), {Entry(1, 1)}, CheckType::kEd25519),
            SourceA(), &key);
  EXPECT_EQ(StatusOf(node.Send(
                Register(99, Device(1), {Entry(1, 5)}, CheckType::kEd25519),
                SourceA(), &key)),
            Status::kNotAuthorized);
  EXPECT_EQ(StatusOf(node.Send(Withdraw(99, Device(1), {}, CheckType::kEd25519),
                               SourceA(), &key)),
            Status::kNotAuthorized);
  EXPECT_EQ(Offers(node.Send(Query(1, {Want(1)}))).offers[0].price, 1u);
}

TEST(Replay, AnswersAResendWithTheSameBytes) {
  World world;
  TestNode node(world);
  const auto key = KeyFromByte(1);
  const std::vector<std::byte> request = Bytes(
      Register(100, Device(1), {Entry(1, 1), Entry(4, 2)}, CheckType::kEd25519),
      &key);
  const auto first = node.SendRaw(request);
  const auto again = node.SendRaw(request);
  ASSERT_EQ(first.size(), 1u);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(first[0], again[0]);
  EXPECT_EQ(protocol::Decode(again[0]).packet.header.status, Status::kOk);
  EXPECT_EQ(world.dht->StoredValues(), 2u);
}

TEST(Replay, AnswersAResendThatArrivesWhileTheFirstStillWaits) {
  World world;
  TestNode node(world);
  const auto key = KeyFromByte(1);
  const std::vector<std::byte> request =
      Bytes(Register(100, Device(1), {Entry(1, 1)}, CheckType::kEd25519), &key);
  world.hold_puts = true;
  std::vector<std::vector<std::byte>> answers;
  auto collect = [&](std::vector<std::byte> a) { answers.push_back(a); };
  node.node().HandleDatagram(request, SourceA(), collect);
  node.node().HandleDatagram(request, SourceA(), collect);
  EXPECT_TRUE(answers.empty());
  world.hold_puts = false;
  world.ReleaseHeld(true);
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(answers[0], answers[1]);
}

TEST(Replay, RefusesTheSameTransactionIdWithOtherBytes) {
  World world;
  TestNode node(world);
  const auto key = KeyFromByte(1);
  node.Send(Register(100, Device(1), {Entry(1, 1)}, CheckType::kEd25519),
            SourceA(), &key);
  EXPECT_EQ(StatusOf(node.Send(
                Register(100, Device(1), {Entry(1, 2)}, CheckType::kEd25519),
                SourceA(), &key)),
            Status::kNotAuthorized);
}

TEST(Replay, RefusesAnOldRegisterReplayedAfterAWithdraw) {
  World world;
  TestNode node(world);
  const auto key = KeyFromByte(1);
  const std::vector<std::byte> old =
      Bytes(Register(100, Device(1), {Entry(1, 1)}, CheckType::kEd25519), &key);
  node.SendRaw(old);
  ASSERT_EQ(
      StatusOf(node.Send(Withdraw(101, Device(1), {}, CheckType::kEd25519),
                         SourceA(), &key)),
      Status::kOk);
  const auto replayed = node.SendRaw(old, SourceB());
  ASSERT_EQ(replayed.size(), 1u);
  EXPECT_EQ(protocol::Decode(replayed[0]).packet.header.status,
            Status::kNotAuthorized);
  EXPECT_EQ(Offers(node.Send(Query(1, {Want(1)}))).total, 0u);
}

}  // namespace
}  // namespace crsp::node::testing
