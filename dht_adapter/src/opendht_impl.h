// The state behind OpenDhtDht, shared by its four files: opendht_dht.cc
// (start, publish, info, shutdown), opendht_reads.cc (Fetch, FetchKeyOf,
// Watch, Unwatch and the paced listens), opendht_refresh.cc (refreshing
// peers, re-reading watched keys) and opendht_rendezvous.cc (the aggregator
// roles' rendezvous values, the demand hook, IsPeer). Private to the
// adapter.
#ifndef CRSP_DHT_ADAPTER_OPENDHT_IMPL_H_
#define CRSP_DHT_ADAPTER_OPENDHT_IMPL_H_

#include <opendht.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "crsp/dht_adapter/aggregator_role.h"
#include "crsp/dht_adapter/opendht_dht.h"
#include "peer_book.h"
#include "task_thread.h"

namespace crsp::dht {
namespace internal {

using ::dht::InfoHash;
using ValuePtr = std::shared_ptr<::dht::Value>;

// A failed put confirmation while peers exist is put again at once, then
// after 200 ms, 400 ms, ... up to 1 s apart, until put_timeout ends the put.
// At once, because the first failure is mostly not the network's: when a
// put stores the first value under a key this node is not among the 8
// closest to, OpenDHT 2.4.12's storage maintenance (`maintainStorage`, run
// in the same loop turn) announces that stored value itself, with no
// callback and not permanent; `Search::put` then calls our pending callback
// with false and makes the announce non-permanent. The re-put hands the
// announce our callback and permanence back (docs/storage.md "Permanent
// puts and OpenDHT's storage maintenance"). Waiting 200 ms first made most
// registrations at a 20-node cluster take 404 ms.
constexpr int kMaxRetryStepFactor = 5;
constexpr std::chrono::milliseconds kPutRetryStep{200};
// The user type of every offer value.
constexpr std::string_view kOfferUserType = "crsp/offer";
// The pace of a re-read of watched keys: gets started per second, and at
// most this many at once. A watch without price limit is 1,408 keys, so a
// re-read of one resource id takes about 44 s and adds about 32 gets/s.
constexpr size_t kSweepGetsPerSecond = 32;
constexpr size_t kSweepParallelism = 8;
// A kListenWhereLarge Watch listens on a key this node stores at least
// this many values of: OpenDHT 2.4.12's get pages (two datagrams per value
// and node), while a get of a key whose listen is synced is answered from
// the listen's cache. Listening on every key of an id made the 20-node
// long test 2-6x slower, and a listen hole let one aggregator turn warm
// without an offer (docs/scaling.md "Warm-up listens").
constexpr size_t kListenMinValues = 16;
// Listens are handed to OpenDHT this many at a time, this far apart.
// DhtRunner runs every queued call before it reads the packets that came
// meanwhile, and drops those that waited over 650 ms (RX_QUEUE_MAX_DELAY):
// a Watch of 1,408 keys queued at once kept the DHT thread busy for over a
// second, and the answers to the same query's gets were lost.
constexpr size_t kListensPerBatch = 64;
constexpr std::chrono::milliseconds kListenBatchPause{20};
// A new Watch's keys are read again this long after its listens start.
constexpr std::chrono::milliseconds kWatchSettleTime{5000};
// Listen holes (docs/storage.md "Listen holes"). A storing node sends a
// new listener the values it holds, and every later value, each in one
// UDP datagram that is never sent again; OpenDHT then answers every get of
// the key from the listen's cache. A lost datagram is a hole that no get
// and no listen refresh fills. A re-read's query (value ids, which no
// listen answers) that finds an id the key's listen and reads never
// delivered, and still not kHoleGrace later (a new value's notification
// may be on its way), is a hole: the listen is cancelled and started again
// after kRelistenDelay, since OpenDHT keeps a cancelled listen's cache
// (OpCache::EXPIRATION, 60 s) and a listen started before then reuses it.
// The new listen's storing nodes send every value again.
constexpr std::chrono::milliseconds kHoleGrace{5000};
constexpr std::chrono::milliseconds kRelistenDelay{65000};
// IsPeer's book (peer_book.h): addresses per generation, and how long a
// generation lasts. A node reads an id's adverts from the nodes closest to
// its rendezvous key, which are the id's aggregators, at most 60 s before
// it pushes or forwards to them; 10 minutes leaves room.
constexpr size_t kPeerBookCapacity = 16384;
constexpr std::chrono::minutes kPeerBookGeneration{10};

// The whole store and read policy for one OpenDHT value (docs/storage.md
// "Store policy"): one of our types, not signed or signed with a valid
// signature, and a record that AcceptRecord takes, under a key it may live
// under.
std::optional<OfferRecord> AcceptValue(const InfoHash& key,
                                       const ValuePtr& value, uint64_t now);

// The edit policy: true when `next` may replace `stored` (same key, same
// value id): `next` passes AcceptValue and either `stored` does not decode
// or Supersedes(stored, next) holds (version_order.h).
bool AcceptEdit(const InfoHash& key, const ValuePtr& stored,
                const ValuePtr& next, uint64_t now);

// The rendezvous type's store and read policy (docs/scaling.md): a value of
// kRendezvousValueType, not signed or signed with a valid signature, whose
// data DecodeRendezvousValue takes, under the rendezvous key of the
// resource it names. The decoded value, or empty.
std::optional<aggregator::RendezvousValue> AcceptRendezvous(
    const InfoHash& key, const ValuePtr& value);

// IPv6 bytes of an OpenDHT address, IPv4 as ::ffff:a.b.c.d; empty for any
// other family.
std::optional<protocol::Ipv6Address> AddressBytes(const ::dht::SockAddr& addr);

// One Publish: `done` runs exactly once, from whichever of the put callback
// and the timeout comes first. Owned by Impl::put_deadlines until it
// finishes or its deadline passes; every callback handed to OpenDHT holds
// it weakly, since OpenDHT may keep a put's callback as long as the
// announce lives (an IPv4 search with no IPv4 node), which for a
// permanent put is for good.
struct PutOp {
  Dht::PutDone done;
  std::atomic<bool> finished{false};
  std::chrono::steady_clock::time_point started;
  std::chrono::steady_clock::time_point deadline;
  DhtMetrics* metrics = nullptr;  // the Impl's, which outlives every op
  InfoHash key;                   // the primary key
  ValuePtr value;                 // one object, shared with OpenDHT's announce
  // What the put's callback calls (with the number of nodes that stored
  // the value). That callback captures only a weak pointer to this op, so
  // what OpenDHT keeps of it is no allocation of ours.
  std::function<void(bool ok, size_t nodes)> on_put_done;
  // Puts the primary key's value (again). A fresh node's first put can
  // fail at once while its peers are still being confirmed (seen on
  // loopback: the IPv4 search expires, the IPv6 one is just starting), so
  // a failure with good peers is retried until put_timeout.
  std::function<void()> put_primary;
  int attempts = 1;  // puts of the primary key so far
  void Finish(bool ok, size_t replicas, bool timed_out = false) {
    if (finished.exchange(true)) return;
    metrics->Finished(DhtOp::kPut,
                      ok          ? DhtOutcome::kOk
                      : timed_out ? DhtOutcome::kTimedOut
                                  : DhtOutcome::kFailed,
                      std::chrono::steady_clock::now() - started);
    done(ok, static_cast<uint16_t>(std::min<size_t>(replicas, UINT16_MAX)));
    done = nullptr;
  }
};

// One Fetch: gets run `parallelism` at a time. `answer` runs once, when the
// last get finished or at the answer deadline; `more` after it, with what
// later gets read, last when the last get finished or at the finish
// deadline (`over`).
struct FetchOp {
  Dht::FetchDone answer;
  Dht::FetchMore more;
  uint16_t resource = 0;
  std::vector<InfoHash> keys;
  size_t next = 0;
  size_t outstanding = 0;
  bool answered = false;
  bool over = false;
  bool failed = false;               // a get's search reached no node
  std::vector<OfferRecord> records;  // until `answer` runs
  std::set<std::pair<uint64_t, ::dht::Blob>> seen;  // (value id, data)
};

// Keys under which this node stores offer values as a replica (the store
// policy adds them), with how many values it stored under each (capped).
// Fetch starts their gets first: OpenDHT answers a get from the local store
// before it searches, so what this node holds arrives at once even when
// every search meets a dead or paused peer (~1 s each, OPENDHT-NOTES.md),
// and in a cluster of up to 8 nodes that is everything. The count chooses
// which keys a kListenWhereLarge Watch listens on. Only an order and a
// hint: a key whose values expired keeps its count, and once kMaxKeys are
// known no more are added.
class StoredKeys {
 public:
  static constexpr size_t kMaxKeys = 1 << 17;  // ~10 MB at most
  static constexpr uint8_t kCountCap = 255;
  void Add(const InfoHash& key) {
    std::lock_guard lock(mu_);
    auto it = keys_.find(key);
    if (it != keys_.end()) {
      if (it->second < kCountCap) ++it->second;
    } else if (keys_.size() < kMaxKeys) {
      keys_.emplace(key, 1);
    }
  }
  // Values this node stored under `key` (0: none, or not tracked).
  size_t Count(const InfoHash& key) const {
    std::lock_guard lock(mu_);
    auto it = keys_.find(key);
    return it == keys_.end() ? 0 : it->second;
  }
  // Reorders `keys`: the stored ones first, each part in its old order.
  void StoredFirst(std::vector<InfoHash>& keys) const {
    std::lock_guard lock(mu_);
    std::stable_partition(keys.begin(), keys.end(), [this](const InfoHash& k) {
      return keys_.count(k) != 0;
    });
  }

