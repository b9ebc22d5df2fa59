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
  std::map<uint16_t, uint32_t> cold;  // resource -> price to fetch up to
  std::vector<std::shared_ptr<ColdFetch>> joined;  // running, answering
  std::vector<std::pair<uint16_t, std::shared_ptr<ColdFetch>>> started;
  // Entries that wait for a running fetch, and that start one (metrics).
  size_t joining_entries = 0, cold_entries = 0;
  {
    std::unique_lock lock(mu_);
    if (!limiter_.HasBudget(request.prefix, now)) {
      lock.unlock();
      SendRateLimited(request);
      return;
    }
    if (ValidateQueryAt(query, now) != wire::Status::kOk) {
      lock.unlock();
      SendError(request, wire::Status::kInvalidField);
      return;
    }
    for (const protocol::QueryEntry& entry : query.entries) {
      const uint32_t bucket = dht::PriceBucket(entry.max_price);
      auto warm = warm_.find(entry.resource);
      if (warm != warm_.end() && warm->second >= bucket) continue;
      auto running = fetching_.find(entry.resource);
      if (running != fetching_.end() && running->second->bucket >= bucket) {
        // Answering: wait for it. In the background: what it read so far
        // is in the index.
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
    if (!cold.empty() && cold_fetches_ + cold.size() > kMaxColdFetches) {
      // Too many cold fetches at once: answer from what is held now.
      spdlog::debug(
          "query txid {}: {} cold resource id(s) not fetched, {} "
          "fetches running",
          txid, cold.size(), cold_fetches_);
      cold.clear();
    }
    const size_t fetched = joining_entries + (cold.empty() ? 0 : cold_entries);
    metrics_->ResourceIdsServed(query.entries.size() - fetched, fetched);
    if (cold.empty() && joined.empty()) {
      lock.unlock();
      AnswerQuery(request);
      return;
    }
    auto pending = std::make_shared<ColdQuery>();
    pending->request = std::move(request);
    pending->outstanding = joined.size() + cold.size();
    ++in_flight_;
    for (const std::shared_ptr<ColdFetch>& fetch : joined) {
      fetch->waiters.push_back(pending);
    }
    for (const auto& [resource, max_price] : cold) {
      auto fetch = std::make_shared<ColdFetch>();
      fetch->bucket = dht::PriceBucket(max_price);
      fetch->waiters.push_back(pending);
      fetching_[resource] = fetch;
      started.emplace_back(resource, fetch);
    }
    cold_fetches_ += cold.size();
  }
  for (const auto& [resource, fetch] : started) {
    StartColdFetch(resource, cold[resource], fetch);
  }
}

bool NodeImpl::AdmitResourceLocked(uint16_t resource) {
  if (resource < wire::kFirstPrivateResource) return true;  // standard
  if (private_ids_.count(resource) != 0) return true;
  if (private_ids_.size() >= kMaxPrivateResourceIds) return false;
  private_ids_.insert(resource);
  return true;
}

void NodeImpl::StartColdFetch(uint16_t resource, uint32_t max_price,
                              const std::shared_ptr<ColdFetch>& fetch) {
  bool watch;
  {
    std::lock_guard lock(mu_);
    auto watched = watched_.find(resource);
    watch = watched == watched_.end() || watched->second < fetch->bucket;
    if (watch) watched_[resource] = fetch->bucket;
  }
  // Watch first: nothing published between the fetch and the watch is
  // missed.
  if (watch) {
    dht_->Watch(resource, max_price, [this](const dht::OfferRecord& record) {
      std::lock_guard lock(mu_);
      index_.Apply(record, Now());
    });
  }
  dht_->Fetch(
      resource, max_price, {kColdFetchDeadline, kColdFetchLimit},
      [this, fetch](const std::vector<dht::OfferRecord>& records, bool) {
        OnColdAnswer(fetch, records);
      },
      [this, resource, fetch](const std::vector<dht::OfferRecord>& records,
                              dht::Dht::FetchProgress progress) {
        OnColdMore(resource, fetch, records, progress);
      });
}

void NodeImpl::OnColdAnswer(const std::shared_ptr<ColdFetch>& fetch,
                            const std::vector<dht::OfferRecord>& records) {
  std::vector<std::shared_ptr<ColdQuery>> ready;
  {
    std::lock_guard lock(mu_);
    const uint64_t at = Now();
    for (const dht::OfferRecord& record : records) index_.Apply(record, at);
    fetch->answered = true;
    for (const std::shared_ptr<ColdQuery>& waiter : fetch->waiters) {
      if (--waiter->outstanding == 0) ready.push_back(waiter);
    }
    fetch->waiters.clear();
  }
  for (const std::shared_ptr<ColdQuery>& query : ready) {
    AnswerQuery(query->request);
  }
  if (!ready.empty()) {
    std::lock_guard lock(mu_);
    in_flight_ -= ready.size();
    idle_.notify_all();
  }
}

void NodeImpl::OnColdMore(uint16_t resource,
                          const std::shared_ptr<ColdFetch>& fetch,
                          const std::vector<dht::OfferRecord>& records,
                          dht::Dht::FetchProgress progress) {
  std::lock_guard lock(mu_);
  const uint64_t at = Now();
  for (const dht::OfferRecord& record : records) index_.Apply(record, at);
  if (progress == dht::Dht::FetchProgress::kReading) return;
  const bool complete = progress == dht::Dht::FetchProgress::kComplete;
  --cold_fetches_;
  // Warm only when every key answered (a partial fetch is fetched again by
  // the next query; what arrived stays).
  if (complete) {
    uint32_t& warm = warm_[resource];
    warm = std::max(warm, fetch->bucket);
  }
  auto it = fetching_.find(resource);
  if (it != fetching_.end() && it->second == fetch) fetching_.erase(it);
}

void NodeImpl::AnswerQuery(Request& request) {
  const auto& query =
      std::get<protocol::QueryRequest>(request.decoded.packet.body);
  const protocol::Header& header = request.decoded.packet.header;
  protocol::Packet answer{protocol::AnswerHeaderFor(header, wire::Status::kOk),
                          {}};
  {
    std::lock_guard lock(mu_);
    answer.body = RunQuery(index_, query, Now(), OffersPerAnswer(header.check));
  }
  Send(request, answer);
}

}  // namespace crsp::node
