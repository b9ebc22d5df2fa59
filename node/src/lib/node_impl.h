// The Node implementation: the request handlers (one file per request
// kind: ping in node_impl.cc, register.cc, withdraw.cc, query.cc, and
// write_path.cc for what register and withdraw share) over the state of
// node_state.h, and the start-up, tick and shutdown paths (node_impl.cc).
//
// Handlers decide under a part's lock and act outside it: what they send
// and ask of the DHT goes through an Outbox (outbox.h), run once the locks
// are released. A function whose name ends in Locked runs with the lock
// its REQUIRES names held, and never releases it.
#ifndef CRSP_NODE_NODE_IMPL_H_
#define CRSP_NODE_NODE_IMPL_H_

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "crsp/node/node.h"
#include "crsp/protocol/codec.h"
#include "crsp/protocol/ed25519.h"
#include "crsp/protocol/peer_codec.h"
#include "node_metrics.h"
#include "node_state.h"
#include "outbox.h"
#include "timers.h"

namespace crsp::node {

// Seconds a register or withdraw waits for the DHT before its pending
// entries are answered STORAGE_FAILED: inside the 7.5 s a client retries
// (500 ms doubling, 4 tries), with room for a slow (sanitized, loaded) node.
inline constexpr uint64_t kPublishTimeoutSec = 5;
// A direct read answers its query within kColdFetchDeadline with what
// arrived by then: INCOMPLETE unless every key answered. An aggregator's
// warm-up, which nobody waits for, reads on for up to kWarmUpLimit: 1,408
// gets, 32 at a time, take tens of seconds on a loaded host, and a warm-up
// cut short at 8 s (as it was) started over from the first key at every
// tick and never turned warm (seen for minutes on a 20-node cluster). An
// incomplete warm-up is started again by the next tick.
inline constexpr std::chrono::milliseconds kColdFetchDeadline{1500};
inline constexpr std::chrono::milliseconds kWarmUpLimit{60000};
// What queries may make the node do in the DHT, so that queries for many
// (e.g. random private-use) resource ids cannot grow it without bound. A
// cold fetch leaves an OpenDHT search per key and address family, kept 62
// minutes (Dht::SEARCH_EXPIRE_TIME), and a watch keeps its listens' searches
// for good: a few MB per resource id. So the node fetches and watches every
// standard resource id it is asked about, and at most this many private-use
// ones (first come); a query for another private-use id is answered from
// what the node holds. A query starts its fetches while fewer than
// kMaxColdFetches run; past them it is answered from what the node holds.
// Either way such an answer is INCOMPLETE, never OK.
inline constexpr size_t kMaxPrivateResourceIds = 32;
inline constexpr size_t kMaxColdFetches = 8;
// Seconds between re-publications of records the DHT did not confirm.
inline constexpr uint64_t kRetryIntervalSec = 30;
inline constexpr size_t kAnswerCacheSize = 4096;
inline constexpr size_t kMaxRateSources = 65536;
// Aggregator roles (docs/scaling.md): an aggregated id nobody asked about
// for kIdleResignSec is given up; each is rechecked kFirstRecheckSec after
// its election, then at doubling intervals up to kRoleRecheckSec
// (RecheckAfter); a forwarded answer's signed offers are verified within
// kVerifyDeadline.
inline constexpr uint64_t kIdleResignSec = 3600;
inline constexpr uint64_t kRoleRecheckSec = 600;
inline constexpr uint64_t kFirstRecheckSec = 60;
// Seconds from the last role check (`checked`, unix s) to the next, for a
// role held since `since`: the role's age at that check, at least
// kFirstRecheckSec and at most kRoleRecheckSec. Most elections happen while
// a cluster's routing tables are young, when a node can rank itself among
// an id's closest for want of knowing closer ones; those extra aggregators
// (each ~7.4 datagrams on every registration of the id) resign at the
// first recheck that meets the closer nodes, within minutes.
constexpr uint64_t RecheckAfter(uint64_t since, uint64_t checked) {
  const uint64_t age = checked > since ? checked - since : 0;
  return std::min(kRoleRecheckSec, std::max(kFirstRecheckSec, age));
}
inline constexpr std::chrono::milliseconds kVerifyDeadline{1500};
// How long a query waits for an id's adverts before it is read directly,
// and how long fewer adverts than aggregators are kept before they are
// read again (kAdvertCache when there are enough). A query that finds
// adverts, however old, is forwarded at once and the read runs beside it.
// A direct read, unlike an answer from the index alone, has the records
// this node stores as a DHT replica at once, whatever the load.
inline constexpr std::chrono::milliseconds kAdvertsDeadline{1000};
inline constexpr uint64_t kFewAdvertsCacheSec = 1;
// A direct read of one id answers the next pages (cursor > 0) of queries
// for it for kPageSnapshotSec, from what it read: a buyer paging through
// an id nobody aggregates yet gets each page at once, not after another
// read of up to 1,408 keys, and pages of one read never skip or repeat an
// offer. The first page always reads again. At most kMaxSnapshotRecords
// records are kept in all (~250 bytes each); a larger read is not kept.
inline constexpr uint64_t kPageSnapshotSec = 10;
inline constexpr size_t kMaxSnapshotRecords = 50000;
// An aggregator that answered RATE_LIMITED (over its budget for this
// node) is tried after the others for this long; it is busy, not dead.
inline constexpr uint64_t kBusyAggregatorSec = 1;
// Pushed records (docs/scaling.md "Pushed records"): a push not acked is
// sent again after kPushTimeout, kPushTries times in all; then that
// aggregator is skipped for kAdvertCache and the record reaches it by its
// next re-read. A record goes to at most kMaxPushTargets aggregators.
inline constexpr std::chrono::milliseconds kPushTimeout{250};
inline constexpr uint32_t kPushTries = 3;
inline constexpr size_t kMaxPushTargets = 6;
inline constexpr size_t kMaxPushesInFlight = 4096;
inline constexpr size_t kMaxPushBacklog = 4096;
// A record pushed while its id had fewer than k usable aggregators known
// (an adverts read kept kFewAdvertsCacheSec) is pushed again, this long
// after, to the aggregators a new adverts read then finds: one elected
// just then may have read the record's key before it was stored, and
// pushers did not know it yet. At most kMaxFollowUps records wait for it.
// (Writers with k aggregators known, kAdvertCache, are covered by the new
// aggregator's catch-up read, OpenDhtConfig::reread_settle.)
inline constexpr std::chrono::milliseconds kPushFollowUp{1500};
inline constexpr size_t kMaxFollowUps = 4096;
// An aggregator advertised warming (elected, its cold read running) answers
// INCOMPLETE; for this long after this node first saw it warming, that is
// no reason to demand more aggregators (they are on their way). Past it,
// it counts as not serving, as one that resigned: a demand.
inline constexpr uint64_t kWarmingPatienceSec = 120;

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
  void HandlePing(Request& request);
  void HandleRegister(Request& request);
  void HandleWithdraw(Request& request);
  void HandleQuery(Request& request);
  // The answer to `request` from the index: OK when ReadEverythingLocked,
  // else INCOMPLETE.
  protocol::Packet IndexAnswer(const Request& request) EXCLUDES(reads_.mu);

