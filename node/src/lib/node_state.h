// The node's state, in four parts with one mutex each. Each part's comment
// says what it guards and who uses it; clang checks every access
// (-Wthread-safety, mutex.h).
//
// Lock order: WriteState::mu, then ReadState::mu, then BudgetState::mu;
// Lifecycle::mu and AggregationState::mu are leaves (nothing else is
// locked while one is held). No lock is
// held while calling the DHT or a ReplyFn (outbox.h).
//
//   register/withdraw --> WriteState (journal, own records, pending writes)
//          |                 |  applies to
//          v                 v
//   query ----------> ReadState (index, what was read and watched)
//   every answer ---> BudgetState (answer bytes per source, signed answers)
#ifndef CRSP_NODE_SRC_LIB_NODE_STATE_H_
#define CRSP_NODE_SRC_LIB_NODE_STATE_H_

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "answer_cache.h"
#include "crsp/dht_adapter/aggregator_role.h"
#include "crsp/dht_adapter/offer_record.h"
#include "crsp/node/node.h"
#include "crsp/protocol/codec.h"
#include "journal.h"
#include "local_offers.h"
#include "mutex.h"
#include "offer_index.h"
#include "rate_limiter.h"

namespace crsp::node {

// One request, as the handlers see it.
struct Request {
  std::vector<std::byte> datagram;  // owned: answers may come later
  Sender from;
  protocol::Ipv6Address prefix;  // SourcePrefix(from.address)
  protocol::DecodeResult decoded;
  ReplyFn reply;
};

// One record to store, and the answer entries that wait for it (a resource
// listed twice in one request shares one record).
struct Job {
  dht::OfferRecord record;
  std::vector<size_t> entries;
  bool done = false;
};

// A register or withdraw from acceptance to its answer. Its fields are
// WriteState's: read and written with WriteState::mu held.
struct PendingWrite {
  Request request;
  protocol::EntryResults results;  // answer body, filled as jobs settle
  std::vector<Job> jobs;
  size_t outstanding = 0;
  bool settled = false;
  uint64_t started = 0;
  std::shared_ptr<CachedAnswer> cached;  // signed requests (BudgetState's)
  // Header status when no entry is answered (withdraw of nothing).
  wire::Status empty_status = wire::Status::kOk;
};

// The journal and the writes waiting for it and for the DHT: every record
// this node accepted (LocalOffers, the quotas' source of truth), the
// pending writes and the re-publication of unconfirmed records. Taken by
// register and withdraw for their whole decision, so that ownership,
// quotas and versions are checked and applied atomically; by the journal's
// sync thread and the DHT's put callbacks; by Tick and Shutdown.
struct WriteState {
  mutable Mutex mu;
  std::unique_ptr<Journal> journal GUARDED_BY(mu);
  LocalOffers local GUARDED_BY(mu);
  std::list<std::weak_ptr<PendingWrite>> pending GUARDED_BY(mu);
  // Records of pending writes not settled yet (Limits::max_pending_writes).
  size_t pending_records GUARDED_BY(mu) = 0;
  size_t retries_in_flight GUARDED_BY(mu) = 0;
  uint64_t last_retry GUARDED_BY(mu) = 0;
};

// A buyer's query waiting for something, taken once: by what it waits for
// when that comes, or by its deadline. It waits for a read of its id's
// adverts (then it is read directly at kAdvertsDeadline), or for the
// warm-up of ids this node aggregates (then it is answered from the index
// at kColdFetchDeadline with what the warm-up read).
struct WaitingQuery {
  explicit WaitingQuery(Request r)
      : query(std::get<protocol::QueryRequest>(r.decoded.packet.body)),
        request(std::move(r)) {}
  std::optional<Request> Take() {
    MutexLock lock(&mu);
    return std::exchange(request, std::nullopt);
  }
  const protocol::QueryRequest query;  // the request's, readable untaken
  Mutex mu;
  std::optional<Request> request GUARDED_BY(mu);
};

// A running warm-up of one aggregated resource id up to a price bucket
// (every key watched and read). ReadState's.
struct ColdFetch {
  uint16_t resource = 0;
  uint32_t bucket = 0;
  bool answered = false;
};

// What queries read: the index of every valid offer the node knows (its
// own and those read or watched in the DHT), and which resource ids are
// read and watched up to which price bucket. Taken by queries, by the DHT's
// fetch and watch callbacks, and by writes applying their records.
struct ReadState {
  mutable Mutex mu;
  OfferIndex index GUARDED_BY(mu);
  // Highest price bucket per resource id whose keys are fetched and watched.
  std::map<uint16_t, uint32_t> warm GUARDED_BY(mu);
  std::map<uint16_t, uint32_t> watched GUARDED_BY(mu);
  // Private-use resource ids admitted to fetch and watch (at most
  // kMaxPrivateResourceIds, kept for good).
  std::set<uint16_t> private_ids GUARDED_BY(mu);
  // Running cold fetches by resource id (the widest one when several run).
  std::map<uint16_t, std::shared_ptr<ColdFetch>> fetching GUARDED_BY(mu);
  size_t cold_fetches GUARDED_BY(mu) = 0;  // running
  // Queries for ids this node aggregates, waiting for their warm-up: by
  // each id they name.
  std::map<uint16_t, std::vector<std::shared_ptr<WaitingQuery>>> awaiting_warm
      GUARDED_BY(mu);
};

// Limits and caches of answers: the answer-byte budget of each source /64
// and the answers of recent signed writes (resends get the same answer).
// Taken briefly by every answer.
struct BudgetState {
  BudgetState(const Limits& limits, size_t max_sources, size_t cache_size)
      : limiter(limits.answer_bytes_per_sec, limits.answer_burst_bytes,
                max_sources),
        peers(limits.peer_answer_bytes_per_sec, limits.peer_answer_burst_bytes,
              max_sources),
        cache(cache_size) {}
  mutable Mutex mu;
  RateLimiter limiter GUARDED_BY(mu);
  // Answers to forwarded queries, per DHT peer address: a budget apart
  // from the buyers', so that neither can spend the other's
  // (docs/scaling.md).
  RateLimiter peers GUARDED_BY(mu);
  AnswerCache cache GUARDED_BY(mu);
};

// A buyer's query forwarded to an id's aggregators, one after the other,
// until one answers (docs/scaling.md "Querying node").
// AggregationState's.
struct PendingForward {
  Request request;  // the buyer's
  uint16_t resource = 0;
  std::vector<dht::aggregator::ForwardTarget> targets;
  size_t next = 0;                       // the target asked now
  uint32_t txid = 0;                     // of the forwarded query now out
  std::vector<protocol::NodeId> failed;  // targets that did not answer
  bool busy = false;  // a target answered RATE_LIMITED
  bool not_serving = false;  // a target answered, not OK (not warm, resigned)
  // A target advertised warming (within kWarmingPatienceSec) answered
  // INCOMPLETE: the id's aggregators are on their way, so no demand.
  bool warming = false;
};

// An id this node aggregates. AggregationState's.
struct Aggregated {
  uint64_t since = 0;       // elected (unix s)
  bool warm = false;        // every key read and watched: it advertises
  uint64_t advertised = 0;  // last advert put (0: none yet)
  uint64_t asked = 0;       // last query or forwarded query for the id
  uint64_t checked = 0;     // last role recheck
};

// One id's direct read, kept kPageSnapshotSec for the next pages of a
// paged query (docs/scaling.md "Paging a directly read id"): the records
// as the answer applied them (the node's own first), read up to `top`.
// AggregationState's.
struct PageSnapshot {
  uint32_t top = 0;
  uint64_t read_at = 0;
  bool complete = false;
  std::shared_ptr<const std::vector<dht::OfferRecord>> records;
};

// A push of records to one of an id's aggregators, waiting for its ack
// (docs/scaling.md "Pushed records"). AggregationState's.
struct PendingPush {
  uint16_t resource = 0;
  dht::aggregator::ForwardTarget target;
  std::vector<std::byte> datagram;  // sent again as it is
  uint32_t tries = 1;
};

// What a querying node learnt of an id's aggregators. AggregationState's.
struct AdvertCache {
  std::vector<dht::aggregator::ForwardTarget> targets;
  uint64_t read_at = 0;  // the last read's (for pushes, or a query)
  // The last read a query asked for (the role check and demands ran on
  // it; 0: none): what a query's staleness counts from, so that reads for
  // pushes, which check nothing, never stand in for it.
  uint64_t asked_at = 0;
};

// The aggregator roles and forwarding (docs/scaling.md): the ids this node
// aggregates, what it knows of other ids' aggregators, the queries it
// forwarded and the direct reads it runs. A leaf, like Lifecycle: nothing
// else is locked while it is held.
struct AggregationState {
  mutable Mutex mu;
  std::map<uint16_t, Aggregated> aggregating GUARDED_BY(mu);
  // Ids whose role check runs, and when each last ran (demands).
  std::set<uint16_t> checking GUARDED_BY(mu);
  std::map<uint16_t, uint64_t> checked_at GUARDED_BY(mu);
  std::map<uint16_t, AdvertCache> adverts GUARDED_BY(mu);
  // Ids whose adverts are being read, and the queries that wait for it;
  // those of them a query asked for (ReadAdverts' `asked`).
  std::map<uint16_t, std::vector<std::shared_ptr<WaitingQuery>>> reading_adverts
      GUARDED_BY(mu);
  std::set<uint16_t> adverts_asked GUARDED_BY(mu);
  // Aggregators that did not answer a forwarded query: skipped until then.
  std::map<protocol::NodeId, uint64_t> failed_until GUARDED_BY(mu);
  // When this node first saw each aggregator advertise an id as warming
  // (by id, node): its INCOMPLETE answers are no reason to demand more
  // aggregators for kWarmingPatienceSec from then. Dropped when seen warm,
  // or an hour on.
  std::map<std::pair<uint16_t, protocol::NodeId>, uint64_t> warming_seen
      GUARDED_BY(mu);
  // Aggregators that answered RATE_LIMITED: tried last until then.
  std::map<protocol::NodeId, uint64_t> busy_until GUARDED_BY(mu);
  std::map<uint16_t, uint64_t> demanded_at GUARDED_BY(mu);
  // When this node last checked whether it should aggregate an id itself
  // (CheckSelf, for ids of several-id queries).
  std::map<uint16_t, uint64_t> self_checked_at GUARDED_BY(mu);
  // Buyer queries being forwarded or read, by (address, port, txid): a
  // resend while one runs gets that one's answer, not a second read.
  std::set<std::tuple<protocol::Ipv6Address, uint16_t, uint32_t>> running
      GUARDED_BY(mu);
  std::map<uint32_t, std::shared_ptr<PendingForward>> forwards GUARDED_BY(mu);
  // Pushes waiting for their ack, by txid (from next_txid too), and the
  // records confirmed while their id's adverts were being read: pushed
  // when the read ends (OnAdverts). At most kMaxPushesInFlight and
  // kMaxPushBacklog; past them, records are left to the re-reads.
  std::map<uint32_t, PendingPush> pushes GUARDED_BY(mu);
  std::map<uint16_t, std::vector<dht::OfferRecord>> push_backlog GUARDED_BY(mu);
  size_t push_backlog_records GUARDED_BY(mu) = 0;
  // Records pushed while their id had fewer than k aggregators known,
  // waiting for their follow-up (kPushFollowUp, scheduled once per id:
  // `following_up`), then for the follow-up's adverts read (`due`).
  std::map<uint16_t, std::vector<dht::OfferRecord>> follow_ups GUARDED_BY(mu);
  std::map<uint16_t, std::vector<dht::OfferRecord>> follow_ups_due
      GUARDED_BY(mu);
  size_t follow_up_records GUARDED_BY(mu) = 0;
  std::set<uint16_t> following_up GUARDED_BY(mu);
  // (id, aggregator) pairs whose push was acked not OK (it does not serve
  // the id, though its advert lives on): not pushed to until then.
  std::map<std::pair<uint16_t, protocol::NodeId>, uint64_t> push_refused
      GUARDED_BY(mu);
  uint32_t next_txid GUARDED_BY(mu) = 1;
  size_t direct_reads GUARDED_BY(mu) = 0;  // running
  // Recent direct reads of one id, and their records in all (at most
  // kMaxSnapshotRecords).
  std::map<uint16_t, PageSnapshot> snapshots GUARDED_BY(mu);
  size_t snapshot_records GUARDED_BY(mu) = 0;
  // Signed offers of forwarded answers this node re-verified itself, by
  // their 72 bytes, valid until their valid_until.
  std::map<std::string, uint64_t> verified GUARDED_BY(mu);
  // This node's DHT id, once known (DhtInfo).
  std::optional<protocol::NodeId> self GUARDED_BY(mu);
};

// Whether the node still takes work, and how much is in flight (pending
// writes and cold queries), so that Shutdown can wait for it.
struct Lifecycle {
  mutable Mutex mu;
  std::condition_variable idle;
  bool stopping GUARDED_BY(mu) = false;
  size_t in_flight GUARDED_BY(mu) = 0;
};

}  // namespace crsp::node

#endif  // CRSP_NODE_SRC_LIB_NODE_STATE_H_
