// Pushed records (docs/scaling.md "Pushed records"): a node pushes each
// record the DHT confirmed to the aggregators its adverts name (0x42),
// again to new ones when it knew fewer than k, resends an unacked push and
// then skips its aggregator, takes the ack
// (0x43) from the aggregator pushed to only; a registration never elects
// or demands aggregators. And the aggregator's side: pushed records taken
// from DHT peers only, for ids it aggregates only, after the checks a
// record read from the DHT passes; no listen, so a record another node put
// arrives by push or by a re-read.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

#include "crsp/dht_adapter/offer_record.h"
#include "forward_fixture.h"
#include "node_impl.h"  // kPushTimeout

namespace crsp::node::testing {
namespace {

using namespace std::chrono_literals;

class Pushing : public Forwarding {
 protected:
  struct Push {
    Sender to;
    protocol::PeerPacket packet;
    std::vector<dht::OfferRecord> records;  // those that decode
  };

  // The record pushes among `sent`, decoded.
  static std::vector<Push> Pushes(const std::vector<Sent>& sent) {
    std::vector<Push> pushes;
    for (const Sent& s : sent) {
      protocol::PeerDecodeResult decoded = protocol::DecodePeer(s.bytes);
      if (decoded.status != Status::kOk ||
          decoded.packet.header.type != wire::kTypeRecordPush) {
        continue;
      }
      Push push{s.to, decoded.packet, {}};
      for (const auto& bytes :
           std::get<protocol::RecordPush>(decoded.packet.body).records) {
        if (auto record = dht::DecodeRecord(bytes)) {
          push.records.push_back(*record);
        }
      }
      pushes.push_back(std::move(push));
    }
    return pushes;
  }

  // Registers one offer of kResource for Device(device); its status.
  Status RegisterOffer(uint8_t device, uint32_t price, uint32_t txid) {
    auto got = Deliver(
        Bytes(Register(txid, Device(device), {Entry(kResource, price)})),
        SourceA());
    if (!Answered(got)) return Status::kInternal;
    return got->front().packet.header.status;
  }

  // What the node sent from now until it sent `n` datagrams (bounded: 3 s).
  std::vector<Sent> WaitSent(size_t n) {
    std::vector<Sent> all;
    const auto until = std::chrono::steady_clock::now() + 3s;
    for (int i = 0;
         i < 300 && all.size() < n && std::chrono::steady_clock::now() < until;
         ++i) {
      for (Sent& s : TakeSent()) all.push_back(std::move(s));
      if (all.size() < n) std::this_thread::sleep_for(10ms);
    }
    return all;
  }

  static std::vector<std::byte> AckFor(const Push& push, Status status) {
    protocol::PeerPacket ack;
    ack.header = push.packet.header;
    ack.header.type = wire::kTypePushAck;
    ack.header.status = status;
    ack.body = protocol::PushAck{};
    return protocol::EncodePeer(ack);
  }

  // A valid unsigned record of `resource` at `price`.
  dht::OfferRecord Record(uint16_t resource, uint32_t price,
                          uint64_t valid_until = kStart + 3600) {
    dht::OfferRecord record;
    record.offer = SomeOffer(0);
    record.offer.device = Device(7);
    record.offer.resource = resource;
    record.offer.price = price;
    record.offer.valid_until = valid_until;
    record.version = 5;
    record.owner_address = SourceB().address;
    return record;
  }

  // A push of `records` (txid `txid`), as a peer sends it.
  static std::vector<std::byte> PushOf(
      const std::vector<dht::OfferRecord>& records, uint32_t txid) {
    protocol::PeerPacket push;
    push.header.protocol = static_cast<uint8_t>(wire::Protocol::kControl);
    push.header.type = wire::kTypeRecordPush;
    push.header.txid = txid;
    push.header.check = wire::CheckType::kCrc32;
    protocol::RecordPush body;
    for (const dht::OfferRecord& r : records) {
      body.records.push_back(dht::EncodeRecord(r));
    }
    push.body = std::move(body);
    return protocol::EncodePeer(push);
  }

  // The total of a local query for kResource (and `resource`).
  uint32_t Total(uint32_t txid, uint16_t resource = kResource) {
    auto got = Deliver(Bytes(Query(txid, {Want(resource)})), SourceA());
    if (!Answered(got)) return UINT32_MAX;
    return Offers(got->front()).total;
  }