 private:
  mutable std::mutex mu_;
  std::map<InfoHash, uint8_t> keys_;
};

struct Watcher {
  uint16_t resource;
  uint32_t max_bucket;
  Dht::RecordSeen seen;
};

struct ListenedKey {
  uint16_t resource;
  uint32_t bucket;
  // False for a kReread Watch's key: never listened on, only re-read.
  bool listen = true;
  // Which Watch added this entry: a listen handed to OpenDHT after an
  // Unwatch removed the entry (or after a new Watch replaced it) is
  // cancelled at once instead of kept without a token.
  uint64_t serial = 0;
  // OpenDHT's listen token, valid once PumpListens started the listen;
  // what Unwatch cancels.
  std::shared_future<size_t> token;
  // Ids of the values the listen and the reads delivered, sorted (every
  // value, ours or not): what a re-read's query is compared with.
  std::vector<uint64_t> delivered;
  void Delivered(uint64_t id) {
    auto at = std::lower_bound(delivered.begin(), delivered.end(), id);
    if (at == delivered.end() || *at != id) delivered.insert(at, id);
  }
};

// A key a Watch added, waiting for PumpListens.
struct QueuedListen {
  InfoHash key;
  uint64_t serial;  // its ListenedKey's
  std::chrono::steady_clock::time_point since;
};

// One GetRendezvous. Touched on the task thread only: OpenDHT's callbacks
// post there, and so does its deadline.
struct RendezvousGetOp {
  Dht::RendezvousDone done;
  uint16_t resource = 0;
  InfoHash key;
  bool finished = false;
  std::vector<aggregator::RendezvousValue> values;
  void Finish(std::vector<aggregator::SearchNode> searched) {
    if (finished) return;
    finished = true;
    done(std::move(values), std::move(searched));
    done = nullptr;
  }
};

struct Published {
  std::vector<InfoHash> keys;  // every key this offer was put under
  uint64_t valid_until = 0;
  uint64_t version = 0;  // the newest version put
  uint64_t owner = 0;    // its OwnerFingerprint
  uint64_t id = 0;       // its value id (VersionValueId), 0 before any
};

}  // namespace internal

struct OpenDhtDht::Impl : std::enable_shared_from_this<Impl> {
  using InfoHash = internal::InfoHash;
  using ValuePtr = internal::ValuePtr;
  using PutOp = internal::PutOp;
  using FetchOp = internal::FetchOp;
  using Watcher = internal::Watcher;
  using ListenedKey = internal::ListenedKey;
  using QueuedListen = internal::QueuedListen;
  using Published = internal::Published;

