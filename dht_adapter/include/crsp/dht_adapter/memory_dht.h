// Dht in memory: deterministic and synchronous, for unit tests and the
// node's fuzz target. Same key scheme (keys.h) and same filtering as
// OpenDhtDht: a stored or returned record must decode, verify
// (VerifyRecordSignature) and not be past valid_until by the injected clock.
// Rendezvous values (adverts, demands) are kept per resource and lapse
// kAdvertLifetime after their put by the same clock. One process is the
// whole DHT: no search, so GetRendezvous names no nodes unless a test
// says which (SetSearched).
// Every callback (done, seen, the OnDemand hook) runs inline, before the
// call returns.
// Thread-safe, but callbacks must not call back into the same instance
// from another thread while one is running.
#ifndef CRSP_DHT_ADAPTER_MEMORY_DHT_H_
#define CRSP_DHT_ADAPTER_MEMORY_DHT_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "crsp/dht_adapter/dht.h"

namespace crsp::dht {

class InMemoryDht final : public Dht {
 public:
  // Seconds since the Unix epoch.
  using Clock = std::function<uint64_t()>;

  // `now` defaults to the system clock.
  explicit InMemoryDht(Clock now = {}, protocol::NodeId node_id = {});

  // Stores under KeyFor(record.offer) (and under every key this instance
  // stored the same offer under before, like OpenDhtDht). done(true, 1), or
  // done(false, 0) when the store policy refuses the record, or after
  // SetFailPuts(true).
  void Publish(const OfferRecord& record, PutDone done) override;
  // Ignores the deadline: everything is already here (unless held:
  // HoldFetches).
  void Fetch(uint16_t resource, uint32_t max_price, FetchDeadlines deadlines,
             FetchDone answer, FetchMore more) override;
  // kListen: `seen` for every later accepted Publish or StoreRaw, as a
  // listen. kReread: only what is stored now, and at RunRereads.
  void Watch(uint16_t resource, uint32_t max_price, RecordSeen seen,
             WatchMode mode) override;
  // The values of `resource` not yet lapsed; `searched` is what
  // SetSearched set (empty unless a test set it).
  void GetRendezvous(uint16_t resource, RendezvousDone done) override;
  // done(false) for bytes that do not decode as a value of `resource`, and
  // after SetFailPuts(true) or Shutdown. A demand put runs the OnDemand
  // hook: this store is every node's.
  void PutRendezvous(uint16_t resource, std::vector<std::byte> value,
                     std::function<void(bool ok)> done) override;
  void OnDemand(
      std::function<void(const aggregator::Demand& demand)> demand) override;
  // Removes every watcher of `resource` (the Watches of every caller of
  // this instance).
  void Unwatch(uint16_t resource) override;
  // The resource's kListen watchers become kReread ones (RunRereads).
  void StopListening(uint16_t resource) override;
  // Ignores the deadline; complete.
  void FetchKeyOf(const protocol::Offer& offer,
                  std::chrono::milliseconds deadline, FetchDone done) override;
  // True only for addresses AddPeer added.
  bool IsPeer(const protocol::Ipv6Address& address) const override;
  DhtInfo Info() const override;
  void Shutdown(std::chrono::milliseconds timeout) override;

  // Test hooks.
  // Stores raw bytes under a key name as if a peer put them (another value
  // id each call); false when the store policy refuses them. Bytes that
  // decode as an advert or demand get the rendezvous policy (stored only
  // under their resource's rendezvous key; a demand runs the OnDemand
  // hook), any others the offer policy, as OpenDHT's value types would.
  bool StoreRaw(const std::string& key_name, std::span<const std::byte> bytes);
  // The nodes every GetRendezvous names as the ones its search ended on,
  // as if other nodes were closer to every rendezvous key.
  void SetSearched(std::vector<aggregator::SearchNode> nodes);
  // What Info reports as good peers (0 unless set: a lone node).
  void SetGoodPeers(uint32_t count);
  // Makes IsPeer true for `address` (IPv4 as ::ffff:a.b.c.d).
  void AddPeer(const protocol::Ipv6Address& address);
  // While held, GetRendezvous keeps its callback instead of running it, as
  // a read of the rendezvous key on a loaded host is late; releasing
  // (false) runs the kept ones, in order, with what is stored then.
  void HoldRendezvousReads(bool hold);
  // While held, Fetch keeps its callbacks instead of running them, as a
  // read of 1,408 keys on a loaded host takes seconds; releasing (false)
  // runs the kept ones, in order, with what is stored then. Watch's first
  // read of what is stored is never held.
  void HoldFetches(bool hold);
  // Runs every kReread watcher with every record stored under its keys, as
  // OpenDhtDht's re-reads of such a watch would.
  void RunRereads();
  // Makes every following Publish fail (done(false, 0)) until reset.
  void SetFailPuts(bool fail);
  // Values stored right now, offers and rendezvous values (expired and
  // lapsed ones are dropped first).
  size_t StoredValues() const;

 private:
  struct Watcher {
    uint16_t resource;
    uint32_t max_bucket;
    RecordSeen seen;
    WatchMode mode;
  };
  struct DeviceResource {
    protocol::DeviceId device;
    uint16_t resource;
    auto operator<=>(const DeviceResource&) const = default;
  };
  // key name -> value id -> encoded record
  using Store =
      std::map<std::string, std::map<uint64_t, std::vector<std::byte>>>;

  struct StoredRendezvous {
    aggregator::RendezvousValue value;
    uint64_t lapses_at = 0;  // unix seconds: gone from then on
  };

  bool Accept(const std::string& key_name, std::span<const std::byte> bytes,
              uint64_t now) const;
  // Stores an accepted rendezvous value; runs the demand hook for a demand.
  void StoreRendezvous(const aggregator::RendezvousValue& value);
  void DropExpiredLocked(uint64_t now) const;
  // The accepted records of `resource` up to `max_price`'s bucket.
  std::vector<OfferRecord> Read(uint16_t resource, uint32_t max_price) const;
  std::vector<RecordSeen> WatchersOfLocked(const std::string& key_name) const;

  Clock now_;
  protocol::NodeId node_id_;
  mutable std::mutex mu_;
  mutable Store store_;
  std::map<DeviceResource, std::vector<std::string>> published_keys_;
  std::vector<Watcher> watchers_;
  // resource -> value id -> value
  mutable std::map<uint16_t, std::map<uint64_t, StoredRendezvous>> rendezvous_;
  std::function<void(const aggregator::Demand&)> on_demand_;
  std::set<protocol::Ipv6Address> peers_;
  uint32_t good_peers_ = 0;
  std::vector<aggregator::SearchNode> searched_;
  uint64_t next_rendezvous_id_ = 1;
  uint64_t next_raw_id_ = 1;
  bool fail_puts_ = false;
  bool shut_down_ = false;
  bool hold_rendezvous_reads_ = false;
  std::vector<std::pair<uint16_t, RendezvousDone>> held_reads_;
  struct HeldFetch {
    uint16_t resource;
    uint32_t max_price;
    FetchDone answer;
    FetchMore more;
  };
  bool hold_fetches_ = false;
  std::vector<HeldFetch> held_fetches_;
};

}  // namespace crsp::dht

#endif  // CRSP_DHT_ADAPTER_MEMORY_DHT_H_
