// The node's state, in four parts with one mutex each. Each part's comment
// says what it guards and who uses it; clang checks every access
// (-Wthread-safety, mutex.h).
//
// Lock order: WriteState::mu, then ReadState::mu, then BudgetState::mu;
// Lifecycle::mu is a leaf (nothing is locked while it is held). No lock is
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
#include <set>
#include <vector>

#include "answer_cache.h"
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

// A query waiting for cold fetches (ReadState's).
struct ColdQuery {
  Request request;
  size_t outstanding = 0;  // fetches that have not answered yet
};

// A running cold fetch of one resource id up to a price bucket. Queries
// that need no more than it wait for its answer (while it is answering) or
// are answered from the index (while it goes on in the background) instead
// of starting a fetch of their own. ReadState's.
struct ColdFetch {
  uint16_t resource = 0;
  uint32_t bucket = 0;
  bool answered = false;
  std::vector<std::shared_ptr<ColdQuery>> waiters;
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
};

// Limits and caches of answers: the answer-byte budget of each source /64
// and the answers of recent signed writes (resends get the same answer).
// Taken briefly by every answer.
struct BudgetState {
  BudgetState(const Limits& limits, size_t max_sources, size_t cache_size)
      : limiter(limits.answer_bytes_per_sec, limits.answer_burst_bytes,
                max_sources),
        cache(cache_size) {}
  mutable Mutex mu;
  RateLimiter limiter GUARDED_BY(mu);
  AnswerCache cache GUARDED_BY(mu);
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
