// Forwarding (docs/scaling.md "Querying node", "Security") on one node over
// an InMemoryDht that names other nodes as closer to every rendezvous key:
// the node forwards a one-id query to the advertised aggregator, relays its
// answer, never vouches for a signature it did not verify, ignores answers
// from anyone but the aggregator asked, falls back to a direct read and a
// demand naming the silent aggregator, and answers node-to-node messages
// only from DHT peers. And the aggregator's side: forwarded queries
// answered from its index.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "forward_fixture.h"

namespace crsp::node::testing {
namespace {

TEST_F(Forwarding, AOneIdQueryGoesToTheAggregatorAndItsAnswerBack) {
  Advertise(1);
  dht_->AddPeer(closest_[1].address);
  const std::vector<std::byte> buyer = Bytes(Query(41, {Want(kResource)}));
  auto got = Deliver(buyer, SourceA());
  std::vector<Sent> sent = TakeSent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].to.address, closest_[1].address);
  EXPECT_EQ(sent[0].to.port, 7401);
  EXPECT_LE(sent[0].bytes.size(), buyer.size());  // never amplified
  protocol::PeerDecodeResult forwarded = protocol::DecodePeer(sent[0].bytes);
  ASSERT_EQ(forwarded.status, Status::kOk);
  EXPECT_EQ(
      std::get<protocol::QueryRequest>(forwarded.packet.body),
      std::get<protocol::QueryRequest>(protocol::Decode(buyer).packet.body));
  EXPECT_TRUE(got->empty());

  Deliver(AnswerFor(sent[0], {SomeOffer(0)}), {closest_[1].address, 7401});
  ASSERT_TRUE(Answered(got));
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ(got->front().packet.header.txid, 41u);
  EXPECT_EQ(got->front().packet.header.status, Status::kOk);
  ASSERT_EQ(Offers(got->front()).offers.size(), 1u);
  EXPECT_EQ(Offers(got->front()).offers[0], SomeOffer(0));
}

TEST_F(Forwarding, ASignatureTheNodeCouldNotVerifyIsNeverVouchedFor) {
  Advertise(0);
  dht_->AddPeer(closest_[0].address);
  auto got = Deliver(Bytes(Query(42, {Want(kResource)})), SourceA());
  std::vector<Sent> sent = TakeSent();
  ASSERT_EQ(sent.size(), 1u);
  // The aggregator claims a signed and verified offer no seller signed
  // (no such record is stored anywhere).
  Deliver(AnswerFor(sent[0], {SomeOffer(wire::kOfferFlagSigned)}),
          {closest_[0].address, 7401});
  ASSERT_TRUE(Answered(got));
  EXPECT_EQ(got->front().packet.header.status, Status::kIncomplete);
  ASSERT_EQ(Offers(got->front()).offers.size(), 1u);
  EXPECT_EQ(Offers(got->front()).offers[0].flags & wire::kOfferFlagSigned, 0);
}

TEST_F(Forwarding, OnlyTheAggregatorAskedMayAnswerThenADemandNamesIt) {
  Advertise(2);
  dht_->AddPeer(closest_[2].address);
  dht_->AddPeer(closest_[0].address);
  auto got = Deliver(Bytes(Query(43, {Want(kResource)})), SourceA());
  std::vector<Sent> sent = TakeSent();
  ASSERT_EQ(sent.size(), 1u);
  // Another peer answers in its place: ignored.
  Deliver(AnswerFor(sent[0], {SomeOffer(0)}), {closest_[0].address, 7401});
  // The aggregator stays silent: after its timeout the node reads the keys
  // itself (nothing stored: an exact, empty answer) and demands new
  // aggregators, naming the silent one.
  ASSERT_TRUE(Answered(got));
  EXPECT_EQ(got->front().packet.header.status, Status::kOk);
  EXPECT_EQ(Offers(got->front()).total, 0u);
  const auto demands = Demands();
  EXPECT_NE(std::find(demands.begin(), demands.end(),
                      std::vector{closest_[2].id}),
            demands.end());
}