  // --- Queries (query.cc) ---------------------------------------------------
  // Whether `resource` may be fetched and watched (kMaxPrivateResourceIds);
  // admits it when there is room.
  bool AdmitResourceLocked(uint16_t resource) REQUIRES(reads_.mu);
  // Starts Watch and Fetch of `resource` up to `max_price` for `fetch`.
  void StartColdFetch(uint16_t resource, uint32_t max_price,
                      const std::shared_ptr<ColdFetch>& fetch)
      EXCLUDES(reads_.mu);
  void OnColdAnswer(const std::shared_ptr<ColdFetch>& fetch,
                    const std::vector<dht::OfferRecord>& records, bool complete)
      EXCLUDES(reads_.mu);
  void OnColdMore(uint16_t resource, const std::shared_ptr<ColdFetch>& fetch,
                  const std::vector<dht::OfferRecord>& records,
                  dht::Dht::FetchProgress progress) EXCLUDES(reads_.mu);
  // Whether `resource` is read and watched up to price bucket `bucket`.
  bool WarmLocked(uint16_t resource, uint32_t bucket) const REQUIRES(reads_.mu);
  // `resource` is read and watched up to price bucket `bucket`.
  void MarkWarmLocked(uint16_t resource, uint32_t bucket) REQUIRES(reads_.mu);
  // Whether every entry of `query` is warm, so that its answer is exact.
  bool ReadEverythingLocked(const protocol::QueryRequest& query) const
      REQUIRES(reads_.mu);
  // Answers a running query (BeginQuery) for ids this node aggregates, not
  // warm yet, from the index: once the warm-up read every key the query
  // needs (OK), or at kColdFetchDeadline with what it read by then
  // (INCOMPLETE). The warm-up reads what a direct read would, and began
  // earlier: a second read of the same keys would only slow both.
  void AwaitWarmUp(Request request) EXCLUDES(agg_.mu, reads_.mu);
  // The waiting queries that `resource`'s warm-up (up to the bucket just
  // marked warm) now answers exactly, no longer waiting.
  std::vector<std::shared_ptr<WaitingQuery>> WarmedUpLocked(uint16_t resource)
      REQUIRES(reads_.mu);
  void DropWaiterLocked(const std::shared_ptr<WaitingQuery>& waiter)
      REQUIRES(reads_.mu);
  // Answers each untaken one of `waiters` from the index.
  void AnswerWaiters(const std::vector<std::shared_ptr<WaitingQuery>>& waiters)
      EXCLUDES(agg_.mu, reads_.mu);

