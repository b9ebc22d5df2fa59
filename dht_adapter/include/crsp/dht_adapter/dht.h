// The interface through which the node uses the DHT. OpenDHT types never
// appear here: opendht_dht.h implements it on a DhtRunner, memory_dht.h in
// memory for unit tests and fuzzing.
//
// Callbacks may run on a DHT thread; implementations call each `done`
// exactly once, and never while holding a lock the caller could need.
#ifndef CRSP_DHT_ADAPTER_DHT_H_
#define CRSP_DHT_ADAPTER_DHT_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "crsp/dht_adapter/aggregator_role.h"
#include "crsp/dht_adapter/offer_record.h"
#include "crsp/protocol/packets.h"

namespace crsp::dht {

struct DhtInfo {
  protocol::NodeId node_id{};
  uint32_t good_peers = 0;
  uint32_t dubious_peers = 0;  // known, not heard from lately
  uint32_t stored_values = 0;  // values this node stores for the DHT
};

class Dht {
 public:
  using PutDone = std::function<void(bool ok, uint16_t replicas)>;
  // `complete`: every key answered in time (else `records` holds only what
  // arrived).
  using FetchDone =
      std::function<void(std::vector<OfferRecord> records, bool complete)>;
  // A Fetch answers by `answer_by` with what arrived by then; reads still
  // running go on in the background until `finish_by`, so that a slow DHT
  // still delivers every key once (a caller that asked again would start
  // over from the first key).
  struct FetchDeadlines {
    std::chrono::milliseconds answer_by;
    std::chrono::milliseconds finish_by;
  };
  // After a Fetch answered: kReading with records read since, as they
  // arrive; then once kComplete (every key answered) or kIncomplete (the
  // finish deadline passed, or the DHT stopped), the last call.
  enum class FetchProgress { kReading, kComplete, kIncomplete };
  using FetchMore = std::function<void(std::vector<OfferRecord> records,
                                       FetchProgress progress)>;
  using RecordSeen = std::function<void(const OfferRecord& record)>;
  // How a Watch learns of new records. kListen: an OpenDHT listen per key
  // (a notification from every replica of every put, ~3 datagrams per
  // replica). kReread: no listen; the keys are read again kRereadSettle
  // after the Watch and then at the implementation's re-read times, and
  // new records are expected to be pushed to the watcher by their writer
  // (docs/scaling.md "Pushed records"). kListenWhereLarge: kListen for the
  // keys this node stores many values of (where OpenDHT's get pages
  // through them one by one), kReread for the others (docs/scaling.md
  // "Warm-up listens").
  enum class WatchMode { kListen, kReread, kListenWhereLarge };

  virtual ~Dht() = default;

  // Stores one version of an offer under its key (docs/storage.md) and keeps
  // it in the DHT until offer.valid_until. `done(true, n)` only once n >= 1
  // nodes confirmed it (a node alone counts itself).
  virtual void Publish(const OfferRecord& record, PutDone done) = 0;

  // Every record stored under the keys of `resource` whose price bucket can
  // hold prices <= max_price. Records that fail DecodeRecord,
  // VerifyRecordSignature or are expired are dropped. `answer` runs once:
  // when every key answered (complete) or at `deadlines.answer_by` with what
  // arrived by then. `more` runs after it (see FetchProgress) with what
  // arrives later, until every key answered or `deadlines.finish_by`; its
  // last call is kComplete at once when `answer` was complete.
  virtual void Fetch(uint16_t resource, uint32_t max_price,
                     FetchDeadlines deadlines, FetchDone answer,
                     FetchMore more) = 0;

  // From now on, calls `seen` for every valid record that arrives under the
  // keys of `resource` up to max_price (idempotent per key: a key keeps the
  // mode of the first Watch that named it), as `mode` learns of them.
  virtual void Watch(uint16_t resource, uint32_t max_price, RecordSeen seen,
                     WatchMode mode) = 0;

  // --- Aggregator roles (docs/scaling.md) -------------------------------
  // Every value under the rendezvous key of `resource`
  // (aggregator::RendezvousKeyName), decoded, and the nodes the search
  // ended on (OpenDHT's get done callback), not expired, closest to the
  // key first, this node excluded; IPv4 addresses as ::ffff:a.b.c.d.
  // Values that do not decode, or name another resource, are dropped.
  // `done` runs once, on a DHT thread (or inline for InMemoryDht).
  using RendezvousDone =
      std::function<void(std::vector<aggregator::RendezvousValue> values,
                         std::vector<aggregator::SearchNode> searched)>;
  virtual void GetRendezvous(uint16_t resource, RendezvousDone done) = 0;
  // Puts an encoded advert or demand under the rendezvous key of
  // `resource` with the rendezvous value type (expiration
  // aggregator::kAdvertLifetime), not permanent; a fresh value id each
  // call. `done(ok)` once; false at once for bytes that do not decode as a
  // value of `resource` (every storer would refuse them).
  virtual void PutRendezvous(uint16_t resource, std::vector<std::byte> value,
                             std::function<void(bool ok)> done) = 0;
  // From now on, `demand` runs for every demand this node accepts to
  // store under a rendezvous key (the rendezvous type's store policy, on
  // the storing node). OpenDhtDht: a node's own put skips its own policy,
  // so the demands a node puts reach the other storers' hooks, not its
  // own; InMemoryDht, one store for everyone, runs it for every demand.
  // Set once, before Start/use; runs on a DHT thread and must not block.
  virtual void OnDemand(
      std::function<void(const aggregator::Demand& demand)> demand) = 0;
  // Cancels every Watch of `resource` (every listen on its keys); records
  // arriving after it returns are not reported. Watch may be called again.
  virtual void Unwatch(uint16_t resource) = 0;
  // The kListen Watches of `resource` stop listening: from now on their
  // keys are watched as kReread keys are (re-reads, the first one
  // OpenDhtConfig::reread_settle from now); once it returns no listen
  // reports a record, only the re-reads do. Idempotent; a later Watch
  // keeps a key's mode (now kReread). For an aggregator that listened
  // while it read its id once (docs/scaling.md "Warm-up listens").
  virtual void StopListening(uint16_t resource) = 0;
  // Every valid record (as Fetch filters them) stored under the one key
  // where `offer` lives (KeyFor(offer)); `done(records, complete)` once,
  // by `deadline`. For re-verifying a forwarded answer's signed offers.
  virtual void FetchKeyOf(const protocol::Offer& offer,
                          std::chrono::milliseconds deadline,
                          FetchDone done) = 0;
  // Whether `address` (IPv6 bytes; IPv4 as ::ffff:a.b.c.d) is the
  // address of a DHT node that sent this node a DHT packet lately (not
  // only the routing table's nodes: Kademlia keeps a few dozen of a large
  // network's). Cheap: called for every node-to-node message.
  virtual bool IsPeer(const protocol::Ipv6Address& address) const = 0;

  virtual DhtInfo Info() const = 0;

  // Stops the DHT; blocks at most `timeout`.
  virtual void Shutdown(std::chrono::milliseconds timeout) = 0;
};

}  // namespace crsp::dht

#endif  // CRSP_DHT_ADAPTER_DHT_H_