// Adverts older than kAdvertCache still answer the next query at once (a
// fresh read may take seconds when it meets a dead peer); the read runs
// beside it, and the query after that goes to what it found.
TEST_F(Forwarding, StaleAdvertsAnswerAtOnceWhileTheyAreReadAgain) {
  Advertise(1);
  dht_->AddPeer(closest_[0].address);
  dht_->AddPeer(closest_[1].address);
  Deliver(Bytes(Query(45, {Want(kResource)})), SourceA());
  std::vector<Sent> sent = TakeSent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].to.address, closest_[1].address);
  Deliver(AnswerFor(sent[0], {}), {closest_[1].address, 7401});

  now_ += agg::kAdvertCache.count() + 1;
  Advertise(0);  // closer to the key than closest_[1]
  auto got = Deliver(Bytes(Query(46, {Want(kResource)})), SourceA());
  sent = TakeSent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].to.address, closest_[1].address);  // the cached one
  Deliver(AnswerFor(sent[0], {SomeOffer(0)}), {closest_[1].address, 7401});
  ASSERT_TRUE(Answered(got));
  EXPECT_EQ(got->front().packet.header.status, Status::kOk);

  Deliver(Bytes(Query(47, {Want(kResource)})), SourceA());
  sent = TakeSent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].to.address, closest_[0].address);  // read meanwhile
}

// Whether the node has put an advert of its own for kResource.
bool AdvertisesItself(dht::InMemoryDht& dht, const protocol::NodeId& self) {
  bool advertised = false;
  dht.GetRendezvous(kResource, [&](std::vector<agg::RendezvousValue> values,
                                   std::vector<agg::SearchNode>) {
    for (const agg::RendezvousValue& v : values) {
      advertised =
          advertised || (v.kind == agg::RendezvousValue::Kind::kAdvert &&
                         v.advert.node == self);
    }
  });
  return advertised;
}

// A rendezvous search that met nobody (it timed out on a loaded machine)
// is no evidence that this node is among the closest: with peers it does
// not elect itself (seen: six or seven aggregators per id in an overloaded
// 20-node cluster); alone, it does.
TEST_F(Forwarding, ASearchThatMetNobodyElectsNoOneButALoneNode) {
  dht_->SetSearched({});
  dht_->SetGoodPeers(3);
  auto got = Deliver(Bytes(Query(48, {Want(kResource)})), SourceA());
  ASSERT_TRUE(Answered(got));
  EXPECT_FALSE(AdvertisesItself(*dht_, At(key_, 0xFF, 0)));

  // The same node with no peers: a lone node aggregates what it is asked.
  auto lone = std::make_unique<dht::InMemoryDht>([this] { return now_.load(); },
                                                 At(key_, 0xFF, 0));
  dht::InMemoryDht* lone_dht = lone.get();
  NodeContext context;
  context.dht = std::move(lone);
  context.clock = [this] { return now_.load(); };
  context.send_to = [](const Sender&, std::vector<std::byte>) {};
  context.edge_port = 7400;
  NodeConfig config;
  config.state_dir = (dir_ / "lone").string();
  std::filesystem::create_directories(config.state_dir);
  std::unique_ptr<Node> node = Node::Create(config, std::move(context));
  auto answered = std::make_shared<Got>();
  node->HandleDatagram(Bytes(Query(49, {Want(kResource)})), SourceA(),
                       [answered](std::vector<std::byte> a) {
                         answered->push_back(protocol::Decode(a));
                       });
  ASSERT_TRUE(Answered(answered));
  EXPECT_TRUE(AdvertisesItself(*lone_dht, At(key_, 0xFF, 0)));
}

// An aggregator over its budget for this node answers RATE_LIMITED: the
// node asks the next one at once, and with every one busy answers the
// buyer RATE_LIMITED. Busy is not dead: no demand names them, and the next
// query is forwarded again instead of read directly.
TEST_F(Forwarding, ABusyAggregatorIsAskedAgainNotTakenForDead) {
  Advertise(0);
  Advertise(1);
  dht_->AddPeer(closest_[0].address);
  dht_->AddPeer(closest_[1].address);
  auto got = Deliver(Bytes(Query(50, {Want(kResource)})), SourceA());
  std::vector<Sent> sent = TakeSent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].to.address, closest_[0].address);
  Deliver(AnswerFor(sent[0], {}, Status::kRateLimited),
          {closest_[0].address, 7401});
  sent = TakeSent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].to.address, closest_[1].address);
  EXPECT_TRUE(got->empty());
  Deliver(AnswerFor(sent[0], {}, Status::kRateLimited),
          {closest_[1].address, 7401});
  ASSERT_TRUE(Answered(got));
  EXPECT_EQ(got->front().packet.header.status, Status::kRateLimited);
  EXPECT_EQ(got->front().packet.header.txid, 50u);

  dht_->GetRendezvous(kResource, [&](std::vector<agg::RendezvousValue> values,
                                     std::vector<agg::SearchNode>) {
    for (const agg::RendezvousValue& v : values) {
      if (v.kind == agg::RendezvousValue::Kind::kDemand) {
        EXPECT_TRUE(v.demand.suspects.empty());
      }
    }
  });
  // Both busy: still asked (busy ones last), not skipped for a direct read.
  auto again = Deliver(Bytes(Query(51, {Want(kResource)})), SourceA());
  sent = TakeSent();
  ASSERT_EQ(sent.size(), 1u);
  Deliver(AnswerFor(sent[0], {SomeOffer(0)}), sent[0].to);
  ASSERT_TRUE(Answered(again));
  EXPECT_EQ(again->front().packet.header.status, Status::kOk);
  EXPECT_EQ(Offers(again->front()).total, 1u);
}

