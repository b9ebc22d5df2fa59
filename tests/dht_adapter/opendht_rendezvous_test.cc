// OpenDhtDht's aggregator primitives on three real OpenDHT nodes over [::1]
// (ephemeral ports): rendezvous values put at one node and read at another
// with the nodes the search ended on, demands reaching the storers' hook,
// hostile values under a rendezvous key refused by the storers, Unwatch,
// FetchKeyOf and IsPeer. Every wait is bounded.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <opendht.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "crsp/dht_adapter/aggregator_role.h"
#include "crsp/dht_adapter/keys.h"
#include "crsp/dht_adapter/opendht_dht.h"
#include "loopback_dht.h"
#include "record_builder.h"

namespace crsp::dht {
namespace {

constexpr Dht::WatchMode kListen = Dht::WatchMode::kListen;

using aggregator::Advert;
using aggregator::Demand;
using aggregator::RendezvousValue;
using aggregator::SearchNode;
using testing::LoopbackConfig;
using testing::UnsignedRecord;
using testing::WaitUntil;
using namespace std::chrono_literals;

constexpr protocol::Ipv6Address kLoopback6 = {0, 0, 0, 0, 0, 0, 0, 0,
                                              0, 0, 0, 0, 0, 0, 0, 1};
constexpr protocol::Ipv6Address kLoopback4 = {0, 0, 0,    0,    0,   0, 0, 0,
                                              0, 0, 0xFF, 0xFF, 127, 0, 0, 1};

std::vector<std::byte> AdvertOf(uint16_t resource, const protocol::NodeId& node,
                                uint16_t port = 7400) {
  return aggregator::EncodeAdvert({resource, node, port, testing::Now()});
}

protocol::NodeId IdOf(uint8_t byte) {
  protocol::NodeId id{};
  id.fill(byte);
  return id;
}

struct Read {
  bool done = false;
  std::vector<RendezvousValue> values;
  std::vector<SearchNode> searched;
};

// One GetRendezvous; its deadline (4.5 s by default) bounds it.
Read GetAndWait(Dht& dht, uint16_t resource) {
  auto result = std::make_shared<std::promise<Read>>();
  auto future = result->get_future();
  dht.GetRendezvous(resource, [result](std::vector<RendezvousValue> values,
                                       std::vector<SearchNode> searched) {
    result->set_value({true, std::move(values), std::move(searched)});
  });
  if (future.wait_for(10s) != std::future_status::ready) return {};
  return future.get();
}

bool PutAndWait(Dht& dht, uint16_t resource, std::vector<std::byte> value) {
  auto result = std::make_shared<std::promise<bool>>();
  auto future = result->get_future();
  dht.PutRendezvous(resource, std::move(value),
                    [result](bool ok) { result->set_value(ok); });
  // put_timeout (4.5 s) bounds it; 10 s means the done was lost.
  if (future.wait_for(10s) != std::future_status::ready) return false;
  return future.get();
}

bool PublishAndWait(Dht& dht, const OfferRecord& r) {
  auto result = std::make_shared<std::promise<bool>>();
  auto future = result->get_future();
  dht.Publish(r, [result](bool ok, uint16_t) { result->set_value(ok); });
  if (future.wait_for(10s) != std::future_status::ready) return false;
  return future.get();
}

bool HasAdvertOf(const std::vector<RendezvousValue>& values,
                 const protocol::NodeId& node) {
  return std::any_of(values.begin(), values.end(), [&](const auto& v) {
    return v.kind == RendezvousValue::Kind::kAdvert && v.advert.node == node;
  });
}

bool Names(const std::vector<SearchNode>& searched,
           const protocol::NodeId& id) {
  return std::any_of(searched.begin(), searched.end(), [&](const auto& n) {
    return n.id == id && (n.address == kLoopback6 || n.address == kLoopback4);
  });
}

// The demands one node's hook saw.
struct DemandLog {
  std::mutex mu;
  std::vector<Demand> demands;
  size_t size() {
    std::lock_guard lock(mu);
    return demands.size();
  }
};

// Three nodes, B and C joined through A, each with a demand hook.
class ThreeNodes : public ::testing::Test {
 protected:
  void SetUp() override {
    a_ = std::make_unique<OpenDhtDht>(LoopbackConfig());
    b_ = std::make_unique<OpenDhtDht>(LoopbackConfig({a_->LoopbackAddress()}));
    c_ = std::make_unique<OpenDhtDht>(
        LoopbackConfig({a_->LoopbackAddress(), b_->LoopbackAddress()}));
    for (size_t i = 0; i < 3; ++i) {
      logs_[i] = std::make_shared<DemandLog>();
      node(i).OnDemand([log = logs_[i]](const Demand& d) {
        std::lock_guard lock(log->mu);
        log->demands.push_back(d);
      });
    }
    ASSERT_TRUE(WaitUntil(
        [&] {
          return a_->Info().good_peers >= 2 && b_->Info().good_peers >= 2 &&
                 c_->Info().good_peers >= 2;
        },
        10s))
        << "nodes did not connect";
  }
  void TearDown() override {
    if (c_) c_->Shutdown(1s);
    if (b_) b_->Shutdown(1s);
    if (a_) a_->Shutdown(1s);
  }
  OpenDhtDht& node(size_t i) { return i == 0 ? *a_ : i == 1 ? *b_ : *c_; }
  std::unique_ptr<OpenDhtDht> a_, b_, c_;
  std::shared_ptr<DemandLog> logs_[3];
};

TEST_F(ThreeNodes, AnAdvertPutAtOneNodeIsReadAtAnotherWithTheSearchedNodes) {
  const protocol::NodeId a_id = a_->Info().node_id;
  const protocol::NodeId b_id = b_->Info().node_id;
  const protocol::NodeId c_id = c_->Info().node_id;
  ASSERT_TRUE(PutAndWait(*a_, 0x0007, AdvertOf(0x0007, a_id)));
  Read read;
  // C may not know B yet: its search ends on the nodes it knows.
  EXPECT_TRUE(WaitUntil(
      [&] {
        read = GetAndWait(*c_, 0x0007);
        return HasAdvertOf(read.values, a_id) && Names(read.searched, a_id) &&
               Names(read.searched, b_id);
      },
      15s));
  ASSERT_TRUE(read.done);
  ASSERT_EQ(read.values.size(), 1u);
  EXPECT_EQ(read.values[0].advert.port, 7400);
  EXPECT_FALSE(Names(read.searched, c_id));  // this node excluded
  const protocol::NodeId key = [] {
    const auto hash = ::dht::InfoHash::get(aggregator::RendezvousKeyName(7));
    protocol::NodeId id{};
    std::copy_n(hash.data(), id.size(), id.begin());
    return id;
  }();
  for (size_t i = 1; i < read.searched.size(); ++i) {
    EXPECT_FALSE(
        aggregator::Closer(key, read.searched[i].id, read.searched[i - 1].id))
        << "not closest first at " << i;
  }
  // Another resource's key holds nothing.
  EXPECT_TRUE(GetAndWait(*c_, 0x0008).values.empty());
}

TEST_F(ThreeNodes, ADemandReachesTheHookOfTheNodesThatStoreIt) {
  const Demand demand{0x0009, {IdOf(0x11), IdOf(0x22)}};
  ASSERT_TRUE(PutAndWait(*a_, 0x0009, aggregator::EncodeDemand(demand)));
  // B and C store it (every node is among the closest of three); both,
  // before the count below is taken, or C's late store would be counted as
  // the advert's.
  // 15 s: the machine may be busy with other tests (ctest -j2).
  ASSERT_TRUE(WaitUntil(
      [&] { return logs_[1]->size() >= 1 && logs_[2]->size() >= 1; }, 15s))
      << "B saw " << logs_[1]->size() << ", C saw " << logs_[2]->size();
  for (size_t i = 1; i < 3; ++i) {
    std::lock_guard lock(logs_[i]->mu);
    for (const Demand& seen : logs_[i]->demands) EXPECT_EQ(seen, demand);
  }
  // An advert is no demand.
  const size_t before = logs_[1]->size() + logs_[2]->size();
  ASSERT_TRUE(PutAndWait(*a_, 0x0009, AdvertOf(0x0009, a_->Info().node_id)));
  // One get may take its whole 4.5-s deadline: room for a few.
  size_t read = 0;
  EXPECT_TRUE(WaitUntil(
      [&] { return (read = GetAndWait(*b_, 0x0009).values.size()) == 2; }, 15s))
      << "B read " << read << " value(s)";
  EXPECT_EQ(logs_[1]->size() + logs_[2]->size(), before);
}

TEST_F(ThreeNodes, ValuesThatDoNotDecodeAsOneOfTheResourceAreNotPut) {
  EXPECT_FALSE(PutAndWait(*a_, 0x0007, std::vector<std::byte>(20)));
  EXPECT_FALSE(PutAndWait(*a_, 0x0007, AdvertOf(0x0008, IdOf(1))));
}

// A raw DhtRunner on [::1], joined to the three nodes.
class RawNode {
 public:
  explicit RawNode(const char* name) {
    ::dht::DhtRunner::Config config;
    config.dht_config.id = ::dht::crypto::generateIdentity(name, {}, 2048);
    config.threaded = true;
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    sin6.sin6_addr = in6addr_loopback;
    config.bind6 =
        ::dht::SockAddr(reinterpret_cast<sockaddr*>(&sin6), sizeof(sin6));
    runner.run(config, {});
  }
  ~RawNode() { Stop(); }
  bool Join(std::initializer_list<OpenDhtDht*> nodes) {
    for (OpenDhtDht* n : nodes) runner.bootstrap(n->LoopbackAddress());
    return WaitUntil(
        [&] {
          return runner.getNodesStats(AF_INET6).good_nodes >= nodes.size();
        },
        10s);
  }
  // Every value the other nodes answer a get of `key` with.
  std::vector<std::shared_ptr<::dht::Value>> GetAll(
      const ::dht::InfoHash& key) {
    auto values =
        std::make_shared<std::vector<std::shared_ptr<::dht::Value>>>();
    auto mu = std::make_shared<std::mutex>();
    auto done = std::make_shared<std::promise<void>>();
    auto future = done->get_future();
    runner.get(
        key,
        ::dht::GetCallback(
            [values, mu](const std::vector<std::shared_ptr<::dht::Value>>& v) {
              std::lock_guard lock(*mu);
              values->insert(values->end(), v.begin(), v.end());
              return true;
            }),
        ::dht::DoneCallbackSimple([done](bool) { done->set_value(); }));
    EXPECT_EQ(future.wait_for(15s), std::future_status::ready);
    std::lock_guard lock(*mu);
    return *values;
  }
  void Stop() {
    if (stopped_) return;
    stopped_ = true;
    runner.shutdown({});
    runner.join();
  }
  ::dht::DhtRunner runner;