  OpenDhtConfig config;
  DhtLogger logger;
  // Never null: a no-op DhtMetrics when none was given.
  std::shared_ptr<DhtMetrics> metrics;
  ::dht::DhtRunner runner;
  InfoHash node_id;
  std::atomic<bool> stopped{false};
  DhtInfo last_info;  // served after Shutdown

  // Unfinished puts in deadline order (put_timeout is the same for all):
  // ReapPuts fails the late ones and drops finished ones from the front.
  // One entry per put instead of a timer task each.
  std::mutex puts_mu;
  std::deque<std::shared_ptr<PutOp>> put_deadlines;

  std::mutex mu;
  std::map<std::pair<protocol::DeviceId, uint16_t>, Published> published;
  // No published offer expires before this (a lower bound), so that
  // SweepExpired walks `published` only when something is due.
  uint64_t next_expiry = UINT64_MAX;
  std::map<InfoHash, ListenedKey> listened;
  std::vector<Watcher> watchers;
  // Keys a Watch added that are not listened on yet (PumpListens), and
  // since when.
  std::deque<QueuedListen> listen_queue;
  // When Relisten last cancelled each key's listen, for kRelistenDelay
  // (QueueListenLocked); older entries are dropped as it runs.
  std::map<InfoHash, std::chrono::steady_clock::time_point> cancelled_at;
  bool listen_pump_running = false;
  uint64_t next_listen_serial = 1;

