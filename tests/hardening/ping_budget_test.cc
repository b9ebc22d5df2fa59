// A flood of pings past the answer budget costs the node no DHT work: the
// budget is checked before the ping asks the DHT for its numbers (which, on
// OpenDHT, waits for the DHT's thread). Over InMemoryDht with a counter.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <memory>

#include "crsp/dht_adapter/memory_dht.h"
#include "crsp/node/node.h"
#include "crsp/protocol/codec.h"
#include "node_process.h"

namespace crsp::testing {
namespace {

// InMemoryDht that counts Info() calls.
class CountingDht final : public dht::Dht {
 public:
  explicit CountingDht(std::shared_ptr<std::atomic<int>> infos)
      : infos_(std::move(infos)) {}
  void Publish(const dht::OfferRecord& r, PutDone done) override {
    inner_.Publish(r, std::move(done));
  }
  void Fetch(uint16_t resource, uint32_t max_price, FetchDeadlines deadlines,
             FetchDone answer, FetchMore more) override {
    inner_.Fetch(resource, max_price, deadlines, std::move(answer),
                 std::move(more));
  }
  void Watch(uint16_t resource, uint32_t max_price, RecordSeen seen,
             WatchMode mode) override {
    inner_.Watch(resource, max_price, std::move(seen), mode);
  }
  void GetRendezvous(uint16_t resource, RendezvousDone done) override {
    inner_.GetRendezvous(resource, std::move(done));
  }
  void PutRendezvous(uint16_t resource, std::vector<std::byte> value,
                     std::function<void(bool ok)> done) override {
    inner_.PutRendezvous(resource, std::move(value), std::move(done));
  }
  void OnDemand(
      std::function<void(const dht::aggregator::Demand&)> demand) override {
    inner_.OnDemand(std::move(demand));
  }
  void Unwatch(uint16_t resource) override { inner_.Unwatch(resource); }
  void StopListening(uint16_t resource) override {
    inner_.StopListening(resource);
  }
  void FetchKeyOf(const protocol::Offer& offer,
                  std::chrono::milliseconds deadline, FetchDone done) override {
    inner_.FetchKeyOf(offer, deadline, std::move(done));
  }
  bool IsPeer(const protocol::Ipv6Address& address) const override {
    return inner_.IsPeer(address);
  }
  dht::DhtInfo Info() const override {
    ++*infos_;
    return inner_.Info();
  }
  void Shutdown(std::chrono::milliseconds timeout) override {
    inner_.Shutdown(timeout);
  }

 private:
  dht::InMemoryDht inner_;
  std::shared_ptr<std::atomic<int>> infos_;
};

TEST(PingBudget, PingsPastTheBudgetNeverAskTheDht) {
  TempDir dir;
  node::NodeConfig config;
  config.state_dir = dir.path();
  config.limits.answer_bytes_per_sec = 100;
  config.limits.answer_burst_bytes = 400;  // four ping answers of 84 bytes
  auto infos = std::make_shared<std::atomic<int>>(0);
  node::NodeContext context;
  context.dht = std::make_unique<CountingDht>(infos);
  context.clock = [] { return uint64_t{1'800'000'000}; };  // time stands
  auto node = node::Node::Create(config, std::move(context));

  const auto ping =
      protocol::Encode({protocol::HeaderFor(wire::PacketKind::kPingRequest, 1,
                                            wire::CheckType::kCrc32),
                        protocol::PingRequest{}});
  node::Sender from;
  from.address = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  int ok = 0, limited = 0;
  for (int i = 0; i < 1000; ++i) {
    node->HandleDatagram(ping, from, [&](std::vector<std::byte> answer) {
      const auto status = protocol::Decode(answer).packet.header.status;
      ok += status == wire::Status::kOk;
      if (status == wire::Status::kRateLimited) {
        ++limited;
        EXPECT_LE(answer.size(), ping.size());
      }
    });
  }
  EXPECT_EQ(ok, 4);
  EXPECT_EQ(limited, 996);
  // One Info() per served ping, none for the limited ones.
  EXPECT_EQ(infos->load(), ok);
  node->Shutdown(std::chrono::seconds(1));
}

}  // namespace
}  // namespace crsp::testing
