// Query (PROTOCOL.md "Query request"): answered from the warm index. The
// first query for a resource id up to a price bucket fetches those keys
// from the DHT (cold) and watches them, so later ones stay in memory.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>

#include "crsp/dht_adapter/keys.h"
#include "node_impl.h"
#include "query_engine.h"

namespace crsp::node {
namespace {

// The highest price in the bucket of `price`: fetching and watching up to
// it costs the same keys and makes the whole bucket warm.
uint32_t BucketTop(uint32_t price) {
  const uint32_t bucket = dht::PriceBucket(price);
  // 64-bit: in 32 bits, hi - lo + 1 wraps to 0 for price 0 and the search
  // never ends (a query with max price 0 hung the node).
  uint64_t lo = price, hi = UINT32_MAX;
  while (lo < hi) {  // largest p with PriceBucket(p) == bucket
    const uint64_t mid = lo + (hi - lo + 1) / 2;
    if (dht::PriceBucket(static_cast<uint32_t>(mid)) == bucket) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return static_cast<uint32_t>(lo);
}

}  // namespace

void NodeImpl::HandleQuery(Request& request) {
  const auto& query =
      std::get<protocol::QueryRequest>(request.decoded.packet.body);
  const uint64_t now = Now();
  const uint32_t txid = request.decoded.packet.header.txid;
  bool has_budget;
  {
    MutexLock lock(&budgets_.mu);
    has_budget = budgets_.limiter.HasBudget(request.prefix, now);
  }
  if (!has_budget) {
    SendRateLimited(request);
    return;
  }
  if (ValidateQueryAt(query, now) != wire::Status::kOk) {
    SendError(request, wire::Status::kInvalidField);
    return;
  }
  std::map<uint16_t, uint32_t> cold;  // resource -> price to fetch up to
  std::vector<std::shared_ptr<ColdFetch>> joined;  // running, answering
  std::vector<std::pair<uint16_t, std::shared_ptr<ColdFetch>>> started;
  // Entries that wait for a running fetch, and that start one (metrics).
  size_t joining_entries = 0, cold_entries = 0;
  {
    MutexLock lock(&reads_.mu);
    for (const protocol::QueryEntry& entry : query.entries) {
      const uint32_t bucket = dht::PriceBucket(entry.max_price);
      if (WarmLocked(entry.resource, bucket)) continue;
      auto running = reads_.fetching.find(entry.resource);
      if (running != reads_.fetching.end() &&
          running->second->bucket >= bucket) {
        // Answering: wait for it. In the background: what it read so far
        // is in the index (the answer is INCOMPLETE until it is warm).
        const std::shared_ptr<ColdFetch>& fetch = running->second;
        joining_entries += fetch->answered ? 0 : 1;
        if (!fetch->answered &&
            std::find(joined.begin(), joined.end(), fetch) == joined.end()) {
          joined.push_back(fetch);
        }
        continue;
      }
      if (!AdmitResourceLocked(entry.resource)) continue;  // index only
      ++cold_entries;
      uint32_t& top = cold[entry.resource];
      top = std::max(top, BucketTop(entry.max_price));
    }
    for (const std::shared_ptr<ColdFetch>& fetch : joined) {
      for (const std::shared_ptr<ColdQuery>& waiter : fetch->waiters) {
        const Request& other = waiter->request;
        if (other.from.address == request.from.address &&
            other.from.port == request.from.port &&
            other.decoded.packet.header.txid == txid) {
          // A resend of a query still waiting: it gets that one's answer.
          return;
        }
      }
    }
    if (!cold.empty() && reads_.cold_fetches >= kMaxColdFetches) {
      // Too many cold fetches at once: answer INCOMPLETE from what is held
      // now. Only fetches already running count: a query's own ids (up to
      // kMaxQueryEntries) never keep it from being read.
      spdlog::debug(
          "query txid {}: {} cold resource id(s) not fetched, {} "
          "fetches running",
          txid, cold.size(), reads_.cold_fetches);
      cold.clear();
    }
    const size_t fetched = joining_entries + (cold.empty() ? 0 : cold_entries);
    metrics_->ResourceIdsServed(query.entries.size() - fetched, fetched);
    if (!cold.empty() || !joined.empty()) {
      auto pending = std::make_shared<ColdQuery>();
      pending->request = std::move(request);
      pending->outstanding = joined.size() + cold.size();
      BeginInFlight();
      for (const std::shared_ptr<ColdFetch>& fetch : joined) {
        fetch->waiters.push_back(pending);
      }
      for (const auto& [resource, max_price] : cold) {
        auto fetch = std::make_shared<ColdFetch>();
        fetch->resource = resource;
        fetch->bucket = dht::PriceBucket(max_price);
        fetch->waiters.push_back(pending);
        reads_.fetching[resource] = fetch;
        started.emplace_back(resource, fetch);
      }
      reads_.cold_fetches += cold.size();
    }
  }
  if (cold.empty() && joined.empty()) {
    AnswerQuery(request);
    return;
  }
  for (const auto& [resource, fetch] : started) {
    StartColdFetch(resource, cold[resource], fetch);
  }
}

bool NodeImpl::AdmitResourceLocked(uint16_t resource) {
  if (resource < wire::kFirstPrivateResource) return true;  // standard
  if (reads_.private_ids.count(resource) != 0) return true;
  if (reads_.private_ids.size() >= kMaxPrivateResourceIds) return false;
  reads_.private_ids.insert(resource);
  return true;
}

void NodeImpl::StartColdFetch(uint16_t resource, uint32_t max_price,
                              const std::shared_ptr<ColdFetch>& fetch) {
  bool watch;
  {
    MutexLock lock(&reads_.mu);
    auto watched = reads_.watched.find(resource);
    watch = watched == reads_.watched.end() || watched->second < fetch->bucket;
    if (watch) reads_.watched[resource] = fetch->bucket;
  }
  // Watch first: nothing published between the fetch and the watch is
  // missed.
  if (watch) {
    dht_->Watch(resource, max_price, [this](const dht::OfferRecord& record) {
      MutexLock lock(&reads_.mu);
      reads_.index.Apply(record, Now());
    });
  }
  dht_->Fetch(
      resource, max_price, {kColdFetchDeadline, kColdFetchLimit},
      [this, fetch](const std::vector<dht::OfferRecord>& records,
                    bool complete) { OnColdAnswer(fetch, records, complete); },
      [this, resource, fetch](const std::vector<dht::OfferRecord>& records,
                              dht::Dht::FetchProgress progress) {
        OnColdMore(resource, fetch, records, progress);
      });
}

void NodeImpl::OnColdAnswer(const std::shared_ptr<ColdFetch>& fetch,
                            const std::vector<dht::OfferRecord>& records,
                            bool complete) {
  std::vector<std::shared_ptr<ColdQuery>> ready;
  {
    MutexLock lock(&reads_.mu);
    const uint64_t at = Now();
    for (const dht::OfferRecord& record : records) {
      reads_.index.Apply(record, at);
    }
    fetch->answered = true;
    // Warm before its waiters are answered: they are exact (OK) then.
    if (complete) MarkWarmLocked(fetch->resource, fetch->bucket);
    for (const std::shared_ptr<ColdQuery>& waiter : fetch->waiters) {
      if (--waiter->outstanding == 0) ready.push_back(waiter);
    }
    fetch->waiters.clear();
  }
  for (const std::shared_ptr<ColdQuery>& query : ready) {
    AnswerQuery(query->request);
  }
  if (!ready.empty()) EndInFlight(ready.size());
}

void NodeImpl::OnColdMore(uint16_t resource,
                          const std::shared_ptr<ColdFetch>& fetch,
                          const std::vector<dht::OfferRecord>& records,
                          dht::Dht::FetchProgress progress) {
  MutexLock lock(&reads_.mu);
  const uint64_t at = Now();
  for (const dht::OfferRecord& record : records) {
    reads_.index.Apply(record, at);
  }
  if (progress == dht::Dht::FetchProgress::kReading) return;
  const bool complete = progress == dht::Dht::FetchProgress::kComplete;
  --reads_.cold_fetches;
  // Warm only when every key answered (a partial fetch is fetched again by
  // the next query; what arrived stays).
  if (complete) MarkWarmLocked(resource, fetch->bucket);
  auto it = reads_.fetching.find(resource);
  if (it != reads_.fetching.end() && it->second == fetch) {
    reads_.fetching.erase(it);
  }
}

bool NodeImpl::WarmLocked(uint16_t resource, uint32_t bucket) const {
  auto warm = reads_.warm.find(resource);
  return warm != reads_.warm.end() && warm->second >= bucket;
}

void NodeImpl::MarkWarmLocked(uint16_t resource, uint32_t bucket) {
  uint32_t& warm = reads_.warm[resource];
  warm = std::max(warm, bucket);
}

bool NodeImpl::ReadEverythingLocked(const protocol::QueryRequest& query) const {
  return std::all_of(
      query.entries.begin(), query.entries.end(),
      [this](const protocol::QueryEntry& entry) REQUIRES(reads_.mu) {
        return WarmLocked(entry.resource, dht::PriceBucket(entry.max_price));
      });
}

void NodeImpl::AnswerQuery(Request& request) {
  const auto& query =
      std::get<protocol::QueryRequest>(request.decoded.packet.body);
  const protocol::Header& header = request.decoded.packet.header;
  protocol::Packet answer{protocol::AnswerHeaderFor(header, wire::Status::kOk),
                          {}};
  {
    MutexLock lock(&reads_.mu);
    answer.body =
        RunQuery(reads_.index, query, Now(), OffersPerAnswer(header.check));
    // OK promises the exact answer (PROTOCOL.md "Query answer"): only when
    // every key of every entry was read and is watched.
    if (!ReadEverythingLocked(query)) {
      answer.header.status = wire::Status::kIncomplete;
    }
  }
  Send(request, answer);
}

}  // namespace crsp::node