  // The demand hook (OnDemand). Its own lock: the store policy reads it on
  // OpenDHT's thread, which must never wait for `mu` (Info holds `mu`
  // while it calls DhtRunner's getters, which wait for that thread).
  std::mutex demand_mu;
  std::function<void(const aggregator::Demand&)> on_demand;
  // Rendezvous value ids: random, so that two nodes' values under one key
  // do not collide (a collision is an edit, which the type refuses).
  std::mutex ids_mu;
  std::mt19937_64 ids{std::random_device{}()};
  // Rendezvous puts are not counted: the metrics' puts are Publishes
  // (docs/metrics.md).
  DhtMetrics uncounted;

  // What IsPeer answers from: every DHT packet's source (PeerSocket).
  std::shared_ptr<internal::PeerBook> peer_book =
      std::make_shared<internal::PeerBook>(internal::kPeerBookCapacity,
                                           internal::kPeerBookGeneration);

  // Shared with the store policies OpenDHT holds (Fetch's order).
  std::shared_ptr<internal::StoredKeys> stored_keys =
      std::make_shared<internal::StoredKeys>();

  // Declared last: destroyed (stopped) before the runner it calls into.
  TaskThread tasks;

  void Log(DhtLogLevel level, const std::string& line) const {
    if (logger) logger(level, line);
  }

  // Runs `step(*this)` on the task thread after `delay`, unless the Impl is
  // gone by then (it holds only a weak reference). The periodic tasks
  // (SweepExpired, ReapPuts, Refresh, PumpListens) post themselves again
  // this way.
  template <class Step>
  void After(std::chrono::milliseconds delay, Step step) {
    tasks.PostAfter(delay, [weak = weak_from_this(), step = std::move(step)] {
      if (auto self = weak.lock()) step(*self);
    });
  }