  // --- Aggregator roles (aggregate.cc, docs/scaling.md) ---------------------
  // A demand for `resource`'s aggregators reached this node (it stores the
  // rendezvous key): if it is among the closest, it becomes one.
  void CheckRole(uint16_t resource, std::vector<protocol::NodeId> suspects)
      EXCLUDES(agg_.mu);
  // Starts aggregating `resource`: watch and read its keys up to price
  // bucket `first_bucket` (the asking query's: it is answered from the
  // index soonest), then every key; advertise once the whole id is warm.
  // False when the id may not be aggregated (private-use ids past
  // kMaxPrivateResourceIds).
  bool BecomeAggregator(uint16_t resource, uint32_t first_bucket)
      EXCLUDES(agg_.mu, reads_.mu);
  // Watches and reads `resource`'s keys up to `bucket` (nothing when a
  // read of it runs: OnResourceWarm follows that one).
  void WarmUp(uint16_t resource, uint32_t bucket) EXCLUDES(agg_.mu, reads_.mu);
  // Called when a cold fetch of `resource` completed: the rest of an
  // aggregated id is read, or the whole id turns warm and is advertised.
  void OnResourceWarm(uint16_t resource) EXCLUDES(agg_.mu, reads_.mu);
  void Advertise(uint16_t resource, uint64_t since) EXCLUDES(agg_.mu);
  // Puts a demand for `resource`'s aggregators (at most once per
  // kDemandInterval, unless it names suspects).
  void Demand(uint16_t resource, std::vector<protocol::NodeId> suspects)
      EXCLUDES(agg_.mu);
  // Adverts refreshed, idle ids resigned, unfinished warm-ups restarted.
  void TickAggregation(uint64_t now) EXCLUDES(agg_.mu, writes_.mu, reads_.mu);
  void Resign(uint16_t resource) EXCLUDES(agg_.mu, writes_.mu, reads_.mu);
  // This node's DHT id (asked once).
  protocol::NodeId SelfId() EXCLUDES(agg_.mu);
  // aggregator::Elected for this node, on a search that ended on `searched`.
  bool ElectedHere(uint16_t resource,
                   const std::vector<dht::aggregator::SearchNode>& searched,
                   std::span<const protocol::NodeId> suspects = {})
      EXCLUDES(agg_.mu);