TEST_F(Forwarding, NodeToNodeMessagesFromNonPeersAreUnknownTypes) {
  Advertise(1);
  dht_->AddPeer(closest_[1].address);
  Deliver(Bytes(Query(44, {Want(kResource)})), SourceA());
  std::vector<Sent> sent = TakeSent();
  ASSERT_EQ(sent.size(), 1u);
  // A buyer sends the forwarded query itself: MALFORMED, as any unknown
  // type; and an answer (0x41) from it gets no answer at all.
  auto as_query = Deliver(sent[0].bytes, SourceB());
  ASSERT_EQ(as_query->size(), 1u);
  EXPECT_EQ(as_query->front().packet.header.status, Status::kMalformed);
  auto as_answer = Deliver(AnswerFor(sent[0], {}), SourceB());
  EXPECT_TRUE(as_answer->empty());
}

TEST_F(Forwarding, AnAggregatorAnswersForwardedQueriesFromItsIndexOnly) {
  // Nobody is closer: this node aggregates kResource itself, once asked.
  dht_->SetSearched({});
  dht_->AddPeer(closest_[0].address);
  protocol::Packet reg = Register(1, Device(3), {Entry(kResource, 300)});
  auto registered = Deliver(Bytes(reg), SourceA());
  ASSERT_TRUE(Answered(registered));
  ASSERT_EQ(registered->front().packet.header.status, Status::kOk);
  auto local = Deliver(Bytes(Query(45, {Want(kResource)})), SourceA());
  ASSERT_TRUE(Answered(local));
  EXPECT_EQ(Offers(local->front()).total, 1u);

  protocol::PeerPacket forwarded = protocol::ForwardedQueryFor(
      protocol::Decode(Bytes(Query(46, {Want(kResource)}))).packet, 900);
  auto answer =
      PeerAnswers(protocol::EncodePeer(forwarded), closest_[0].address);
  ASSERT_EQ(answer.size(), 1u);
  protocol::PeerDecodeResult decoded = protocol::DecodePeer(answer.front());
  ASSERT_EQ(decoded.status, Status::kOk);
  EXPECT_EQ(decoded.packet.header.type, wire::kTypeForwardedAnswer);
  EXPECT_EQ(decoded.packet.header.txid, 900u);
  EXPECT_EQ(decoded.packet.header.status, Status::kOk);
  EXPECT_EQ(std::get<protocol::QueryAnswer>(decoded.packet.body).total, 1u);

  // An id it does not aggregate: INCOMPLETE with nothing, at once.
  forwarded = protocol::ForwardedQueryFor(
      protocol::Decode(Bytes(Query(47, {Want(2)}))).packet, 901);
  answer = PeerAnswers(protocol::EncodePeer(forwarded), closest_[0].address);
  ASSERT_EQ(answer.size(), 1u);
  decoded = protocol::DecodePeer(answer.front());
  EXPECT_EQ(decoded.packet.header.status, Status::kIncomplete);
  EXPECT_TRUE(
      std::get<protocol::QueryAnswer>(decoded.packet.body).offers.empty());
}