  void Start(const OpenDhtConfig& cfg);
  // Sets `op`'s on_put_done and put_primary (a put of op->value under
  // op->key, retried as OnPutDone decides) and queues its deadline; the
  // caller then calls op->put_primary().
  void PreparePut(const std::shared_ptr<PutOp>& op, bool permanent);
  void OnPutDone(const std::shared_ptr<PutOp>& op, bool ok, size_t nodes);
  // Finishes `op` from one get of its key, filtered to its value's id:
  // `announced` (OpenDHT said so, naming no nodes), with the search's nodes
  // + 1; else (a node alone) with 1 if the local copy was read, or failed.
  void FinishFromRead(const std::shared_ptr<PutOp>& op, bool announced);
  // Runs a Fetch of `keys` (records of `resource` only).
  void StartFetch(uint16_t resource, std::vector<InfoHash> keys,
                  Dht::FetchDeadlines deadlines, Dht::FetchDone answer,
                  Dht::FetchMore more);
  void StartGets(const std::shared_ptr<FetchOp>& op);
  // At the answer deadline: answers with what arrived (once).
  void AnswerFetch(const std::shared_ptr<FetchOp>& op);
  // Every get finished (or the finish deadline passed, or the DHT stopped):
  // answers if not yet, then finishes (once).
  void EndFetch(const std::shared_ptr<FetchOp>& op, bool complete);
  // Reports the accepted values of `key` to its watchers. From a listen,
  // `listen_serial` is the entry's serial when the listen began: values of
  // a listen stopped since (StopListening, Unwatch, a relisten) are
  // dropped, so that after StopListening returns no listen reports a
  // record, however late OpenDHT runs the cancel; the re-reads bring them.
  // From a read, no serial.
  void OnValues(const InfoHash& key, const std::vector<ValuePtr>& values,
                std::optional<uint64_t> listen_serial = std::nullopt);
  // Drops the queued listens whose key has no entry any more, or one of
  // another serial (Unwatch, StopListening). REQUIRES: mu held.
  void DropStaleQueuedListensLocked();
  // Cancels listens handed to OpenDHT, each counted (ListenCancelled).
  void CancelListens(
      std::vector<std::pair<InfoHash, std::shared_future<size_t>>> started);
  // Hands the next kListensPerBatch queued keys to OpenDHT's listen, and
  // comes back after kListenBatchPause while keys are left.
  void PumpListens();
  // Every expiry_sweep_interval: stops re-announcing, under every key it
  // was put, the current value of each offer now past its valid_until.
  void SweepExpired();
  // Every 100 ms: finishes puts past their deadline (false) and forgets
  // finished ones at the front. `all`: finishes every one (shutdown).
  void ReapPuts(bool all);
  void Refresh(std::chrono::milliseconds next);
  // Listens on config.search_anchors keys, one in each equal slice of the
  // keyspace, that deliver nothing (OpenDhtConfig::search_anchors).
  void StartSearchAnchors();
  void OnPeerPing(const std::string& peer, bool ok);
  // `rewalk`: the sweep also walks the keys of this node's own offers (a
  // routing change: see SweepSoon).
  void SweepSoon(std::chrono::milliseconds delay, bool rewalk = false);
  // One get of watched `key` for the running sweep, its values reported
  // as a listen's (OnValues); the sweep goes on when it is done.
  void RereadGet(const InfoHash& key,
                 std::chrono::steady_clock::time_point now);
  void SweepNext();
  // A re-read's query found `found` under watched `key`: the ids its
  // listen never delivered are looked at again after kHoleGrace, and then
  // (`again`) any still missing make the key's listen start over
  // (Relisten).
  void CheckHoles(const InfoHash& key, std::vector<uint64_t> found, bool again);
  // Cancels `key`'s listen and queues a new one after kRelistenDelay.
  void Relisten(const InfoHash& key);
  // Queues the listen of `key` (its entry's `serial`), or, when Relisten
  // cancelled the key's listen less than kRelistenDelay ago (an Unwatch
  // and a Watch came meanwhile), once that much has passed: a listen
  // started sooner would reuse the cancelled one's cache, hole included.
  // True when queued now (the caller starts the pump).
  bool QueueListenLocked(const InfoHash& key, uint64_t serial,
                         std::chrono::steady_clock::time_point now);
  // Queues `key` (if its entry still has `serial`) after `delay`, and
  // starts the pump.
  void ListenAfter(const InfoHash& key, uint64_t serial,
                   std::chrono::milliseconds delay);
  uint32_t GoodPeers() const;
  // Registers kRendezvousValueType and its store policy (Start).
  void RegisterRendezvousType();
  // The store policy accepted a demand (on OpenDHT's thread): the hook
  // runs on the task thread.
  void DemandStored(aggregator::Demand demand);

  // The re-read of watched keys (Sweep*); touched on the task thread only.
  struct Sweep {
    // The watched keys (read: a get each, and a query too for a listened
    // one), then from `watched` on the keys of this node's offers that are
    // walked only (a query).
    std::vector<InfoHash> keys;
    std::vector<bool> listened;  // per watched key: ListenedKey::listen
    size_t watched = 0;
    size_t next = 0;
    size_t outstanding = 0;
    // Gets started in the current one-second window; paused: a task will
    // go on when the window ends.
    std::chrono::steady_clock::time_point window_start{};
    size_t window_gets = 0;
    bool paused = false;
  };
  std::unique_ptr<Sweep> sweep;
  bool sweep_again = false;
  bool sweep_scheduled = false;
  bool rewalk_next = false;  // the next sweep walks the offers' keys too
  std::chrono::steady_clock::time_point last_sweep{};
  uint32_t peers_low = 0;  // fewest good peers seen since the last sweep
  std::map<std::string, bool> peer_answered;  // by configured peer, last ping
};

}  // namespace crsp::dht

#endif  // CRSP_DHT_ADAPTER_OPENDHT_IMPL_H_
