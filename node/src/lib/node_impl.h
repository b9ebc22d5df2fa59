// The Node implementation: state shared by the request handlers (one file
// per request kind: ping.cc, register.cc, withdraw.cc, query.cc) and the
// start-up, tick and shutdown paths (node_impl.cc).
//
// Locking: one mutex guards every table. It is never held while calling the
// DHT (InMemoryDht calls back inline) nor while calling a ReplyFn.
#ifndef CRSP_NODE_NODE_IMPL_H_
#define CRSP_NODE_NODE_IMPL_H_

#include <condition_variable>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "answer_cache.h"
#include "crsp/node/node.h"
#include "crsp/protocol/codec.h"
#include "crsp/protocol/ed25519.h"
#include "journal.h"
#include "local_offers.h"
#include "node_metrics.h"
#include "offer_index.h"
#include "rate_limiter.h"

namespace crsp::node {

// Seconds a register or withdraw waits for the DHT before its pending
// entries are answered STORAGE_FAILED: inside the 7.5 s a client retries
// (500 ms doubling, 4 tries), with room for a slow (sanitized, loaded) node.
inline constexpr uint64_t kPublishTimeoutSec = 5;
// A query that needs a cold fetch is answered within kColdFetchDeadline with
// what arrived by then. The fetch could go on in the background up to
// kColdFetchLimit; it does not (equal deadlines): a fetch that completes
// late makes the resource id warm, and from then on the node relies on
// listens and re-reads alone, which on a loaded 20-node cluster lost
// offers (docs/node.md "Index warming"). An incomplete fetch is started
// again by the next query.
inline constexpr std::chrono::milliseconds kColdFetchDeadline{1500};
inline constexpr std::chrono::milliseconds kColdFetchLimit{1500};
// What queries may make the node do in the DHT, so that queries for many
// (e.g. random private-use) resource ids cannot grow it without bound. A
// cold fetch leaves an OpenDHT search per key and address family, kept 62
// minutes (Dht::SEARCH_EXPIRE_TIME), and a watch keeps its listens' searches
// for good: a few MB per resource id. So the node fetches and watches every
// standard resource id it is asked about, and at most this many private-use
// ones (first come); a query for another private-use id is answered from
// what the node holds. At most kMaxColdFetches fetches run at once; past
// them a query is answered from what the node holds.
inline constexpr size_t kMaxPrivateResourceIds = 32;
inline constexpr size_t kMaxColdFetches = 8;
// Seconds between re-publications of records the DHT did not confirm.
inline constexpr uint64_t kRetryIntervalSec = 30;
inline constexpr size_t kAnswerCacheSize = 4096;
inline constexpr size_t kMaxRateSources = 65536;

// One request, as the handlers see it.
struct Request {
  std::vector<std::byte> datagram;  // owned: answers may come later
  Sender from;
  protocol::Ipv6Address prefix;  // SourcePrefix(from.address)
  protocol::DecodeResult decoded;
  ReplyFn reply;
};

class NodeImpl final : public Node {
 public:
  NodeImpl(const NodeConfig& config, NodeContext context,
           protocol::Ed25519Key key, std::unique_ptr<Journal> journal,
           const std::vector<JournalEntry>& replayed);
  ~NodeImpl() override;

  void HandleDatagram(std::span<const std::byte> datagram, const Sender& from,
                      ReplyFn reply) override;
  void Tick() override;
  void Shutdown(std::chrono::milliseconds timeout) override;
  protocol::PublicKey public_key() const override { return key_.public_key(); }
  size_t offer_count() const override;

  // Publishes every record of the journal again (start-up).
  void RepublishAll();

 private:
  // One record to store, and the answer entries that wait for it (a
  // resource listed twice in one request shares one record).
  struct Job {
    dht::OfferRecord record;
    std::vector<size_t> entries;
    bool done = false;
  };
  // A register or withdraw waiting for DHT confirmations.
  struct PendingWrite {
    Request request;
    protocol::EntryResults results;  // answer body, filled as jobs settle
    std::vector<Job> jobs;
    size_t outstanding = 0;
    bool settled = false;
    uint64_t started = 0;
    std::shared_ptr<CachedAnswer> cached;  // signed requests
    // Header status when no entry is answered (withdraw of nothing).
    wire::Status empty_status = wire::Status::kOk;
  };
  // A query waiting for cold fetches.
  struct ColdQuery {
    Request request;
    size_t outstanding = 0;  // fetches that have not answered yet
  };
  // A running cold fetch of one resource id up to a price bucket. Queries
  // that need no more than it wait for its answer (while it is answering)
  // or are answered from the index (while it goes on in the background)
  // instead of starting a fetch of their own.
  struct ColdFetch {
    uint32_t bucket = 0;
    bool answered = false;
    std::vector<std::shared_ptr<ColdQuery>> waiters;
  };