// The peer budget is per DHT peer address (a cluster often shares a /64):
// past it, a forwarded query gets RATE_LIMITED, empty and never larger than
// the query, while another peer of the same /64 is still answered.
TEST_F(Forwarding, AnAggregatorOverAPeersBudgetAnswersRateLimited) {
  NodeConfig config;
  config.limits.peer_answer_bytes_per_sec = 1;
  config.limits.peer_answer_burst_bytes = 100;  // one answer of one offer
  Start(config);
  dht_->SetSearched({});
  dht_->AddPeer(closest_[0].address);
  dht_->AddPeer(closest_[1].address);
  auto registered =
      Deliver(Bytes(Register(1, Device(3), {Entry(kResource, 300)})),
              SourceA());
  ASSERT_TRUE(Answered(registered));
  ASSERT_EQ(registered->front().packet.header.status, Status::kOk);
  auto local = Deliver(Bytes(Query(52, {Want(kResource)})), SourceA());
  ASSERT_TRUE(Answered(local));  // elected and warm
  ASSERT_EQ(Offers(local->front()).total, 1u);

  const std::vector<std::byte> query = protocol::EncodePeer(
      protocol::ForwardedQueryFor(
          protocol::Decode(Bytes(Query(53, {Want(kResource)}))).packet, 902));
  auto ask = [&](const protocol::Ipv6Address& from) {
    return PeerAnswers(query, from);
  };
  std::vector<std::vector<std::byte>> first = ask(closest_[0].address);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(protocol::DecodePeer(first[0]).packet.header.status, Status::kOk);
  std::vector<std::vector<std::byte>> second = ask(closest_[0].address);
  ASSERT_EQ(second.size(), 1u);
  protocol::PeerDecodeResult limited = protocol::DecodePeer(second[0]);
  ASSERT_EQ(limited.status, Status::kOk);
  EXPECT_EQ(limited.packet.header.status, Status::kRateLimited);
  EXPECT_EQ(limited.packet.header.txid, 902u);
  EXPECT_LE(second[0].size(), query.size());
  std::vector<std::vector<std::byte>> other = ask(closest_[1].address);
  ASSERT_EQ(other.size(), 1u);
  EXPECT_EQ(protocol::DecodePeer(other[0]).packet.header.status, Status::kOk);
}