  // --- Forwarding (forward.cc, docs/scaling.md "Querying node") -------------
  // Whether every entry of `query` names an id aggregated here and warm up
  // to the entry's price bucket (then the index answers it exactly); marks
  // them asked.
  bool AggregatedHere(const protocol::QueryRequest& query)
      EXCLUDES(agg_.mu, reads_.mu);
  // Whether every entry of `query` names an id aggregated here, still
  // warming up (AggregatedHere was false), and no warm aggregator of it is
  // known to forward to instead; marks them asked. `stale_adverts`: then
  // the ids whose adverts are not known or due to be read again.
  bool WarmingHere(const protocol::QueryRequest& query,
                   std::vector<uint16_t>* stale_adverts) EXCLUDES(agg_.mu);
  // Registers a buyer's query as running (false: a resend of one that
  // runs, which gets that one's answer), and sends a running query's
  // answer, ending it.
  bool BeginQuery(const Request& request) EXCLUDES(agg_.mu);
  void SendQueryAnswer(const Request& request, const protocol::Packet& answer)
      EXCLUDES(agg_.mu, budgets_.mu);
  // Whether this node should aggregate `resource` itself (among the
  // closest to its rendezvous key), asked at most once per kAdvertCache.
  // `bucket`: the price bucket to warm up first if it should.
  void CheckSelf(uint16_t resource, uint32_t bucket) EXCLUDES(agg_.mu);
  // A query naming one resource id: to its aggregators, else a direct read.
  void ForwardQuery(Request& request, uint16_t resource) EXCLUDES(agg_.mu);
  // Reads `resource`'s adverts, or joins the read that runs, for `request`
  // (kAdvertsDeadline at most, then a direct read answers it); with no
  // request, only to refresh the cache. `asked`: for a query (then the
  // read may elect this node and demand aggregators); a read only for
  // pushes does neither, or registering an id would elect aggregators for
  // it.
  void ReadAdverts(std::optional<Request> request, uint16_t resource,
                   bool asked = true) EXCLUDES(agg_.mu);
  // The adverts came: cached, pushes waiting for them sent, and, when a
  // query `asked` for them, this node's own role checked, aggregators
  // demanded if too few, and `requests` (those no direct read answered
  // meanwhile) forwarded.
  void OnAdverts(std::vector<Request> requests, uint16_t resource, bool asked,
                 std::vector<dht::aggregator::RendezvousValue> values,
                 std::vector<dht::aggregator::SearchNode> searched)
      EXCLUDES(agg_.mu);
  // `targets` without those that did not answer lately: the warm ones,
  // then those advertised warming, then the busy ones (RATE_LIMITED
  // lately).
  std::vector<dht::aggregator::ForwardTarget> UsableTargetsLocked(
      const std::vector<dht::aggregator::ForwardTarget>& targets,
      uint64_t now) REQUIRES(agg_.mu);
  // Sends `forward`'s query to its current target (or, past the last one,
  // demands and reads directly; answers RATE_LIMITED if one was busy).
  void SendForward(const std::shared_ptr<PendingForward>& forward)
      EXCLUDES(agg_.mu);
  void OnForwardTimeout(uint32_t txid) EXCLUDES(agg_.mu);
  // Whether a forwarded query (`type` 0x41) or a push (`type` 0x43) to
  // `from` (address and port) awaits its answer.
  bool AwaitsAnswerFrom(const Sender& from, uint8_t type) EXCLUDES(agg_.mu);
  // A datagram of the node-to-node range (0x40-0x7F) from a DHT peer, or
  // a forwarded answer from an aggregator asked (AwaitsAnswerFrom).
  void HandlePeerDatagram(std::span<const std::byte> datagram,
                          const Sender& from, ReplyFn reply)
      EXCLUDES(agg_.mu, reads_.mu, budgets_.mu);
  // `query_size`: the datagram's, which a RATE_LIMITED answer never
  // exceeds.
  void AnswerForwardedQuery(const protocol::PeerPacket& packet,
                            size_t query_size, const Sender& from,
                            ReplyFn reply)
      EXCLUDES(agg_.mu, reads_.mu, budgets_.mu);
  void OnForwardedAnswer(const protocol::PeerPacket& packet, const Sender& from)
      EXCLUDES(agg_.mu);
  // Whether `target` advertised `resource` warming and this node first saw
  // that less than kWarmingPatienceSec ago.
  bool WarmingWithinPatience(uint16_t resource,
                             const dht::aggregator::ForwardTarget& target)
      EXCLUDES(agg_.mu);
  // Sends the buyer `answer` once every offer flagged signed in it was
  // verified by this node (FetchKeyOf); unverified flags are cleared and
  // the answer is then INCOMPLETE.
  void AnswerVerified(Request request, protocol::Packet answer)
      EXCLUDES(agg_.mu);
  // Answers from a read of the query's keys; a read of one id is kept as
  // its page snapshot, and a later page of one id (cursor > 0) is answered
  // from a fresh snapshot instead of a read.
  void DirectRead(Request request) EXCLUDES(agg_.mu, writes_.mu, reads_.mu);
  // The fresh page snapshot that answers `query` (one id, cursor > 0, read
  // up to its price), if any.
  std::optional<PageSnapshot> SnapshotFor(const protocol::QueryRequest& query)
      EXCLUDES(agg_.mu);
  // Keeps `records` (one id's, read up to `top`) as the id's snapshot,
  // unless over kMaxSnapshotRecords; drops snapshots past
  // kPageSnapshotSec.
  void KeepSnapshot(uint16_t resource, uint32_t top, bool complete,
                    std::shared_ptr<const std::vector<dht::OfferRecord>>
                        records) EXCLUDES(agg_.mu);
  void DropOldSnapshotsLocked(uint64_t now) REQUIRES(agg_.mu);
  // Answers `request` from `records` (applied in order: the first record
  // of a signed device wins), OK when `complete`, else INCOMPLETE.
  void AnswerFromRecords(const Request& request,
                         const std::vector<dht::OfferRecord>& records,
                         bool complete) EXCLUDES(agg_.mu);