  // Makes this node the aggregator of kResource: nobody is closer, and a
  // query elects it (a lone node).
  void AggregateHere() {
    dht_->SetSearched({});
    EXPECT_EQ(Total(900), 0u);
  }
};

TEST_F(Pushing, AConfirmedRecordGoesToEveryAdvertisedAggregator) {
  Advertise(0);
  Advertise(1);
  Advertise(2, /*warm=*/false);  // a warming one fills its index too
  ASSERT_EQ(RegisterOffer(3, 300, 1), Status::kOk);
  std::vector<Push> pushes = Pushes(WaitSent(3));
  ASSERT_EQ(pushes.size(), 3u);
  std::set<protocol::Ipv6Address> to;
  for (const Push& push : pushes) {
    to.insert(push.to.address);
    EXPECT_EQ(push.to.port, 7401);
    ASSERT_EQ(push.records.size(), 1u);
    EXPECT_EQ(push.records[0].offer.device, Device(3));
    EXPECT_EQ(push.records[0].offer.price, 300u);
  }
  EXPECT_EQ(
      to, (std::set<protocol::Ipv6Address>{
              closest_[0].address, closest_[1].address, closest_[2].address}));
}

// Registering must not make aggregators: an id nobody asked about would
// otherwise get them (and every registration its pushes).
TEST_F(Pushing, AnIdWithoutAggregatorsIsNotPushedAndGetsNoDemand) {
  ASSERT_EQ(RegisterOffer(3, 300, 1), Status::kOk);
  std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(Pushes(TakeSent()).empty());
  EXPECT_TRUE(Demands().empty());
  // The adverts read for the push stands in for no query's: a query reads
  // them itself (its own role check), and demands aggregators.
  auto got = Deliver(Bytes(Query(5, {Want(kResource)})), SourceA());
  ASSERT_TRUE(Answered(got));
  EXPECT_TRUE(PlainDemand());
}

// An aggregator elected just after a record's writer read the adverts may
// have read the record's key before it was stored; the writer pushes such
// records again once it reads the adverts after kPushFollowUp.
TEST_F(Pushing, ARecordPushedWithTooFewAggregatorsKnownFollowsUpToNewOnes) {
  ASSERT_EQ(RegisterOffer(3, 300, 1), Status::kOk);
  EXPECT_TRUE(Pushes(TakeSent()).empty());  // no aggregator known
  Advertise(0);                             // elected now
  std::vector<Push> pushes = Pushes(WaitSent(1));
  ASSERT_EQ(pushes.size(), 1u);
  EXPECT_EQ(pushes[0].to.address, closest_[0].address);
  ASSERT_EQ(pushes[0].records.size(), 1u);
  EXPECT_EQ(pushes[0].records[0].offer.device, Device(3));
}

TEST_F(Pushing, AnUnackedPushIsSentThreeTimesThenItsAggregatorSkipped) {
  Advertise(0);
  ASSERT_EQ(RegisterOffer(3, 300, 1), Status::kOk);
  std::vector<Push> pushes = Pushes(WaitSent(3));
  ASSERT_EQ(pushes.size(), 3u);
  EXPECT_EQ(pushes[0].packet, pushes[1].packet);  // the same push again
  EXPECT_EQ(pushes[1].packet, pushes[2].packet);
  std::this_thread::sleep_for(2 * kPushTimeout + 100ms);
  EXPECT_TRUE(TakeSent().empty());  // given up after three
  // Skipped now: the next record is left to its re-read.
  ASSERT_EQ(RegisterOffer(4, 300, 2), Status::kOk);
  std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(Pushes(TakeSent()).empty());
}

// The aggregator pushed to may ack though this node's routing table does
// not list it (as a forwarded answer may); an ack ends the resends.
TEST_F(Pushing, AnAckFromTheAggregatorPushedToEndsThePush) {
  Advertise(0);  // met by the search, not a peer (no AddPeer)
  ASSERT_EQ(RegisterOffer(3, 300, 1), Status::kOk);
  std::vector<Push> pushes = Pushes(WaitSent(1));
  ASSERT_EQ(pushes.size(), 1u);
  auto acked =
      Deliver(AckFor(pushes[0], Status::kOk), {closest_[0].address, 7401});
  std::this_thread::sleep_for(2 * kPushTimeout + 100ms);
  EXPECT_TRUE(Pushes(TakeSent()).empty());
  EXPECT_TRUE(acked->empty());  // an ack is never answered
}

// Anyone else's ack is an answer of an unknown type from a client: never
// answered, and the push is sent again.
TEST_F(Pushing, AnAckFromAnyoneElseIsIgnored) {
  Advertise(0);
  ASSERT_EQ(RegisterOffer(3, 300, 1), Status::kOk);
  std::vector<Push> pushes = Pushes(WaitSent(1));
  ASSERT_EQ(pushes.size(), 1u);
  auto other = Deliver(AckFor(pushes[0], Status::kOk), SourceB());
  EXPECT_EQ(Pushes(WaitSent(1)).size(), 1u);  // resent: not acked
  EXPECT_TRUE(other->empty());
}

// INCOMPLETE: that node does not serve the id (it resigned; its advert
// lives on for minutes). Not pushed this id again meanwhile; the others are.
TEST_F(Pushing, AnAggregatorThatDoesNotServeTheIdIsPushedItNoMore) {
  Advertise(0);
  Advertise(1);
  ASSERT_EQ(RegisterOffer(3, 300, 1), Status::kOk);
  std::vector<Push> pushes = Pushes(WaitSent(2));
  ASSERT_EQ(pushes.size(), 2u);
  for (const Push& push : pushes) {
    const bool resigned = push.to.address == closest_[0].address;
    Deliver(AckFor(push, resigned ? Status::kIncomplete : Status::kOk),
            {push.to.address, 7401});
  }
  ASSERT_EQ(RegisterOffer(4, 300, 2), Status::kOk);
  pushes = Pushes(WaitSent(1));
  ASSERT_EQ(pushes.size(), 1u);
  EXPECT_EQ(pushes[0].to.address, closest_[1].address);
  Deliver(AckFor(pushes[0], Status::kOk), {closest_[1].address, 7401});
  std::this_thread::sleep_for(100ms);
  EXPECT_TRUE(Pushes(TakeSent()).empty());
}

// MALFORMED is a node's answer to a push from an address it does not know
// as a DHT peer yet (an unknown packet type to it): not a refusal of the
// id. The push is resent, and the id's next records still go there.
TEST_F(Pushing, AMalformedAnswerToAPushIsResentNotTakenAsARefusal) {
  Advertise(0);
  ASSERT_EQ(RegisterOffer(3, 300, 1), Status::kOk);
  std::vector<Push> pushes = Pushes(WaitSent(1));
  ASSERT_EQ(pushes.size(), 1u);
  const Sender aggregator{closest_[0].address, 7401};
  Deliver(AckFor(pushes[0], Status::kMalformed), aggregator);
  std::vector<Push> again = Pushes(WaitSent(1));
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].packet, pushes[0].packet);
  Deliver(AckFor(again[0], Status::kOk), aggregator);
  ASSERT_EQ(RegisterOffer(4, 300, 2), Status::kOk);
  pushes = Pushes(WaitSent(1));
  ASSERT_EQ(pushes.size(), 1u);
  EXPECT_EQ(pushes[0].to.address, closest_[0].address);
}