// Elected while it met no closer node (as in a young cluster), an
// aggregator checks its role again a minute later, not ten, and resigns
// once three closer nodes its search meets serve the id (advertise it),
// not before: it then answers forwarded queries for the id INCOMPLETE, as
// a node that does not aggregate it.
TEST_F(Forwarding, AnAggregatorResignsAtItsFirstRecheckAfterCloserNodesAppear) {
  dht_->SetSearched({});
  dht_->AddPeer(closest_[0].address);
  auto registered =
      Deliver(Bytes(Register(1, Device(3), {Entry(kResource, 300)})),
              SourceA());
  ASSERT_TRUE(Answered(registered));
  ASSERT_EQ(registered->front().packet.header.status, Status::kOk);
  auto local = Deliver(Bytes(Query(60, {Want(kResource)})), SourceA());
  ASSERT_TRUE(Answered(local));  // elected and warm
  ASSERT_EQ(Offers(local->front()).total, 1u);

  uint32_t txid = 910;
  auto forwarded_status = [&] {
    const std::vector<std::vector<std::byte>> answers = PeerAnswers(
        protocol::EncodePeer(protocol::ForwardedQueryFor(
            protocol::Decode(Bytes(Query(61, {Want(kResource)}))).packet,
            txid++)),
        closest_[0].address);
    EXPECT_EQ(answers.size(), 1u);
    return answers.empty() ? Status::kMalformed
                           : protocol::DecodePeer(answers[0]).packet.header.status;
  };
  ASSERT_EQ(forwarded_status(), Status::kOk);

  dht_->SetSearched(closest_);  // three closer nodes are known now
  now_ += 30;
  node_->Tick();
  EXPECT_EQ(forwarded_status(), Status::kOk) << "rechecked before a minute";
  now_ += 31;  // a minute after the election: the first recheck
  node_->Tick();
  // Outranked, but the closer nodes do not serve the id yet: it stays.
  EXPECT_EQ(forwarded_status(), Status::kOk) << "resigned before they served";
  for (size_t k = 0; k < 3; ++k) Advertise(k);
  now_ += 62;  // the next recheck (after the role's age, 61 s)
  node_->Tick();
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  Status status = Status::kOk;
  for (int i = 0; i < 500 && std::chrono::steady_clock::now() < until; ++i) {
    status = forwarded_status();
    if (status != Status::kOk) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(status, Status::kIncomplete);
}


// The next pages of a directly read id (no aggregator advertised) come
// from that read for a few seconds: an offer registered between two pages
// (here at this node, the cheapest, so first in the order) does not shift
// the second page, and no offer is served twice. Once the read is older
// than kPageSnapshotSec (10 s), a page reads again.
TEST_F(Forwarding, NextPagesOfADirectlyReadIdComeFromThatRead) {
  for (uint8_t d = 0; d < 4; ++d) {
    auto registered = Deliver(
        Bytes(Register(70 + d, Device(10 + d), {Entry(kResource, 500 + d)})),
        SourceA());
    ASSERT_TRUE(Answered(registered));
    ASSERT_EQ(registered->front().packet.header.status, Status::kOk);
  }
  uint32_t txid = 80;
  auto page = [&](uint32_t cursor) {
    protocol::Packet query = Query(txid++, {Want(kResource)});
    auto& body = std::get<protocol::QueryRequest>(query.body);
    body.cursor = cursor;
    body.max_results = 2;
    auto got = Deliver(Bytes(query), SourceB());
    EXPECT_TRUE(Answered(got));
    std::vector<uint8_t> devices;
    if (got->empty()) return devices;
    const protocol::DecodeResult answer = got->front();
    EXPECT_EQ(answer.packet.header.status, Status::kOk);
    for (const protocol::Offer& offer : Offers(answer).offers) {
      devices.push_back(static_cast<uint8_t>(offer.device[15]));
    }
    return devices;
  };
  const std::vector<uint8_t> first = page(0);
  ASSERT_EQ(first.size(), 2u);
  auto cheapest = Deliver(
      Bytes(Register(90, Device(20), {Entry(kResource, 100)})), SourceA());
  ASSERT_TRUE(Answered(cheapest));
  ASSERT_EQ(cheapest->front().packet.header.status, Status::kOk);

  const std::vector<uint8_t> second = page(2);
  ASSERT_EQ(second.size(), 2u);
  for (uint8_t device : second) {
    EXPECT_EQ(std::count(first.begin(), first.end(), device), 0)
        << "device " << int{device} << " served on both pages";
    EXPECT_NE(device, Device(20)[15]) << "the second page was read again";
  }
  now_ += 11;  // the read is too old now: the same page reads again
  const std::vector<uint8_t> again = page(2);
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(again.front(), first.back());  // shifted by the new offer
}


// An aggregator that answers INCOMPLETE (not warm yet, or it resigned the
// id) is alive: the node reads directly, and its demand names no suspect,
// so that the next election does not pass over the closest nodes.
TEST_F(Forwarding, AnAggregatorThatAnswersIncompleteIsNoDemandsSuspect) {
  Advertise(0);
  dht_->AddPeer(closest_[0].address);
  auto got = Deliver(Bytes(Query(95, {Want(kResource)})), SourceA());
  std::vector<Sent> sent = TakeSent();
  ASSERT_EQ(sent.size(), 1u);
  Deliver(AnswerFor(sent[0], {}, Status::kIncomplete),
          {closest_[0].address, 7401});
  ASSERT_TRUE(Answered(got));
  EXPECT_EQ(got->front().packet.header.status, Status::kOk);  // read directly
  EXPECT_TRUE(PlainDemand());
  for (const auto& suspects : Demands()) {
    EXPECT_EQ(std::count(suspects.begin(), suspects.end(), closest_[0].id), 0);
  }
}

// An aggregator advertised warming (elected, still reading the id) that
// answers INCOMPLETE is alive and the id's aggregators are on their way:
// the node reads directly (exact) and demands no more. Past
// kWarmingPatienceSec of warming it counts as not serving: a demand.
TEST_F(Forwarding, AWarmingAggregatorIsNoReasonToDemandMore) {
  for (size_t k = 0; k < 3; ++k) {
    Advertise(k, /*warm=*/false);
    dht_->AddPeer(closest_[k].address);
  }
  // Each of the three answers INCOMPLETE in turn.
  auto ask = [&](uint32_t txid) {
    auto got = Deliver(Bytes(Query(txid, {Want(kResource)})), SourceA());
    for (size_t k = 0; k < 3; ++k) {
      std::vector<Sent> sent = TakeSent();
      EXPECT_EQ(sent.size(), 1u);
      if (sent.size() != 1) break;
      Deliver(AnswerFor(sent[0], {SomeOffer(0)}, Status::kIncomplete),
              {sent[0].to.address, 7401});
    }
    EXPECT_TRUE(Answered(got));
    return got;
  };
  auto got = ask(96);
  ASSERT_FALSE(got->empty());
  EXPECT_EQ(got->front().packet.header.status, Status::kOk);  // read directly
  EXPECT_TRUE(Offers(got->front()).offers.empty());
  EXPECT_FALSE(PlainDemand());  // three aggregators are on their way

  now_ += 120;  // kWarmingPatienceSec (node_impl.h); the adverts last 3 min
  got = ask(97);
  ASSERT_FALSE(got->empty());
  EXPECT_EQ(got->front().packet.header.status, Status::kOk);
  EXPECT_TRUE(PlainDemand());
}

// A search that did not meet every advertised aggregator (a loaded host)
// is no reason to demand more: three advertise, so none is demanded,
// although only one is usable here.
TEST_F(Forwarding, NoDemandWhileEnoughAggregatorsAdvertise) {
  for (size_t k = 0; k < 3; ++k) Advertise(k);
  // The search met closest_[0] and two nodes that aggregate nothing (all
  // closer than this node, which is then not elected itself).
  dht_->SetSearched({closest_[0],
                     {At(key_, 0, 10), Address(10)},
                     {At(key_, 0, 11), Address(11)}});
  dht_->AddPeer(closest_[0].address);
  auto got = Deliver(Bytes(Query(102, {Want(kResource)})), SourceA());
  std::vector<Sent> sent = TakeSent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].to.address, closest_[0].address);
  Deliver(AnswerFor(sent[0], {}), {closest_[0].address, 7401});
  ASSERT_TRUE(Answered(got));
  EXPECT_EQ(got->front().packet.header.status, Status::kOk);
  EXPECT_FALSE(PlainDemand());
}

