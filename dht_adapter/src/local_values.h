// LocalValues: the offer values this node's own OpenDHT store holds, found
// by key and value id, so that a read can take them from here instead of
// asking every replica for every value (docs/storage.md "Reading a key").
#ifndef CRSP_DHT_ADAPTER_SRC_LOCAL_VALUES_H_
#define CRSP_DHT_ADAPTER_SRC_LOCAL_VALUES_H_

#include <opendht/infohash.h>
#include <opendht/value.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace crsp::dht::internal {

// Weak references to the values OpenDHT stores: the entries cost ~64 bytes
// each and never keep a value alive; one whose value OpenDHT dropped
// (expired, replaced) is found as absent and pruned later. Filled from the
// store and edit policies (values stored for other nodes) and from Publish
// (this node's own, which OpenDHT stores locally). Thread-safe: the policies
// run on OpenDHT's thread, reads on the adapter's task thread.
//
// A value found here is one OpenDHT stored under that key with that id; its
// bytes are checked again by whoever reads it (AcceptValue), as a value from
// the network is.
class LocalValues {
 public:
  // Past this many entries (after a prune) Remember drops new ones: a read
  // that misses one asks the network for the key's values, as without it.
  static constexpr size_t kMaxValues = size_t{1} << 18;

  void Remember(const ::dht::InfoHash& key,
                const std::shared_ptr<::dht::Value>& value);

  // The value stored here under `key` with id `id`, or null.
  std::shared_ptr<::dht::Value> Find(const ::dht::InfoHash& key,
                                     uint64_t id) const;

  // Forgets the entries whose value is gone. O(entries).
  void Prune();

  size_t size() const;

 private:
  struct Slot {
    uint64_t key;  // the key's first 8 bytes
    uint64_t id;
    bool operator==(const Slot& other) const {
      return key == other.key && id == other.id;
    }
  };
  struct SlotHash {
    size_t operator()(const Slot& s) const {
      return std::hash<uint64_t>()(s.key ^ (s.id * 0x9e3779b97f4a7c15ULL));
    }
  };
  static Slot SlotOf(const ::dht::InfoHash& key, uint64_t id);
  void PruneLocked();

  mutable std::mutex mu_;
  std::unordered_map<Slot, std::weak_ptr<::dht::Value>, SlotHash> values_;
  bool full_ = false;  // pruned at the bound and still full
};

}  // namespace crsp::dht::internal

#endif  // CRSP_DHT_ADAPTER_SRC_LOCAL_VALUES_H_