 private:
  bool stopped_ = false;
};

::dht::Blob BlobOf(const std::vector<std::byte>& b) {
  const auto* p = reinterpret_cast<const uint8_t*>(b.data());
  return ::dht::Blob(p, p + b.size());
}

// A peer that ignores our rules puts, unsigned, what our nodes never put:
// under a rendezvous key garbage, offer records (of an offer type and of
// the rendezvous type) and another resource's advert; under an offer key an
// advert. Every storer refuses them all. A second raw node then asks the
// storers (the hostile one gone, with its local copies): only the valid
// advert, the control, is stored, and one value the hostile peer signed
// (OpenDHT 2.4.12 checks a signed value's signature instead of our store
// policy, docs/storage.md "Store policy"), which no read returns.
TEST_F(ThreeNodes, HostileValuesUnderRendezvousAndOfferKeysAreRefused) {
  constexpr uint16_t kRendezvousType = 0x4A00;
  constexpr uint16_t kOfferType = 0x4301;  // crsp.offer.1h
  const ::dht::InfoHash rendezvous =
      ::dht::InfoHash::get(aggregator::RendezvousKeyName(0x0007));
  const OfferRecord offer = UnsignedRecord(5, 300, 0x0007);
  const ::dht::InfoHash offer_key = ::dht::InfoHash::get(KeyFor(offer.offer));
  const ::dht::Blob control = BlobOf(AdvertOf(0x0007, IdOf(0x55)));
  const ::dht::Blob signed_garbage(40, 0xC2);
  {
    RawNode hostile("hostile");
    ASSERT_TRUE(hostile.Join({a_.get(), b_.get(), c_.get()}));
    std::atomic<int> acks{0};
    auto put = [&](const ::dht::InfoHash& key, uint16_t type,
                   const ::dht::Blob& data, bool sign = false) {
      auto v = std::make_shared<::dht::Value>(type, data);
      auto cb = [&acks](bool,
                        const std::vector<std::shared_ptr<::dht::Node>>&) {
        ++acks;
      };
      if (sign) {
        hostile.runner.putSigned(key, v, ::dht::DoneCallback(cb));
      } else {
        hostile.runner.put(key, v, ::dht::DoneCallback(cb));
      }
    };
    put(rendezvous, kRendezvousType, ::dht::Blob(40, 0xC1));
    put(rendezvous, kOfferType, BlobOf(EncodeRecord(offer)));
    put(rendezvous, kRendezvousType, BlobOf(EncodeRecord(offer)));
    put(rendezvous, kRendezvousType, BlobOf(AdvertOf(0x0008, IdOf(0x33))));
    put(offer_key, kRendezvousType, BlobOf(AdvertOf(0x0007, IdOf(0x44))));
    put(rendezvous, kRendezvousType, signed_garbage, /*sign=*/true);
    put(rendezvous, kRendezvousType, control);
    // A storer acknowledges a put once it decided on it.
    ASSERT_TRUE(WaitUntil([&] { return acks == 7; }, 15s));
  }

  RawNode observer("observer");
  ASSERT_TRUE(observer.Join({a_.get(), b_.get(), c_.get()}));
  std::vector<std::shared_ptr<::dht::Value>> stored;
  EXPECT_TRUE(WaitUntil(
      [&] {
        stored = observer.GetAll(rendezvous);
        return std::any_of(stored.begin(), stored.end(),
                           [&](const auto& v) { return v->data == control; });
      },
      20s));
  for (const auto& v : stored) {
    EXPECT_TRUE(v->data == control ||
                (v->data == signed_garbage && v->isSigned()))
        << "stored: " << v->toString();
  }
  EXPECT_TRUE(observer.GetAll(offer_key).empty());

  for (size_t i = 0; i < 3; ++i) {
    const Read read = GetAndWait(node(i), 0x0007);
    ASSERT_EQ(read.values.size(), 1u) << "node " << i;
    EXPECT_EQ(read.values[0].advert.node, IdOf(0x55));
  }
  // Nor does the offer read path take the advert put under the offer key.
  auto fetched = std::make_shared<std::promise<std::vector<OfferRecord>>>();
  auto future = fetched->get_future();
  c_->FetchKeyOf(offer.offer, 3s,
                 [fetched](std::vector<OfferRecord> records, bool) {
                   fetched->set_value(std::move(records));
                 });
  ASSERT_EQ(future.wait_for(6s), std::future_status::ready);
  EXPECT_TRUE(future.get().empty());
}

// What watches saw; shared with their callbacks, which may still run on
// the adapter's thread until the node shuts down.
struct SeenByWatch {
  std::mutex mu;
  std::map<int, std::vector<OfferRecord>> records;  // by watch
  void Add(int watch, const OfferRecord& r) {
    std::lock_guard lock(mu);
    records[watch].push_back(r);
  }
  bool Saw(int watch, const OfferRecord& r) {
    std::lock_guard lock(mu);
    const std::vector<OfferRecord>& seen = records[watch];
    return std::any_of(seen.begin(), seen.end(), [&](const OfferRecord& x) {
      return x.offer.device == r.offer.device;
    });
  }
};

TEST_F(ThreeNodes,
       AfterUnwatchNewRecordsAreNotReportedAndAControlWatchStillIs) {
  auto seen = std::make_shared<SeenByWatch>();
  auto into = [seen](int watch) {
    return [seen, watch](const OfferRecord& r) { seen->Add(watch, r); };
  };
  b_->Watch(7, wire::kAnyPrice, into(7), kListen);
  b_->Watch(8, wire::kAnyPrice, into(8), kListen);
  // Two watches of 1,408 listens each, paced 64 per 20 ms.
  std::this_thread::sleep_for(1500ms);
  const OfferRecord before = UnsignedRecord(1, 500, 7);
  ASSERT_TRUE(PublishAndWait(*a_, before));
  ASSERT_TRUE(WaitUntil([&] { return seen->Saw(7, before); }, 5s));

  b_->Unwatch(7);
  const OfferRecord after = UnsignedRecord(2, 500, 7);
  const OfferRecord control = UnsignedRecord(3, 500, 8);
  ASSERT_TRUE(PublishAndWait(*a_, after));
  ASSERT_TRUE(PublishAndWait(*a_, control));
  EXPECT_TRUE(WaitUntil([&] { return seen->Saw(8, control); }, 5s));
  std::this_thread::sleep_for(500ms);  // after reached b's listens, if any
  EXPECT_FALSE(seen->Saw(7, after));

  // Watch again: the stored record is reported (as a listen does).
  b_->Watch(7, wire::kAnyPrice, into(17), kListen);
  EXPECT_TRUE(WaitUntil([&] { return seen->Saw(17, after); }, 8s));
  EXPECT_FALSE(seen->Saw(7, after));  // the old watch stays cancelled
}

TEST_F(ThreeNodes, FetchKeyOfFindsAPublishedOffersRecord) {
  const OfferRecord r = UnsignedRecord(4, 2000, 3);
  ASSERT_TRUE(PublishAndWait(*a_, r));
  auto read = [&](const protocol::Offer& offer) {
    auto result = std::make_shared<
        std::promise<std::pair<std::vector<OfferRecord>, bool>>>();
    auto future = result->get_future();
    c_->FetchKeyOf(offer, 3s,
                   [result](std::vector<OfferRecord> records, bool complete) {
                     result->set_value({std::move(records), complete});
                   });
    EXPECT_EQ(future.wait_for(6s), std::future_status::ready);
    return future.get();
  };
  const auto [records, complete] = read(r.offer);
  EXPECT_TRUE(complete);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].offer, r.offer);
  // Another device's offer lives under another key (or is absent from it).
  protocol::Offer other = r.offer;
  other.device[0] = 0x99;
  const auto [none, none_complete] = read(other);
  EXPECT_TRUE(none_complete);
  EXPECT_TRUE(std::none_of(none.begin(), none.end(), [&](const auto& x) {
    return x.offer.device == other.device;
  }));
}