// Adverts of nodes no search met (made up, or far away) never keep a node
// that can forward to none of them from demanding aggregators.
TEST_F(Forwarding, UncheckableAdvertsDoNotStopADemand) {
  for (size_t k = 0; k < 3; ++k) Advertise(k);
  dht_->SetSearched({{At(key_, 0, 10), Address(10)},
                     {At(key_, 0, 11), Address(11)},
                     {At(key_, 0, 12), Address(12)}});
  auto got = Deliver(Bytes(Query(103, {Want(kResource)})), SourceA());
  ASSERT_TRUE(Answered(got));  // read directly
  EXPECT_TRUE(TakeSent().empty());
  EXPECT_TRUE(PlainDemand());
}

// A querying node that can forward to k aggregators does not elect itself,
// even when its search ranks it among the closest (a thin search).
TEST_F(Forwarding, ANodeThatCanForwardToKAggregatorsDoesNotElectItself) {
  for (size_t k = 0; k < 3; ++k) {
    closest_[k].id = At(key_, 0xFF, static_cast<uint8_t>(0x10 + k));
    Advertise(k);
    dht_->AddPeer(closest_[k].address);
  }
  dht_->SetSearched(closest_);  // all farther from the key than this node
  auto got = Deliver(Bytes(Query(104, {Want(kResource)})), SourceA());
  std::vector<Sent> sent = TakeSent();
  ASSERT_EQ(sent.size(), 1u);
  Deliver(AnswerFor(sent[0], {}), {sent[0].to.address, 7401});
  ASSERT_TRUE(Answered(got));
  EXPECT_FALSE(AdvertisesItself(*dht_, At(key_, 0xFF, 0)));
}

// A warm aggregator is asked before a warming one, however close.
TEST_F(Forwarding, AWarmAggregatorIsAskedBeforeAWarmingOne) {
  Advertise(0, /*warm=*/false);
  Advertise(2);
  dht_->AddPeer(closest_[0].address);
  dht_->AddPeer(closest_[2].address);
  auto got = Deliver(Bytes(Query(98, {Want(kResource)})), SourceA());
  std::vector<Sent> sent = TakeSent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].to.address, closest_[2].address);
}

// A read of the adverts that is late (a loaded host) leaves the buyer with
// a direct read after kAdvertsDeadline (nothing is stored: OK, empty); the
// read goes on, and the next query is forwarded by what it found.
TEST_F(Forwarding, LateAdvertsAreReadDirectlyAndTheReadGoesOn) {
  Advertise(1);
  dht_->AddPeer(closest_[1].address);
  dht_->HoldRendezvousReads(true);
  auto got = Deliver(Bytes(Query(99, {Want(kResource)})), SourceA());
  ASSERT_TRUE(Answered(got));
  EXPECT_EQ(got->front().packet.header.status, Status::kOk);
  EXPECT_TRUE(TakeSent().empty());
  dht_->HoldRendezvousReads(false);
  Deliver(Bytes(Query(100, {Want(kResource)})), SourceA());
  std::vector<Sent> sent = TakeSent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].to.address, closest_[1].address);
}

