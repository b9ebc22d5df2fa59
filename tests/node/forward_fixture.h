// The fixture of forward_test.cc and push_test.cc: one node whose
// InMemoryDht names three other nodes as the closest to every rendezvous
// key, and whose datagrams to other nodes are kept for the test to read.
#ifndef CRSP_TESTS_NODE_FORWARD_FIXTURE_H_
#define CRSP_TESTS_NODE_FORWARD_FIXTURE_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>

#include "crsp/dht_adapter/aggregator_role.h"
#include "crsp/dht_adapter/memory_dht.h"
#include "crsp/protocol/peer_codec.h"
#include "node_harness.h"

namespace crsp::node::testing {

namespace agg = dht::aggregator;
using wire::Status;

constexpr uint16_t kResource = 1;

// A node id at XOR distance `distance` (its last byte) from `key`.
inline protocol::NodeId At(const protocol::NodeId& key, uint8_t first,
                           uint8_t distance) {
  protocol::NodeId id = key;
  id[0] ^= first;
  id[19] ^= distance;
  return id;
}

inline protocol::Ipv6Address Address(uint8_t last) {
  protocol::Ipv6Address a{};
  a[0] = 0xFD;
  a[15] = last;
  return a;
}

struct Sent {
  Sender to;
  std::vector<std::byte> bytes;
};

// The answers a buyer got; written from the node's threads (a forwarded
// query's timeout answers on the timer thread), read by the test.
class Got {
 public:
  void push_back(protocol::DecodeResult answer) {
    std::lock_guard lock(mu_);
    answers_.push_back(std::move(answer));
  }
  bool empty() const {
    std::lock_guard lock(mu_);
    return answers_.empty();
  }
  size_t size() const {
    std::lock_guard lock(mu_);
    return answers_.size();
  }
  protocol::DecodeResult front() const {
    std::lock_guard lock(mu_);
    return answers_.front();
  }

 private:
  mutable std::mutex mu_;
  std::vector<protocol::DecodeResult> answers_;
};

// One node whose DHT says three other nodes are the closest to every
// rendezvous key; it sends its forwarded queries into `sent`.
class Forwarding : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = agg::RendezvousKey(kResource);
    for (uint8_t k = 0; k < 3; ++k) {
      closest_.push_back({At(key_, 0, k + 1), Address(k + 1)});
    }
    std::string pattern =
        (std::filesystem::temp_directory_path() / "crsp-forward-XXXXXX")
            .string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    Start(NodeConfig{});
  }

  // (Re)starts the node with `config` (its state_dir set here) on a new
  // InMemoryDht that met closest_.
  void Start(NodeConfig config) {
    node_.reset();
    auto dht = std::make_unique<dht::InMemoryDht>(
        [this] { return now_.load(); }, At(key_, 0xFF, 0));
    dht_ = dht.get();
    dht_->SetSearched(closest_);
    NodeContext context;
    context.dht = std::move(dht);
    context.clock = [this] { return now_.load(); };
    context.send_to = [this](const Sender& to, std::vector<std::byte> bytes) {
      std::lock_guard lock(mu_);
      sent_.push_back({to, std::move(bytes)});
    };
    context.edge_port = 7400;
    config.state_dir = dir_.string();
    node_ = Node::Create(config, std::move(context));
  }
  void TearDown() override {
    node_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Advertises closest_[k] as an aggregator of kResource at port 7401,
  // warm (or still warming up).
  void Advertise(size_t k, bool warm = true) {
    agg::Advert advert{kResource, closest_[k].id, 7401,
                       warm ? now_.load() : agg::kWarming};
    dht_->PutRendezvous(kResource, agg::EncodeAdvert(advert), [](bool) {});
  }

  // The suspects of each demand for kResource put so far.
  std::vector<std::vector<protocol::NodeId>> Demands() {
    std::vector<std::vector<protocol::NodeId>> demands;
    dht_->GetRendezvous(kResource, [&](std::vector<agg::RendezvousValue> values,
                                       std::vector<agg::SearchNode>) {
      for (const agg::RendezvousValue& v : values) {
        if (v.kind == agg::RendezvousValue::Kind::kDemand) {
          demands.push_back(v.demand.suspects);
        }
      }
    });
    return demands;
  }

  // Whether a demand for kResource naming no suspect was put.
  bool PlainDemand() {
    const auto demands = Demands();
    return std::count(demands.begin(), demands.end(),
                      std::vector<protocol::NodeId>{}) != 0;
  }

  // Sends `datagram` from `from`; the answers it got (also later ones).
  std::shared_ptr<Got> Deliver(const std::vector<std::byte>& datagram,
                               const Sender& from) {
    auto got = std::make_shared<Got>();
    node_->HandleDatagram(datagram, from, [got](std::vector<std::byte> a) {
      got->push_back(protocol::Decode(a));
    });
    return got;
  }

  // The node's answers to `datagram` (a node-to-node message) from the
  // peer at `from`, port 7401.
  std::vector<std::vector<std::byte>> PeerAnswers(
      const std::vector<std::byte>& datagram,
      const protocol::Ipv6Address& from) {
    std::vector<std::vector<std::byte>> answers;
    node_->HandleDatagram(datagram, {from, 7401},
                          [&answers](std::vector<std::byte> a) {
                            answers.push_back(std::move(a));
                          });
    return answers;
  }

  std::vector<Sent> TakeSent() {
    std::lock_guard lock(mu_);
    return std::exchange(sent_, {});
  }

  // Waits (bounded) until `got` holds an answer.
  static bool Answered(const std::shared_ptr<Got>& got) {
    const auto until =
        std::chrono::steady_clock::now() + std::chrono::seconds(5);
    for (int i = 0;
         i < 500 && got->empty() && std::chrono::steady_clock::now() < until;
         ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return !got->empty();
  }

  protocol::Offer SomeOffer(uint8_t flags) {
    protocol::Offer offer;
    offer.device = Device(9);
    offer.resource = kResource;
    offer.unit = 1;
    offer.flags = flags;
    offer.quantity = 3;
    offer.price = 250;
    offer.valid_from = kStart - 60;
    offer.valid_until = kStart + 3600;
    return offer;
  }

  // The aggregator's answer to forwarded query `forwarded`.
  std::vector<std::byte> AnswerFor(const Sent& forwarded,
                                   std::vector<protocol::Offer> offers,
                                   Status status = Status::kOk) {
    protocol::PeerDecodeResult query = protocol::DecodePeer(forwarded.bytes);
    EXPECT_EQ(query.status, Status::kOk);
    protocol::PeerPacket answer;
    answer.header = query.packet.header;
    answer.header.type = wire::kTypeForwardedAnswer;
    answer.header.status = status;
    protocol::QueryAnswer body;
    body.total = static_cast<uint32_t>(offers.size());
    body.offers = std::move(offers);
    answer.body = body;
    return protocol::EncodePeer(answer);
  }

  std::atomic<uint64_t> now_{kStart};
  protocol::NodeId key_{};
  std::vector<agg::SearchNode> closest_;
  std::filesystem::path dir_;
  dht::InMemoryDht* dht_ = nullptr;  // owned by node_
  std::unique_ptr<Node> node_;
  std::mutex mu_;
  std::vector<Sent> sent_;
};

}  // namespace crsp::node::testing

#endif  // CRSP_TESTS_NODE_FORWARD_FIXTURE_H_
