// Dht in memory: deterministic and synchronous, for unit tests and the
// node's fuzz target. Same key scheme (keys.h) and same filtering as
// OpenDhtDht: a stored or returned record must decode, verify
// (VerifyRecordSignature) and not be past valid_until by the injected clock.
// Every callback (done, seen) runs inline, before the call returns.
// Thread-safe, but callbacks must not call back into the same instance
// from another thread while one is running.
#ifndef CRSP_DHT_ADAPTER_MEMORY_DHT_H_
#define CRSP_DHT_ADAPTER_MEMORY_DHT_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <span>
#include <string>
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
  // Ignores the deadline: everything is already here.
  void Fetch(uint16_t resource, uint32_t max_price, FetchDeadlines deadlines,
             FetchDone answer, FetchMore more) override;
  void Watch(uint16_t resource, uint32_t max_price, RecordSeen seen) override;
  DhtInfo Info() const override;
  void Shutdown(std::chrono::milliseconds timeout) override;

  // Test hooks.
  // Stores raw bytes under a key name as if a peer put them (another value
  // id each call); false when the store policy refuses them.
  bool StoreRaw(const std::string& key_name, std::span<const std::byte> bytes);
  // Makes every following Publish fail (done(false, 0)) until reset.
  void SetFailPuts(bool fail);
  // Values stored right now (expired ones are dropped first).
  size_t StoredValues() const;

 private:
  struct Watcher {
    uint16_t resource;
    uint32_t max_bucket;
    RecordSeen seen;
  };
  struct DeviceResource {
    protocol::DeviceId device;
    uint16_t resource;
    auto operator<=>(const DeviceResource&) const = default;
  };
  // key name -> value id -> encoded record
  using Store =
      std::map<std::string, std::map<uint64_t, std::vector<std::byte>>>;

  bool Accept(const std::string& key_name, std::span<const std::byte> bytes,
              uint64_t now) const;
  void DropExpiredLocked(uint64_t now) const;
  std::vector<RecordSeen> WatchersOfLocked(const std::string& key_name) const;

  Clock now_;
  protocol::NodeId node_id_;
  mutable std::mutex mu_;
  mutable Store store_;
  std::map<DeviceResource, std::vector<std::string>> published_keys_;
  std::vector<Watcher> watchers_;
  uint64_t next_raw_id_ = 1;
  bool fail_puts_ = false;
  bool shut_down_ = false;
};

}  // namespace crsp::dht

#endif  // CRSP_DHT_ADAPTER_MEMORY_DHT_H_