  // --- Pushed records (push.cc, docs/scaling.md "Pushed records") ----------
  // Records the DHT just confirmed, to their ids' aggregators: at once to
  // those of a fresh advert cache, else once the adverts were read.
  void PushRecords(std::vector<dht::OfferRecord> records) EXCLUDES(agg_.mu);
  // Of `usable` (UsableTargetsLocked), those `resource`'s records go to:
  // not this node (`self`), not one that refused the id lately, at most
  // kMaxPushTargets.
  std::vector<dht::aggregator::ForwardTarget> PushTargetsLocked(
      uint16_t resource,
      const std::vector<dht::aggregator::ForwardTarget>& usable,
      const protocol::NodeId& self, uint64_t now) REQUIRES(agg_.mu);
  // Pushes `records` (all of `resource`) to each of `targets`.
  void SendPushes(uint16_t resource,
                  const std::vector<dht::aggregator::ForwardTarget>& targets,
                  const std::vector<dht::OfferRecord>& records)
      EXCLUDES(agg_.mu);
  // The backlog of `resource` (records confirmed while its adverts were
  // read), pushed now that the read ended.
  void PushBacklog(uint16_t resource) EXCLUDES(agg_.mu);
  // kPushFollowUp after records of `resource` were pushed with fewer than
  // k aggregators known: the adverts are read again (OnAdverts then calls
  // PushFollowUps).
  void FollowUp(uint16_t resource) EXCLUDES(agg_.mu);
  // The follow-up records of `resource`, pushed to every aggregator now
  // known (again to those that had them: pushes are idempotent).
  void PushFollowUps(uint16_t resource) EXCLUDES(agg_.mu);
  // Sends (again) the pending push `txid` and arms its timeout.
  void SendPush(uint32_t txid) EXCLUDES(agg_.mu);
  void OnPushTimeout(uint32_t txid) EXCLUDES(agg_.mu);
  // A 0x42 from a DHT peer: its records of ids aggregated here applied to
  // the index; a 0x43 ack to `reply`.
  void TakePushedRecords(const protocol::PeerPacket& packet, size_t size,
                         const Sender& from, ReplyFn reply)
      EXCLUDES(agg_.mu, reads_.mu, budgets_.mu);
  void OnPushAck(const protocol::PeerPacket& packet, const Sender& from)
      EXCLUDES(agg_.mu);

