// Query: exact matching (time windows, currencies, units, quantities,
// prices), merge without duplicates, ordering, paging; which ids a node
// aggregates, and direct reads of the others (docs/scaling.md).
#include <gtest/gtest.h>

#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include "node_harness.h"

namespace crsp::node::testing {
namespace {

using wire::Status;

// The answer to `query`, which must carry `status` (OK: exact).
protocol::QueryAnswer Ask(TestNode& node, protocol::Packet query,
                          Status status = Status::kOk) {
  static uint32_t txid = 1000;
  query.header.txid = ++txid;
  const auto a = node.Send(query);
  EXPECT_EQ(a.packet.header.status, status);
  return Offers(a);
}

protocol::Packet Window(std::vector<protocol::QueryEntry> entries,
                        uint64_t from, uint64_t until, uint16_t currency = 0) {
  protocol::Packet p = Query(1, std::move(entries));
  auto& q = std::get<protocol::QueryRequest>(p.body);
  q.wanted_from = from;
  q.wanted_until = until;
  q.currency = currency;
  return p;
}

TEST(Query, MatchesTheWantedTimeWindow) {
  World world;
  TestNode node(world);
  node.Send(Register(1, Device(1), {Entry(1, 1, kStart - 10, kStart + 100)}));
  node.Send(Register(2, Device(2), {Entry(1, 1, kStart + 50, kStart + 200)}));
  // Now: only the first has started.
  EXPECT_EQ(Ask(node, Window({Want(1)}, 0, 0)).total, 1u);
  // From +60: both cover it.
  EXPECT_EQ(Ask(node, Window({Want(1)}, kStart + 60, 0)).total, 2u);
  // From +60 until +150: only the second lasts long enough.
  const auto late = Ask(node, Window({Want(1)}, kStart + 60, kStart + 150));
  ASSERT_EQ(late.total, 1u);
  EXPECT_EQ(late.offers[0].device, Device(2));
  // valid_until itself is not covered (from < valid_until).
  EXPECT_EQ(Ask(node, Window({Want(1)}, kStart + 100, 0)).total, 1u);
  // valid_until >= wanted_until is enough.
  EXPECT_EQ(Ask(node, Window({Want(1)}, 0, kStart + 100)).total, 1u);
}

TEST(Query, RefusesAWantedUntilAlreadyPast) {
  World world;
  TestNode node(world);
  const auto a = node.Send(Window({Want(1)}, 0, kStart));
  EXPECT_EQ(a.packet.header.status, Status::kInvalidField);
}

TEST(Query, MatchesCurrencyUnitQuantityAndPrice) {
  World world;
  TestNode node(world);
  node.Send(Register(1, Device(1),
                     {Entry(1, 100, kStart - 1, kStart + 99, 1, 4)},
                     wire::CheckType::kCrc32, 156));
  node.Send(Register(2, Device(2),
                     {Entry(1, 200, kStart - 1, kStart + 99, 5, 16)},
                     wire::CheckType::kCrc32, 840));
  EXPECT_EQ(Ask(node, Window({Want(1)}, 0, 0, 156)).total, 1u);
  EXPECT_EQ(Ask(node, Window({Want(1)}, 0, 0, 978)).total, 0u);
  EXPECT_EQ(Ask(node, Window({Want(1)}, 0, 0, 0)).total, 2u);
  EXPECT_EQ(Ask(node, Query(0, {Want(1, wire::kAnyPrice, 5)})).total, 1u);
  EXPECT_EQ(Ask(node, Query(0, {Want(1, wire::kAnyPrice, 3)})).total, 0u);
  EXPECT_EQ(Ask(node, Query(0, {Want(1, wire::kAnyPrice, 0xFF, 5)})).total, 1u);
  EXPECT_EQ(Ask(node, Query(0, {Want(1, wire::kAnyPrice, 0xFF, 16)})).total,
            1u);
  EXPECT_EQ(Ask(node, Query(0, {Want(1, 100)})).total, 1u);
  EXPECT_EQ(Ask(node, Query(0, {Want(1, 99)})).total, 0u);
  EXPECT_EQ(Ask(node, Query(0, {Want(4)})).total, 0u);
}

TEST(Query, MergesEntriesWithoutDuplicates) {
  World world;
  TestNode node(world);
  node.Send(Register(1, Device(1), {Entry(1, 100), Entry(4, 5)}));
  const auto a = Ask(node, Query(0, {Want(1), Want(1, 150), Want(4), Want(1)}));
  EXPECT_EQ(a.total, 2u);
  EXPECT_EQ(a.offers.size(), 2u);
}

TEST(Query, SortsByPriceThenValidFromThenDeviceThenResource) {
  World world;
  TestNode node(world);
  node.Send(Register(1, Device(3),
                     {Entry(1, 50, kStart - 5), Entry(2, 50, kStart - 5)}));
  node.Send(Register(2, Device(2), {Entry(1, 50, kStart - 5)}), SourceB());
  node.Send(Register(3, Device(4), {Entry(1, 50, kStart - 9)}));
  node.Send(Register(4, Device(1), {Entry(1, 70, kStart - 9)}));
  node.Send(Register(5, Device(5), {Entry(2, 10, kStart - 1)}));
  const auto a = Ask(node, Query(0, {Want(1), Want(2)}));
  ASSERT_EQ(a.offers.size(), 6u);
  const std::vector<std::pair<uint8_t, uint16_t>> expected = {
      {5, 2}, {4, 1}, {2, 1}, {3, 1}, {3, 2}, {1, 1}};
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(a.offers[i].device, Device(expected[i].first)) << i;
    EXPECT_EQ(a.offers[i].resource, expected[i].second) << i;
  }
}

TEST(Query, PagesWithCursorsOverMoreOffersThanOnePage) {
  World world;
  TestNode node(world);
  constexpr int kOffers = 40;
  for (int i = 0; i < kOffers; ++i) {
    node.Send(Register(i + 1, Device(static_cast<uint8_t>(i + 1)),
                       {Entry(1, static_cast<uint32_t>(1000 - i))}));
  }
  for (const auto check : {wire::CheckType::kNone, wire::CheckType::kEd25519}) {
    const protocol::Ed25519Key key = KeyFromByte(9);
    const size_t page_size = check == wire::CheckType::kNone ? 16 : 15;
    std::set<protocol::DeviceId> seen;
    uint32_t cursor = 0, last_price = 0;
    int pages = 0;
    do {
      protocol::Packet p = Query(500 + pages, {Want(1)}, check);
      std::get<protocol::QueryRequest>(p.body).cursor = cursor;
      const auto a = node.Send(p, SourceA(), &key);
      const auto& page = Offers(a);
      EXPECT_EQ(page.total, static_cast<uint32_t>(kOffers));
      EXPECT_LE(page.offers.size(), page_size);
      if (page.next_cursor != 0) {
        EXPECT_EQ(page.offers.size(), page_size);
      }
      for (const auto& o : page.offers) {
        EXPECT_GE(o.price, last_price);
        last_price = o.price;
        seen.insert(o.device);
      }
      cursor = page.next_cursor;
      ++pages;
    } while (cursor != 0 && pages < 10);
    EXPECT_EQ(seen.size(), static_cast<size_t>(kOffers));
    EXPECT_EQ(pages, (kOffers + page_size - 1) / page_size);
  }
}

TEST(Query, HonoursMaxResultsAndACursorPastTheEnd) {
  World world;
  TestNode node(world);
  for (int i = 0; i < 5; ++i) {
    node.Send(
        Register(i + 1, Device(static_cast<uint8_t>(i + 1)), {Entry(1, 10)}));
  }
  protocol::Packet p = Query(1, {Want(1)});
  std::get<protocol::QueryRequest>(p.body).max_results = 2;
  const auto first = Ask(node, p);
  EXPECT_EQ(first.offers.size(), 2u);
  EXPECT_EQ(first.next_cursor, 2u);
  std::get<protocol::QueryRequest>(p.body).cursor = 4;
  const auto last = Ask(node, p);
  EXPECT_EQ(last.offers.size(), 1u);
  EXPECT_EQ(last.next_cursor, 0u);
  std::get<protocol::QueryRequest>(p.body).cursor = 9;
  const auto past = Ask(node, p);
  EXPECT_EQ(past.offers.size(), 0u);
  EXPECT_EQ(past.total, 5u);
  EXPECT_EQ(past.next_cursor, 0u);
}

TEST(Query, WarmsFromTheDhtOnTheFirstQueryAndWatchesAfterwards) {
  World world;
  TestNode a(world, {}, protocol::NodeId{1});
  TestNode b(world, {}, protocol::NodeId{2});
  a.Send(Register(1, Device(1), {Entry(1, 100)}));
  EXPECT_TRUE(world.stopped_listening.empty());
  EXPECT_EQ(Ask(b, Query(0, {Want(1, 1000)})).total, 1u);
  // Warm (the whole id, not only the asked price): its warm-up listens end.
  EXPECT_EQ(world.stopped_listening,
            (std::vector<std::pair<protocol::NodeId, uint16_t>>{
                {protocol::NodeId{2}, 1}}));
  // Published after B warmed: B learns it from its watch, by a re-read
  // here (this world has no node-to-node transport for A's push).
  a.Send(Register(2, Device(2), {Entry(1, 200)}), SourceB());
  EXPECT_EQ(Ask(b, Query(0, {Want(1, 1000)})).total, 1u);
  world.dht->RunRereads();
  EXPECT_EQ(Ask(b, Query(0, {Want(1, 1000)})).total, 2u);
  // A higher price: B, an aggregator, watches every bucket of the id.
  a.Send(Register(3, Device(3), {Entry(1, 5'000'000)}));
  world.dht->RunRereads();
  EXPECT_EQ(Ask(b, Query(0, {Want(1)})).total, 3u);
}

TEST(Query, AggregatesABoundedNumberOfPrivateResourceIdsAndReadsTheRest) {
  World world;
  TestNode a(world, {}, protocol::NodeId{1});
  TestNode b(world, {}, protocol::NodeId{2});
  // Queries for many private-use resource ids (what a hostile buyer could
  // send): in this one-process world every node is among the closest to
  // every rendezvous key, so it aggregates (watches and reads) the ids it
  // is asked about, but at most kMaxPrivateResourceIds private ones.
  const size_t kAdmitted = 32;  // kMaxPrivateResourceIds (node_impl.h)
  const size_t kIds = kAdmitted + 8;
  // An aggregated id is warmed up in two reads (and watches): up to the
  // asking query's price bucket, then the rest of the id.
  constexpr size_t kWarmUps = 2;
  for (size_t i = 0; i < kIds; ++i) {
    Ask(b, Query(0, {Want(static_cast<uint16_t>(0x8000 + i), 1000)}));
  }
  EXPECT_EQ(world.watches, kWarmUps * kAdmitted);
  // Past the bound, each query is a direct read: exact, nothing kept.
  EXPECT_EQ(world.fetches, kWarmUps * kAdmitted + (kIds - kAdmitted));
  // Standard resource ids are always aggregated.
  a.Send(Register(1, Device(1), {Entry(wire::kResourcePrint, 100)}));
  EXPECT_EQ(Ask(b, Query(0, {Want(wire::kResourcePrint, 1000)})).total, 1u);
  EXPECT_EQ(world.watches, kWarmUps * (kAdmitted + 1));
  // A private id past the bound is read directly: its offers registered
  // anywhere, exactly.
  const uint16_t over = static_cast<uint16_t>(0x8000 + kIds - 1);
  a.Send(Register(2, Device(2), {Entry(over, 100)}));
  b.Send(Register(3, Device(3), {Entry(over, 200)}));
  const size_t before = world.fetches;
  EXPECT_EQ(Ask(b, Query(0, {Want(over, 1000)})).total, 2u);
  EXPECT_EQ(world.fetches, before + 1);
  EXPECT_EQ(world.watches, kWarmUps * (kAdmitted + 1));
  // An aggregated one is warm: answered from memory, no fetch.
  const size_t fetches = world.fetches;
  a.Send(Register(4, Device(4), {Entry(0x8000, 100)}));
  world.dht->RunRereads();  // what A's push does in a cluster
  EXPECT_EQ(Ask(b, Query(0, {Want(0x8000, 1000)})).total, 1u);
  EXPECT_EQ(world.fetches, fetches);
}

// Collects the answers a node sends, also those sent later.
// Written from the node's timer thread too.
class Answers {
 public:
  ReplyFn Reply() const {
    return [state = state_](std::vector<std::byte> answer) {
      std::lock_guard lock(state->mu);
      state->got.push_back(protocol::Decode(answer));
    };
  }
  std::vector<protocol::DecodeResult> got() const {
    std::lock_guard lock(state_->mu);
    return state_->got;
  }
  // Waits (bounded: `at_most`) until `n` answers came; what came by then.
  std::vector<protocol::DecodeResult> WaitFor(
      size_t n,
      std::chrono::milliseconds at_most = std::chrono::seconds(5)) const {
    const auto until = std::chrono::steady_clock::now() + at_most;
    for (int i = 0; i < 500 && got().size() < n &&
                    std::chrono::steady_clock::now() < until;
         ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return got();
  }

 private:
  struct State {
    std::mutex mu;
    std::vector<protocol::DecodeResult> got;
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

TEST(Query, AnIncompleteWarmUpIsAnsweredIncompleteAndStartedAgain) {
  World world;
  TestNode a(world, {}, protocol::NodeId{1});
  TestNode b(world, {}, protocol::NodeId{2});
  a.Send(Register(1, Device(1), {Entry(1, 100)}));
  world.fetches_incomplete = true;  // some keys missed the deadline
  // Not warm: each query starts the warm-up again (no direct read: it
  // would read the same keys) and is answered at the deadline with what
  // was read, saying it is incomplete.
  Answers answers;
  b.node().HandleDatagram(Bytes(Query(1, {Want(1, 1000)})), SourceA(),
                          answers.Reply());
  b.node().HandleDatagram(Bytes(Query(2, {Want(1, 1000)})), SourceB(),
                          answers.Reply());
  const auto got = answers.WaitFor(2);
  ASSERT_EQ(got.size(), 2u);
  for (const protocol::DecodeResult& answer : got) {
    EXPECT_EQ(answer.packet.header.status, Status::kIncomplete);
    EXPECT_EQ(Offers(answer).total, 1u);
  }
  EXPECT_EQ(world.fetches, 3u);  // the election's warm-up, one per query
  world.fetches_incomplete = false;
  b.node().Tick();  // the warm-up is started again, and completes
  EXPECT_EQ(world.fetches, 4u);
  EXPECT_EQ(Ask(b, Query(0, {Want(1, 1000)})).total, 1u);
  EXPECT_EQ(Ask(b, Query(0, {Want(1, 1000)})).total, 1u);
  EXPECT_EQ(world.fetches, 4u);  // warm from then on
}

TEST(Query, AQueryForMoreColdIdsThanRunningFetchesAllowedReadsThemAll) {
  // A buyer may name 16 resource ids (PROTOCOL.md); every one is read,
  // whatever the bound on reads running at once.
  World world;
  TestNode a(world, {}, protocol::NodeId{1});
  TestNode b(world, {}, protocol::NodeId{2});
  std::vector<protocol::QueryEntry> wants;
  for (uint16_t r = 1; r <= wire::kLastStandardResource; ++r) {
    a.Send(Register(r, Device(static_cast<uint8_t>(r)), {Entry(r, 100 + r)}));
    wants.push_back(Want(r));
  }
  for (uint16_t r = 0; r < 4; ++r) {
    const uint16_t id = static_cast<uint16_t>(wire::kFirstPrivateResource + r);
    a.Send(Register(100 + r, Device(static_cast<uint8_t>(100 + r)),
                    {Entry(id, 500)}));
    wants.push_back(Want(id));
  }
  ASSERT_EQ(wants.size(), wire::kMaxQueryEntries);
  protocol::Packet query = Query(0, wants);
  std::get<protocol::QueryRequest>(query.body).max_results = 1;
  // Read directly; meanwhile the node found it should aggregate them all.
  EXPECT_EQ(Ask(b, query).total, 16u);
  EXPECT_EQ(world.fetches, 32u);  // 16 direct reads, 16 warm-ups
  EXPECT_EQ(Ask(b, query).total, 16u);  // from the index now
  EXPECT_EQ(world.fetches, 32u);
}

TEST(Query, PastTheRunningFetchBoundAnAnswerIsIncompleteNeverOk) {
  World world;
  TestNode a(world, {}, protocol::NodeId{1});
  TestNode b(world, {}, protocol::NodeId{2});
  a.Send(Register(1, Device(1), {Entry(wire::kResourceTaxiRide, 100)}));
  world.hold_fetches = true;  // a slow DHT: fetches stay running
  std::vector<protocol::QueryEntry> busy;
  for (uint16_t r = 1; r <= 9; ++r) {  // 8 direct reads running, no taxis
    if (r != wire::kResourceTaxiRide) busy.push_back(Want(r));
  }
  b.node().HandleDatagram(Bytes(Query(1, busy)), SourceB(), [](auto) {});
  // Two ids: read directly (one id would wait for its warm-up instead).
  const auto a1 = b.Send(Query(2, {Want(wire::kResourceTaxiRide), Want(10)}));
  EXPECT_EQ(a1.packet.header.status, Status::kIncomplete);
  world.hold_fetches = false;
  world.ReleaseFetches();
  // Once fetches ran out, the same query is exact (and, its ids warm up
  // meanwhile, answered from the index).
  const auto a2 = b.Send(Query(3, {Want(wire::kResourceTaxiRide), Want(10)}));
  EXPECT_EQ(a2.packet.header.status, Status::kOk);
  EXPECT_EQ(Offers(a2).total, 1u);
}

TEST(Query, QueriesDuringAWarmUpWaitForItNotASecondReadAndAreExact) {
  World world;
  TestNode a(world, {}, protocol::NodeId{1});
  TestNode b(world, {}, protocol::NodeId{2});
  a.Send(Register(1, Device(1), {Entry(1, 100)}));
  world.hold_fetches = true;  // the DHT is slow
  Answers answers;
  b.node().HandleDatagram(Bytes(Query(7, {Want(1, 1000)})), SourceA(),
                          answers.Reply());
  // Another buyer, and a cheaper limit.
  b.node().HandleDatagram(Bytes(Query(8, {Want(1, 500)})), SourceB(),
                          answers.Reply());
  EXPECT_TRUE(answers.got().empty());
  // The warm-up alone: it reads every key a direct read would.
  EXPECT_EQ(world.fetches, 1u);
  world.hold_fetches = false;
  world.ReleaseFetches();
  const auto got = answers.got();
  ASSERT_EQ(got.size(), 2u);
  for (const protocol::DecodeResult& answer : got) {
    EXPECT_EQ(answer.packet.header.status, Status::kOk);
    EXPECT_EQ(Offers(answer).total, 1u) << "txid " << answer.packet.header.txid;
  }
  // Warm now (the warm-up's second read, of the rest of the id, ran once
  // the first ended): no further fetch.
  EXPECT_EQ(world.fetches, 2u);
  EXPECT_EQ(Offers(b.Send(Query(9, {Want(1, 1000)}))).total, 1u);
  EXPECT_EQ(world.fetches, 2u);
  // Not answered twice when the deadline (1.5 s) passes.
  EXPECT_EQ(answers.WaitFor(3, std::chrono::seconds(2)).size(), 2u);
}

TEST(Query, AWarmUpStillRunningAtTheDeadlineAnswersIncomplete) {
  World world;
  TestNode a(world, {}, protocol::NodeId{1});
  TestNode b(world, {}, protocol::NodeId{2});
  a.Send(Register(1, Device(1), {Entry(1, 100)}));
  world.hold_fetches = true;
  Answers answers;
  b.node().HandleDatagram(Bytes(Query(7, {Want(1)})), SourceA(),
                          answers.Reply());
  EXPECT_TRUE(answers.got().empty());
  const auto got = answers.WaitFor(1);  // kColdFetchDeadline, 1.5 s
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].packet.header.status, Status::kIncomplete);
  // What the node holds: the watch saw the stored offer, the read did not
  // end.
  EXPECT_EQ(Offers(got[0]).total, 1u);
  EXPECT_EQ(world.fetches, 1u);
  world.hold_fetches = false;
  world.ReleaseFetches();
  EXPECT_EQ(answers.got().size(), 1u);  // once
}

TEST(Query, AResendOfAQueryStillBeingReadGetsOneAnswer) {
  World world;
  TestNode b(world, {}, protocol::NodeId{2});
  world.hold_fetches = true;
  Answers answers;
  const std::vector<std::byte> query = Bytes(Query(7, {Want(1, 1000)}));
  b.node().HandleDatagram(query, SourceA(), answers.Reply());
  b.node().HandleDatagram(query, SourceA(), answers.Reply());  // resent
  world.hold_fetches = false;
  world.ReleaseFetches();
  // The warm-up's two reads; the query waited for the first.
  EXPECT_EQ(world.fetches, 2u);
  ASSERT_EQ(answers.got().size(), 1u);
  EXPECT_EQ(answers.got().front().packet.header.txid, 7u);
  // The same txid from another port is another buyer's query.
  Sender other = SourceA();
  other.port = 5002;
  world.hold_fetches = true;
  b.node().HandleDatagram(Bytes(Query(7, {Want(2, 1000)})), SourceA(),
                          answers.Reply());
  b.node().HandleDatagram(Bytes(Query(7, {Want(2, 1000)})), other,
                          answers.Reply());
  world.hold_fetches = false;
  world.ReleaseFetches();
  EXPECT_EQ(answers.got().size(), 3u);
}

TEST(Query, FlagsOnlySignedOffers) {
  World world;
  TestNode node(world);
  const auto key = KeyFromByte(3);
  node.Send(Register(1, Device(1), {Entry(1, 1)}, wire::CheckType::kEd25519),
            SourceA(), &key);
  node.Send(Register(2, Device(2), {Entry(1, 2)}));
  const auto a = Ask(node, Query(0, {Want(1)}));
  ASSERT_EQ(a.offers.size(), 2u);
  EXPECT_EQ(a.offers[0].flags, wire::kOfferFlagSigned);
  EXPECT_EQ(a.offers[1].flags, 0);
}

}  // namespace
}  // namespace crsp::node::testing
