// Withdraw: one offer, every offer, NOT_FOUND, hidden at once here and, via
// the DHT, at a node whose index watched the offer.
#include <gtest/gtest.h>

#include "node_harness.h"

namespace crsp::node::testing {
namespace {

using wire::Status;

TEST(Withdraw, HidesOneOfferAtOnce) {
  World world;
  TestNode node(world);
  node.Send(Register(1, Device(1), {Entry(1, 1), Entry(4, 2)}));
  const auto a = node.Send(Withdraw(2, Device(1), {1}));
  EXPECT_EQ(a.packet.header.status, Status::kOk);
  ASSERT_EQ(Results(a).entries.size(), 1u);
  EXPECT_EQ(Results(a).entries[0].resource, 1);
  EXPECT_EQ(Results(a).entries[0].replicas, 1);
  EXPECT_EQ(Offers(node.Send(Query(3, {Want(1), Want(4)}))).total, 1u);
  EXPECT_EQ(node.node().offer_count(), 1u);
}

TEST(Withdraw, WithdrawsEveryOfferOfTheDeviceForCountZero) {
  World world;
  TestNode node(world);
  node.Send(Register(1, Device(1), {Entry(1, 1), Entry(4, 2), Entry(11, 3)}));
  node.Send(Register(2, Device(2), {Entry(1, 1)}));
  const auto a = node.Send(Withdraw(3, Device(1), {}));
  EXPECT_EQ(a.packet.header.status, Status::kOk);
  EXPECT_EQ(Results(a).entries.size(), 3u);
  const auto left = Offers(node.Send(Query(4, {Want(1), Want(4), Want(11)})));
  ASSERT_EQ(left.total, 1u);
  EXPECT_EQ(left.offers[0].device, Device(2));
}

TEST(Withdraw, AnswersNotFoundForAnOfferThatDoesNotExist) {
  World world;
  TestNode node(world);
  node.Send(Register(1, Device(1), {Entry(1, 1)}));
  const auto a = node.Send(Withdraw(2, Device(1), {1, 4}));
  EXPECT_EQ(a.packet.header.status, Status::kNotFound);
  ASSERT_EQ(Results(a).entries.size(), 2u);
  EXPECT_EQ(Results(a).entries[0].status, Status::kOk);
  EXPECT_EQ(Results(a).entries[1].status, Status::kNotFound);
  // Withdrawn twice: the second time there is nothing left.
  EXPECT_EQ(node.Send(Withdraw(3, Device(1), {1})).packet.header.status,
            Status::kNotFound);
  EXPECT_EQ(node.Send(Withdraw(4, Device(9), {})).packet.header.status,
            Status::kNotFound);
}

TEST(Withdraw, AllowsRegisteringAgainAfterwards) {
  World world;
  TestNode node(world);
  node.Send(Register(1, Device(1), {Entry(1, 1)}));
  node.Send(Withdraw(2, Device(1), {}));
  EXPECT_EQ(node.Send(Register(3, Device(1), {Entry(1, 7)}), SourceB())
                .packet.header.status,
            Status::kOk);
  const auto offers = Offers(node.Send(Query(4, {Want(1)}))).offers;
  ASSERT_EQ(offers.size(), 1u);
  EXPECT_EQ(offers[0].price, 7u);
}

TEST(Withdraw, ReachesAnotherNodeThroughTheDht) {
  World world;
  TestNode a(world, {}, protocol::NodeId{1});
  TestNode b(world, {}, protocol::NodeId{2});
  a.Send(Register(1, Device(1), {Entry(1, 100)}));
  // B's first query is cold: it fetches from the DHT and starts watching.
  // B learns of A's later records by its re-reads here (this world has no
  // node-to-node transport for A's pushes).
  EXPECT_EQ(Offers(b.Send(Query(2, {Want(1)}))).total, 1u);
  a.Send(Withdraw(3, Device(1), {}));
  world.dht->RunRereads();
  EXPECT_EQ(Offers(b.Send(Query(4, {Want(1)}))).total, 0u);
  // And a withdraw at B of an offer registered at A.
  a.Send(Register(5, Device(2), {Entry(1, 100)}));
  world.dht->RunRereads();
  EXPECT_EQ(Offers(b.Send(Query(6, {Want(1)}))).total, 1u);
  EXPECT_EQ(b.Send(Withdraw(7, Device(2), {1})).packet.header.status,
            Status::kOk);
  EXPECT_EQ(Offers(a.Send(Query(8, {Want(1)}))).total, 0u);
}

}  // namespace
}  // namespace crsp::node::testing
