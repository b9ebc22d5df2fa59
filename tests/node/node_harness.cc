#include "node_harness.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <map>
#include <memory>
#include <stdexcept>

namespace crsp::node::testing {
namespace {

// Forwards to the world's shared InMemoryDht, so several nodes form one
// "cluster"; can hold publish confirmations back.
class SharedDht final : public dht::Dht {
 public:
  SharedDht(World& world, protocol::NodeId id) : world_(world), id_(id) {}
  void Publish(const dht::OfferRecord& record, PutDone done) override {
    if (!world_.hold_puts) {
      world_.dht->Publish(record, std::move(done));
      return;
    }
    world_.held.push_back([this, record, done = std::move(done)]() mutable {
      world_.dht->Publish(record, std::move(done));
    });
  }
  void Fetch(uint16_t resource, uint32_t max_price, FetchDeadlines deadlines,
             FetchDone answer, FetchMore more) override {
    ++world_.fetches;
    auto call = [this, resource, max_price, deadlines,
                 answer = std::move(answer), more = std::move(more)]() mutable {
      world_.dht->Fetch(
          resource, max_price, deadlines,
          [this, answer = std::move(answer)](
              std::vector<dht::OfferRecord> records, bool complete) {
            answer(std::move(records), complete && !world_.fetches_incomplete);
          },
          [this, more = std::move(more)](std::vector<dht::OfferRecord> records,
                                         FetchProgress progress) {
            if (world_.fetches_incomplete &&
                progress == FetchProgress::kComplete) {
              progress = FetchProgress::kIncomplete;
            }
            more(std::move(records), progress);
          });
    };
    if (world_.hold_fetches) {
      world_.held_fetches.push_back(std::move(call));
    } else {
      call();
    }
  }
  void Watch(uint16_t resource, uint32_t max_price, RecordSeen seen,
             WatchMode mode) override {
    ++world_.watches;
    // Unwatch must end this node's watches only, not every node's of the
    // shared store: each one reports through a switch this node owns.
    auto on = std::make_shared<std::atomic<bool>>(true);
    watching_[resource].push_back(on);
    world_.dht->Watch(
        resource, max_price,
        [on, seen = std::move(seen)](const dht::OfferRecord& r) {
          if (*on) seen(r);
        },
        mode);
  }
  void Unwatch(uint16_t resource) override {
    for (const auto& on : watching_[resource]) *on = false;
    watching_.erase(resource);
  }
  // Recorded only: the nodes watch with kListenWhereLarge, which the
  // shared store serves by re-reads (it has no replica counts), so no
  // watch of theirs listens here. Forwarding would change every node's.
  void StopListening(uint16_t resource) override {
    world_.stopped_listening.emplace_back(id_, resource);
  }
  // One shared store is the whole DHT: rendezvous values are the world's.
  // The shared store names no searched nodes, and these nodes have peers
  // (Info), so a search that met nobody would elect no one (the node reads
  // it as a timed-out search): report it as having met one node, the one
  // farthest from the key, as a small cluster's search does for every node
  // among the closest.
  void GetRendezvous(uint16_t resource, RendezvousDone done) override {
    world_.dht->GetRendezvous(
        resource, [resource, done = std::move(done)](
                      std::vector<dht::aggregator::RendezvousValue> values,
                      std::vector<dht::aggregator::SearchNode> searched) {
          if (searched.empty()) {
            protocol::NodeId farthest =
                dht::aggregator::RendezvousKey(resource);
            for (uint8_t& b : farthest) b = static_cast<uint8_t>(~b);
            searched.push_back({farthest, {}});
          }
          done(std::move(values), std::move(searched));
        });
  }
  void PutRendezvous(uint16_t resource, std::vector<std::byte> value,
                     std::function<void(bool ok)> done) override {
    world_.dht->PutRendezvous(resource, std::move(value), std::move(done));
  }
  // Kept, never called: no node of this harness stores rendezvous values
  // (the shared InMemoryDht has one hook, which the last node to set it
  // would take from the others). A test of the election must say which
  // nodes are the storers.
  void OnDemand(
      std::function<void(const dht::aggregator::Demand&)> demand) override {
    on_demand_ = std::move(demand);
  }
  void FetchKeyOf(const protocol::Offer& offer,
                  std::chrono::milliseconds deadline, FetchDone done) override {
    world_.dht->FetchKeyOf(offer, deadline, std::move(done));
  }
  bool IsPeer(const protocol::Ipv6Address& address) const override {
    return world_.dht->IsPeer(address);
  }
  dht::DhtInfo Info() const override {
    dht::DhtInfo info = world_.dht->Info();
    info.node_id = id_;
    info.good_peers = 3;
    return info;
  }
  void Shutdown(std::chrono::milliseconds) override {}