  // --- Writes (write_path.cc) -----------------------------------------------
  // Shared by register and withdraw: the budget for the largest answer,
  // require_signed, ownership and replay. Returns true when the request goes
  // on (`cached` set for a signed one); false when it got its answer
  // (refused, rate limited or a resend), which `out` sends.
  bool AdmitWriteLocked(Request& request, const protocol::DeviceId& device,
                        size_t max_entries,
                        std::shared_ptr<CachedAnswer>* cached, Outbox& out)
      REQUIRES(writes_.mu) EXCLUDES(reads_.mu, budgets_.mu);
  // Journals `op`'s records and applies them to LocalOffers and the index;
  // `out` then publishes them once they are durable (at once, or from the
  // journal's thread with group commit) or answers.
  void CommitLocked(const std::shared_ptr<PendingWrite>& op, Outbox& out)
      REQUIRES(writes_.mu) EXCLUDES(reads_.mu, budgets_.mu);
  // The journal's sync of `op`'s records returned (`synced`: on disk).
  void OnSynced(const std::shared_ptr<PendingWrite>& op, bool synced)
      EXCLUDES(writes_.mu);
  // Starts the DHT's confirmation of `op`'s records: `out` publishes them.
  void PublishLocked(const std::shared_ptr<PendingWrite>& op, Outbox& out)
      REQUIRES(writes_.mu);
  // Answers every entry not settled yet STORAGE_FAILED and ends `op`.
  void FailAllLocked(PendingWrite& op, Outbox& out) REQUIRES(writes_.mu)
      EXCLUDES(budgets_.mu);
  void OnPublished(const std::shared_ptr<PendingWrite>& op, size_t job, bool ok,
                   uint16_t replicas) EXCLUDES(writes_.mu);
  // Ends a settled op: its answer, to the request and every resend, in
  // `out`.
  void FinishLocked(PendingWrite& op, Outbox& out) REQUIRES(writes_.mu)
      EXCLUDES(budgets_.mu);
  // Publishes one record again (start-up, retries); `push`: to its id's
  // aggregators too once confirmed.
  void Publish(const dht::OfferRecord& record, bool push) EXCLUDES(writes_.mu);

  // --- Answers (node_impl.cc) -----------------------------------------------
  // Encodes an answer (signed for check type 7). Empty on failure.
  std::vector<std::byte> EncodeAnswer(const protocol::Packet& packet) const;
  // Sends a synchronous answer within the source's byte budget; over it, a
  // RATE_LIMITED answer no larger than the request, or nothing.
  // `charged`: the budget was taken on arrival (registers, withdraws).
  void Send(const Request& request, const protocol::Packet& answer,
            bool charged = false) EXCLUDES(budgets_.mu);
  void SendError(const Request& request, wire::Status status,
                 bool charged = false) EXCLUDES(budgets_.mu);
  void SendRateLimited(const Request& request);
  void LogRequest(const Request& request, wire::Status status) const;

  // One more request waits for the DHT (false: the node is stopping), or
  // `n` fewer do.
  void BeginInFlight(size_t n = 1) EXCLUDES(life_.mu);
  void EndInFlight(size_t n = 1) EXCLUDES(life_.mu);

  uint64_t Now() const { return clock_(); }

  const NodeConfig config_;
  const Clock clock_;
  const protocol::Ed25519Key key_;
  const uint64_t started_;
  const std::shared_ptr<NodeMetrics> metrics_;  // never null (NoMetrics)

  WriteState writes_;
  ReadState reads_;
  BudgetState budgets_;
  AggregationState agg_;
  Lifecycle life_;
  // Forwarding: how datagrams go to other nodes, this node's edge port
  // (advertised), and the forwarded queries' timeouts.
  const SendFn send_to_;
  const uint16_t edge_port_;
  std::unique_ptr<Timers> timers_;

  // Last member: destroyed first, so no DHT callback outlives the state.
  std::unique_ptr<dht::Dht> dht_;
};

}  // namespace crsp::node

#endif  // CRSP_NODE_NODE_IMPL_H_