TEST_F(Pushing, AnAggregatorTakesPushesFromPeersOnlyForItsIds) {
  AggregateHere();
  dht_->AddPeer(closest_[0].address);
  const std::vector<std::byte> push = PushOf({Record(kResource, 500)}, 77);

  // From a non-peer: an unknown type, MALFORMED; nothing taken.
  auto from_client = Deliver(push, SourceB());
  ASSERT_TRUE(Answered(from_client));
  EXPECT_EQ(from_client->front().status, Status::kMalformed);
  EXPECT_EQ(Total(901), 0u);

  std::vector<std::vector<std::byte>> acks =
      PeerAnswers(push, closest_[0].address);
  ASSERT_EQ(acks.size(), 1u);
  protocol::PeerDecodeResult ack = protocol::DecodePeer(acks[0]);
  ASSERT_EQ(ack.status, Status::kOk);
  EXPECT_EQ(ack.packet.header.type, wire::kTypePushAck);
  EXPECT_EQ(ack.packet.header.txid, 77u);
  EXPECT_EQ(ack.packet.header.status, Status::kOk);
  EXPECT_EQ(Total(902), 1u);

  // An id it does not aggregate: INCOMPLETE, not taken.
  acks = PeerAnswers(PushOf({Record(2, 500)}, 78), closest_[0].address);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(protocol::DecodePeer(acks[0]).packet.header.status,
            Status::kIncomplete);
}

// A pushed record passes what a record read from the DHT passes: a
// signature that does not verify, or a record past valid_until, is
// acknowledged (a resend would not change it) and never served.
TEST_F(Pushing, APushedRecordIsCheckedAsARecordReadFromTheDht) {
  AggregateHere();
  dht_->AddPeer(closest_[0].address);
  dht::OfferRecord forged = Record(kResource, 500);
  forged.offer.flags = wire::kOfferFlagSigned;
  forged.signed_request = std::vector<std::byte>(200, std::byte{0x5A});
  dht::OfferRecord expired = Record(kResource, 600, kStart - 1);
  expired.offer.device = Device(8);
  auto acks = PeerAnswers(PushOf({forged, expired}, 79), closest_[0].address);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(protocol::DecodePeer(acks[0]).packet.header.status, Status::kOk);
  EXPECT_EQ(Total(903), 0u);
}

// An aggregator no longer listens: a record another node put into the DHT
// reaches its index by a push or by its re-read, not by itself.
TEST_F(Pushing, AnAggregatorLearnsOfOthersRecordsByPushOrReread) {
  AggregateHere();
  bool stored = false;
  dht_->Publish(Record(kResource, 500),
                [&](bool ok, uint16_t) { stored = ok; });
  ASSERT_TRUE(stored);
  EXPECT_EQ(Total(904), 0u);
  dht_->RunRereads();
  EXPECT_EQ(Total(905), 1u);
}

}  // namespace
}  // namespace crsp::node::testing
