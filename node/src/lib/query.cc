// Query (PROTOCOL.md "Query request"): the ids this node aggregates are
// answered from its warm index; the others are forwarded to their
// aggregators or read directly (forward.cc). The warm-up of an aggregated
// id (StartColdFetch) watches and reads every key of it; queries for it
// that come meanwhile wait for that read, not read again (AwaitWarmUp).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <set>

#include "crsp/dht_adapter/keys.h"
#include "node_impl.h"
#include "query_engine.h"

namespace crsp::node {

void NodeImpl::HandleQuery(Request& request) {
  const auto& query =
      std::get<protocol::QueryRequest>(request.decoded.packet.body);
  const uint64_t now = Now();
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
  // Ids aggregated here are answered from the index; a query for one other
  // id goes to that id's aggregators; anything else is read directly
  // (docs/scaling.md "Querying node").
  if (AggregatedHere(query)) {
    metrics_->ResourceIdsServed(query.entries.size(), 0, 0);
    Send(request, IndexAnswer(request));
    return;
  }
  const uint16_t first = query.entries.front().resource;
  const bool one_id = std::all_of(
      query.entries.begin(), query.entries.end(),
      [first](const protocol::QueryEntry& e) { return e.resource == first; });
  if (!BeginQuery(request)) return;  // a resend of a query still running
  std::vector<uint16_t> stale_adverts;
  if (WarmingHere(query, &stale_adverts)) {
    // Read beside, for the next queries: they go to a warm aggregator if
    // the read finds one.
    for (uint16_t resource : stale_adverts) {
      ReadAdverts(std::nullopt, resource);
    }
    AwaitWarmUp(std::move(request));
    return;
  }
  if (one_id) {
    ForwardQuery(request, first);
    return;
  }
  // Several ids: a forward per id would send more bytes than the buyer did
  // (docs/scaling.md), so they are read directly; meanwhile the node
  // learns whether it should aggregate them itself.
  std::map<uint16_t, uint32_t> buckets;  // resource -> highest bucket
  for (const protocol::QueryEntry& entry : query.entries) {
    uint32_t& bucket = buckets[entry.resource];
    bucket = std::max(bucket, dht::PriceBucket(entry.max_price));
  }
  for (const auto& [resource, bucket] : buckets) CheckSelf(resource, bucket);
  DirectRead(std::move(request));
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
  // Watch first: nothing published between the fetch and the watch's
  // listens or catch-up read is missed. Listening, while the id is read,
  // on the keys that hold many values here: a get of a key whose listen is
  // synced is answered from the listen's cache, where OpenDHT's own get
  // asks every node for every value one by one. Once warm, new records are
  // pushed here by their writers and the listens stop (OnResourceWarm;
  // docs/scaling.md "Warm-up listens").
  if (watch) {
    dht_->Watch(
        resource, max_price,
        [this](const dht::OfferRecord& record) {
          MutexLock lock(&reads_.mu);
          reads_.index.Apply(record, Now());
        },
        dht::Dht::WatchMode::kListenWhereLarge);
  }
  dht_->Fetch(
      resource, max_price, {kColdFetchDeadline, kWarmUpLimit},
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
  std::vector<std::shared_ptr<WaitingQuery>> warmed;
  {
    MutexLock lock(&reads_.mu);
    const uint64_t at = Now();
    for (const dht::OfferRecord& record : records) {
      reads_.index.Apply(record, at);
    }
    fetch->answered = true;
    if (complete) {
      MarkWarmLocked(fetch->resource, fetch->bucket);
      warmed = WarmedUpLocked(fetch->resource);
    }
  }
  AnswerWaiters(warmed);
  if (complete) OnResourceWarm(fetch->resource);
}

void NodeImpl::OnColdMore(uint16_t resource,
                          const std::shared_ptr<ColdFetch>& fetch,
                          const std::vector<dht::OfferRecord>& records,
                          dht::Dht::FetchProgress progress) {
  bool complete;
  std::vector<std::shared_ptr<WaitingQuery>> warmed;
  {
    MutexLock lock(&reads_.mu);
    const uint64_t at = Now();
    for (const dht::OfferRecord& record : records) {
      reads_.index.Apply(record, at);
    }
    if (progress == dht::Dht::FetchProgress::kReading) return;
    complete = progress == dht::Dht::FetchProgress::kComplete;
    --reads_.cold_fetches;
    // Warm only when every key answered (an incomplete warm-up is started
    // again by TickAggregation; what arrived stays).
    if (complete) {
      MarkWarmLocked(resource, fetch->bucket);
      warmed = WarmedUpLocked(resource);
    }
    auto it = reads_.fetching.find(resource);
    if (it != reads_.fetching.end() && it->second == fetch) {
      reads_.fetching.erase(it);
    }
  }
  AnswerWaiters(warmed);
  if (complete) OnResourceWarm(resource);
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

protocol::Packet NodeImpl::IndexAnswer(const Request& request) {
  const auto& query =
      std::get<protocol::QueryRequest>(request.decoded.packet.body);
  const protocol::Header& header = request.decoded.packet.header;
  protocol::Packet answer{protocol::AnswerHeaderFor(header, wire::Status::kOk),
                          {}};
  MutexLock lock(&reads_.mu);
  answer.body =
      RunQuery(reads_.index, query, Now(), OffersPerAnswer(header.check));
  // OK promises the exact answer (PROTOCOL.md "Query answer"): only when
  // every key of every entry was read and is watched.
  if (!ReadEverythingLocked(query)) {
    answer.header.status = wire::Status::kIncomplete;
  }
  return answer;
}

void NodeImpl::AwaitWarmUp(Request request) {
  auto waiter = std::make_shared<WaitingQuery>(std::move(request));
  std::map<uint16_t, uint32_t> buckets;  // id -> highest bucket it needs
  for (const protocol::QueryEntry& e : waiter->query.entries) {
    uint32_t& bucket = buckets[e.resource];
    bucket = std::max(bucket, dht::PriceBucket(e.max_price));
  }
  std::vector<std::pair<uint16_t, uint32_t>> idle;  // no warm-up running
  {
    MutexLock lock(&reads_.mu);
    if (ReadEverythingLocked(waiter->query)) {
      buckets.clear();
    } else {
      for (const auto& [id, bucket] : buckets) {
        reads_.awaiting_warm[id].push_back(waiter);
        if (reads_.fetching.count(id) == 0) idle.emplace_back(id, bucket);
      }
    }
  }
  if (buckets.empty()) {
    AnswerWaiters({waiter});
    return;
  }
  // A warm-up that ended incomplete (a slow DHT) starts again now rather
  // than at the next tick: this query waits for it.
  for (const auto& [id, bucket] : idle) WarmUp(id, bucket);
  timers_->After(kColdFetchDeadline, [this, waiter] {
    {
      MutexLock lock(&reads_.mu);
      DropWaiterLocked(waiter);
    }
    AnswerWaiters({waiter});
  });
}

std::vector<std::shared_ptr<WaitingQuery>> NodeImpl::WarmedUpLocked(
    uint16_t resource) {
  std::vector<std::shared_ptr<WaitingQuery>> ready;
  auto waiting = reads_.awaiting_warm.find(resource);
  if (waiting == reads_.awaiting_warm.end()) return ready;
  for (const std::shared_ptr<WaitingQuery>& waiter : waiting->second) {
    if (ReadEverythingLocked(waiter->query)) ready.push_back(waiter);
  }
  for (const std::shared_ptr<WaitingQuery>& waiter : ready) {
    DropWaiterLocked(waiter);
  }
  return ready;
}

void NodeImpl::DropWaiterLocked(const std::shared_ptr<WaitingQuery>& waiter) {
  for (const protocol::QueryEntry& e : waiter->query.entries) {
    auto waiting = reads_.awaiting_warm.find(e.resource);
    if (waiting == reads_.awaiting_warm.end()) continue;
    std::erase(waiting->second, waiter);
    if (waiting->second.empty()) reads_.awaiting_warm.erase(waiting);
  }
}

void NodeImpl::AnswerWaiters(
    const std::vector<std::shared_ptr<WaitingQuery>>& waiters) {
  for (const std::shared_ptr<WaitingQuery>& waiter : waiters) {
    std::optional<Request> request = waiter->Take();
    if (!request) continue;  // answered by the other of warm-up and deadline
    metrics_->ResourceIdsServed(waiter->query.entries.size(), 0, 0);
    SendQueryAnswer(*request, IndexAnswer(*request));
  }
}

}  // namespace crsp::node