  void HandlePing(Request& request);
  void HandleRegister(Request& request);
  void HandleWithdraw(Request& request);
  void HandleQuery(Request& request);
  void AnswerQuery(Request& request);
  // Whether `resource` may be fetched and watched (kMaxPrivateResourceIds);
  // admits it when there is room. Called with mu_ held.
  bool AdmitResourceLocked(uint16_t resource);
  // Starts Watch and Fetch of `resource` up to `max_price` for `fetch`.
  void StartColdFetch(uint16_t resource, uint32_t max_price,
                      const std::shared_ptr<ColdFetch>& fetch);
  void OnColdAnswer(const std::shared_ptr<ColdFetch>& fetch,
                    const std::vector<dht::OfferRecord>& records);
  void OnColdMore(uint16_t resource, const std::shared_ptr<ColdFetch>& fetch,
                  const std::vector<dht::OfferRecord>& records,
                  dht::Dht::FetchProgress progress);

  // Shared by register and withdraw, called with `lock` held: the budget for
  // the largest answer, require_signed, ownership and replay. Returns false
  // when the request got its answer (refused, rate limited or a resend);
  // `lock` is then released. Sets `cached` for a signed request to go on.
  bool AdmitWrite(std::unique_lock<std::mutex>& lock, Request& request,
                  const protocol::DeviceId& device, size_t max_entries,
                  std::shared_ptr<CachedAnswer>* cached);
  // Journals `jobs`' records, applies them, publishes them; answers once all
  // settled. Called with `lock` held; releases it.
  void CommitAndPublish(std::unique_lock<std::mutex>& lock,
                        std::shared_ptr<PendingWrite> op);
  // Once the journal synced `op`'s records: publishes them (or, when the
  // sync failed, answers STORAGE_FAILED). Called with `lock` held; releases
  // it.
  void PublishSynced(std::unique_lock<std::mutex>& lock,
                     const std::shared_ptr<PendingWrite>& op, bool synced);
  // Answers every entry not settled yet STORAGE_FAILED and ends `op`.
  // Called with `lock` held; releases it.
  void FailAll(std::unique_lock<std::mutex>& lock, PendingWrite& op);
  void OnPublished(const std::shared_ptr<PendingWrite>& op, size_t job, bool ok,
                   uint16_t replicas);
  // Builds the answer of a settled op; returns the replies to call.
  std::vector<ReplyFn> FinishLocked(PendingWrite& op,
                                    std::vector<std::byte>* bytes);
  void Publish(const dht::OfferRecord& record);

  // Encodes an answer (signed for check type 7). Empty on failure.
  std::vector<std::byte> EncodeAnswer(const protocol::Packet& packet) const;
  // Sends a synchronous answer within the source's byte budget; over it, a
  // RATE_LIMITED answer no larger than the request, or nothing.
  // `charged`: the budget was taken on arrival (registers, withdraws).
  void Send(const Request& request, const protocol::Packet& answer,
            bool charged = false);
  void SendError(const Request& request, wire::Status status,
                 bool charged = false);
  void SendRateLimited(const Request& request);
  void LogRequest(const Request& request, wire::Status status) const;

  uint64_t Now() const { return clock_(); }

  const NodeConfig config_;
  const Clock clock_;
  const protocol::Ed25519Key key_;
  const uint64_t started_;
  const std::shared_ptr<NodeMetrics> metrics_;  // never null (NoMetrics)

  mutable std::mutex mu_;
  std::condition_variable idle_;
  std::unique_ptr<Journal> journal_;
  OfferIndex index_;
  LocalOffers local_;
  RateLimiter limiter_;
  AnswerCache cache_;
  // Highest price bucket per resource id whose keys are fetched and watched.
  std::map<uint16_t, uint32_t> warm_;
  std::map<uint16_t, uint32_t> watched_;
  // Private-use resource ids admitted to fetch and watch (at most
  // kMaxPrivateResourceIds, kept for good).
  std::set<uint16_t> private_ids_;
  // Running cold fetches by resource id (the widest one when several run).
  std::map<uint16_t, std::shared_ptr<ColdFetch>> fetching_;
  size_t cold_fetches_ = 0;  // running, at most kMaxColdFetches
  std::list<std::weak_ptr<PendingWrite>> pending_;
  size_t in_flight_ = 0;  // pending writes and cold queries
  // Records of pending writes not settled yet (Limits::max_pending_writes).
  size_t pending_records_ = 0;
  size_t retries_in_flight_ = 0;
  uint64_t last_retry_ = 0;
  bool stopping_ = false;
  bool dht_stopped_ = false;

  // Last member: destroyed first, so no DHT callback outlives the tables.
  std::unique_ptr<dht::Dht> dht_;
};

}  // namespace crsp::node

#endif  // CRSP_NODE_NODE_IMPL_H_