TEST_F(ThreeNodes, IsPeerNamesTheAddressOfABootstrappedPeerOnly) {
  protocol::Ipv6Address fd00_1{};
  ASSERT_EQ(inet_pton(AF_INET6, "fd00::1", fd00_1.data()), 1);
  EXPECT_TRUE(WaitUntil([&] { return c_->IsPeer(kLoopback6); }, 5s));
  EXPECT_FALSE(c_->IsPeer(fd00_1));
  c_->Shutdown(1s);
  EXPECT_FALSE(c_->IsPeer(kLoopback6));  // no routing table any more
}

TEST(OpenDhtRendezvous, ANodeAloneReadsItsOwnValueAndNamesNoNode) {
  OpenDhtDht alone(LoopbackConfig());
  EXPECT_TRUE(PutAndWait(alone, 0x0005, AdvertOf(0x0005, IdOf(0x66))));
  const auto start = std::chrono::steady_clock::now();
  const Read read = GetAndWait(alone, 0x0005);
  ASSERT_TRUE(read.done);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 6s);
  EXPECT_TRUE(HasAdvertOf(read.values, IdOf(0x66)));
  EXPECT_TRUE(read.searched.empty());
  // Alone for over a snapshot period: nobody is a peer.
  std::this_thread::sleep_for(1200ms);
  EXPECT_FALSE(alone.IsPeer(kLoopback6));
  EXPECT_FALSE(alone.IsPeer(kLoopback4));
  alone.Shutdown(3s);
}

TEST(OpenDhtRendezvous, EveryCallAfterShutdownStillCallsDone) {
  OpenDhtDht node(LoopbackConfig());
  node.Shutdown(3s);
  const Read read = GetAndWait(node, 0x0005);
  EXPECT_TRUE(read.done);
  EXPECT_FALSE(PutAndWait(node, 0x0005, AdvertOf(0x0005, IdOf(0x66))));
  node.Unwatch(5);  // nothing to cancel, and no crash
}

}  // namespace
}  // namespace crsp::dht