 private:
  World& world_;
  protocol::NodeId id_;
  std::map<uint16_t, std::vector<std::shared_ptr<std::atomic<bool>>>> watching_;
  std::function<void(const dht::aggregator::Demand&)> on_demand_;
};

}  // namespace

World::World()
    : now(std::make_shared<std::atomic<uint64_t>>(kStart)),
      dht(std::make_shared<dht::InMemoryDht>(
          [now = now] { return now->load(); })) {}

Clock World::clock() const {
  return [now = now] { return now->load(); };
}

void World::ReleaseHeld(bool ok) {
  std::vector<std::function<void()>> calls = std::move(held);
  held.clear();
  if (!ok) dht->SetFailPuts(true);
  for (auto& call : calls) call();
  if (!ok) dht->SetFailPuts(false);
}

void World::ReleaseFetches() {
  std::vector<std::function<void()>> calls = std::move(held_fetches);
  held_fetches.clear();
  for (auto& call : calls) call();
}

Sender SourceA() {
  Sender s;
  s.address = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x0a, 0, 0,
               0,    0,    0,    0,    0,    0,    0, 1};
  s.port = 5000;
  return s;
}

Sender SourceB() {
  Sender s;
  s.address = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x0b, 0, 0,
               0,    0,    0,    0,    0,    0,    0, 1};
  s.port = 5001;
  return s;
}

Sender FromV4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port) {
  Sender s;
  s.address = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, a, b, c, d};
  s.port = port;
  return s;
}

TestNode::TestNode(World& world, NodeConfig config, protocol::NodeId id,
                   Env* env)
    : world_(world), config_(std::move(config)), id_(id), env_(env) {
  std::string pattern =
      (std::filesystem::temp_directory_path() / "crsp-node-test-XXXXXX")
          .string();
  if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp");
  dir_ = pattern;
  config_.state_dir = dir_.string();
  Restart();
}