// The aggregator asked may answer though this node's routing table no
// longer counts it a peer (a loaded host marks nodes expired): its search
// met it, and the answer matches the query sent to it. That makes it no
// peer for anything else: the forwarded query it could send is an unknown
// type still.
TEST_F(Forwarding, TheAggregatorAskedMayAnswerThoughNoLongerAPeer) {
  Advertise(1);  // closest_[1] is met by the search, not a peer (AddPeer)
  auto got = Deliver(Bytes(Query(105, {Want(kResource)})), SourceA());
  std::vector<Sent> sent = TakeSent();
  ASSERT_EQ(sent.size(), 1u);
  auto as_query = Deliver(sent[0].bytes, sent[0].to);
  ASSERT_EQ(as_query->size(), 1u);
  EXPECT_EQ(as_query->front().packet.header.status, Status::kMalformed);
  EXPECT_TRUE(Deliver(AnswerFor(sent[0], {SomeOffer(0)}), sent[0].to)->empty());
  ASSERT_TRUE(Answered(got));
  EXPECT_EQ(got->front().packet.header.status, Status::kOk);
  EXPECT_EQ(Offers(got->front()).total, 1u);
  // Not taken for dead: no demand names it (one advert alone is a plain
  // demand for more).
  for (const auto& suspects : Demands()) EXPECT_TRUE(suspects.empty());
}

// A node elected beside a warm aggregator (a demand named another one a
// suspect) still warms up: its buyers' queries wait for that warm-up only
// while it knows no warm aggregator. The first one reads the adverts
// beside; the next is forwarded to the warm one, exact at once.
TEST_F(Forwarding, AWarmingAggregatorForwardsOnceItKnowsAWarmOne) {
  Advertise(1);  // warm
  dht_->HoldFetches(true);
  dht_->PutRendezvous(
      kResource, agg::EncodeDemand({kResource, {closest_[0].id}}), [](bool) {});
  // Elected (closest_[0] left out): warming, its read held; so the first
  // query is not forwarded.
  auto waits = Deliver(Bytes(Query(106, {Want(kResource)})), SourceA());
  EXPECT_TRUE(TakeSent().empty());
  EXPECT_TRUE(waits->empty());
  auto forwarded = Deliver(Bytes(Query(107, {Want(kResource)})), SourceB());
  std::vector<Sent> sent = TakeSent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].to.address, closest_[1].address);
  Deliver(AnswerFor(sent[0], {SomeOffer(0)}), sent[0].to);
  ASSERT_TRUE(Answered(forwarded));
  EXPECT_EQ(forwarded->front().packet.header.status, Status::kOk);
  dht_->HoldFetches(false);  // the warm-up ends: the first query's answer
  ASSERT_TRUE(Answered(waits));
  EXPECT_EQ(waits->front().packet.header.status, Status::kOk);
}

// An elected aggregator advertises itself warming at once (querying nodes
// that find it demand no more aggregators), then warm once it read the id.
TEST_F(Forwarding, AnElectedAggregatorAdvertisesWarmingThenWarm) {
  dht_->SetSearched({});  // nobody closer: this node aggregates kResource
  dht_->AddPeer(closest_[0].address);
  auto got = Deliver(Bytes(Query(101, {Want(kResource)})), SourceA());
  ASSERT_TRUE(Answered(got));
  std::vector<uint64_t> warm_since;
  dht_->GetRendezvous(kResource, [&](std::vector<agg::RendezvousValue> values,
                                     std::vector<agg::SearchNode>) {
    for (const agg::RendezvousValue& v : values) {
      if (v.kind == agg::RendezvousValue::Kind::kAdvert &&
          v.advert.node == At(key_, 0xFF, 0)) {
        warm_since.push_back(v.advert.warm_since);
      }
    }
  });
  std::sort(warm_since.begin(), warm_since.end());
  EXPECT_EQ(warm_since, (std::vector<uint64_t>{agg::kWarming, kStart}));
}

}  // namespace
}  // namespace crsp::node::testing