TestNode::~TestNode() {
  node_.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void TestNode::Restart() {
  node_.reset();
  node_ = Node::Create(config_,
                       NodeContext{std::make_unique<SharedDht>(world_, id_),
                                   world_.clock(), world_.metrics, env_});
}

std::vector<std::vector<std::byte>> TestNode::SendRaw(
    std::span<const std::byte> datagram, const Sender& from) {
  auto answers = std::make_shared<std::vector<std::vector<std::byte>>>();
  node_->HandleDatagram(datagram, from,
                        [answers](std::vector<std::byte> answer) {
                          answers->push_back(std::move(answer));
                        });
  return *answers;
}

protocol::DecodeResult TestNode::Send(const protocol::Packet& request,
                                      const Sender& from,
                                      const protocol::Ed25519Key* signer) {
  const std::vector<std::byte> bytes = Bytes(request, signer);
  const std::vector<std::vector<std::byte>> answers = SendRaw(bytes, from);
  EXPECT_EQ(answers.size(), 1u) << "txid " << request.header.txid;
  if (answers.empty()) return {};
  EXPECT_LE(answers[0].size(), wire::kMaxAnswer);
  protocol::DecodeResult decoded = protocol::Decode(answers[0]);
  EXPECT_TRUE(decoded.check_ok);
  EXPECT_EQ(decoded.packet.header.txid, request.header.txid);
  EXPECT_EQ(decoded.packet.header.check, request.header.check);
  return decoded;
}

protocol::DeviceId Device(uint8_t n) {
  protocol::DeviceId id{};
  id.fill(n);
  return id;
}

protocol::ResourceEntry Entry(uint16_t resource, uint32_t price, uint64_t from,
                              uint64_t until, uint8_t unit, uint32_t quantity) {
  protocol::ResourceEntry e;
  e.resource = resource;
  e.unit = unit;
  e.quantity = quantity;
  e.price = price;
  e.valid_from = from;
  e.valid_until = until;
  return e;
}

protocol::Packet Register(uint32_t txid, const protocol::DeviceId& device,
                          std::vector<protocol::ResourceEntry> entries,
                          wire::CheckType check, uint16_t currency) {
  protocol::RegisterRequest reg;
  reg.set.device = device;
  reg.set.device_kind = 1;
  reg.set.currency = currency;
  reg.entries = std::move(entries);
  return {protocol::HeaderFor(wire::PacketKind::kRegisterRequest, txid, check),
          reg};
}

protocol::Packet Withdraw(uint32_t txid, const protocol::DeviceId& device,
                          std::vector<uint16_t> resources,
                          wire::CheckType check) {
  protocol::WithdrawRequest w;
  w.device = device;
  w.resources = std::move(resources);
  return {protocol::HeaderFor(wire::PacketKind::kWithdrawRequest, txid, check),
          w};
}

protocol::Packet Query(uint32_t txid, std::vector<protocol::QueryEntry> entries,
                       wire::CheckType check) {
  protocol::QueryRequest q;
  q.entries = std::move(entries);
  return {protocol::HeaderFor(wire::PacketKind::kQueryRequest, txid, check), q};
}

protocol::Packet Ping(uint32_t txid, wire::CheckType check) {
  return {protocol::HeaderFor(wire::PacketKind::kPingRequest, txid, check),
          protocol::PingRequest{}};
}

protocol::QueryEntry Want(uint16_t resource, uint32_t max_price, uint8_t unit,
                          uint32_t min_quantity) {
  protocol::QueryEntry e;
  e.resource = resource;
  e.unit = unit;
  e.max_price = max_price;
  e.min_quantity = min_quantity;
  return e;
}

std::vector<std::byte> Bytes(const protocol::Packet& packet,
                             const protocol::Ed25519Key* signer) {
  std::vector<std::byte> bytes = protocol::Encode(packet, signer);
  if (bytes.empty()) throw std::runtime_error("test packet does not encode");
  return bytes;
}

protocol::Ed25519Key KeyFromByte(uint8_t b) {
  protocol::Ed25519Seed seed{};
  seed.fill(b);
  return std::move(*protocol::Ed25519Key::FromSeed(seed));
}

const protocol::EntryResults& Results(const protocol::DecodeResult& answer) {
  static const protocol::EntryResults kNone;
  if (const auto* r =
          std::get_if<protocol::RegisterAnswer>(&answer.packet.body)) {
    return *r;
  }
  if (const auto* w =
          std::get_if<protocol::WithdrawAnswer>(&answer.packet.body)) {
    return *w;
  }
  ADD_FAILURE() << "not a register or withdraw answer";
  return kNone;
}

const protocol::QueryAnswer& Offers(const protocol::DecodeResult& answer) {
  static const protocol::QueryAnswer kNone;
  if (const auto* q = std::get_if<protocol::QueryAnswer>(&answer.packet.body)) {
    return *q;
  }
  ADD_FAILURE() << "not a query answer (status "
                << static_cast<int>(answer.packet.header.status) << ")";
  return kNone;
}

}  // namespace crsp::node::testing
