// The aggregator role (docs/scaling.md "Roles", "Election", "Adverts"):
// a node that stores a demand for an id checks whether it is among the
// id's closest nodes; if so it watches and reads every key of the id and,
// once warm, advertises itself under the rendezvous key until nobody asks
// about the id any more.
#include <spdlog/spdlog.h>

#include <chrono>
#include <map>
#include <optional>
#include <set>

#include "crsp/dht_adapter/keys.h"
#include "node_impl.h"

namespace crsp::node {

namespace agg = dht::aggregator;

namespace {

// The highest price of price bucket `bucket` (keys.h: octaves above 15).
uint32_t TopOfBucket(uint32_t bucket) {
  if (bucket >= dht::kPriceBuckets - 1) return UINT32_MAX;
  return (1u << (bucket + dht::kLowPriceBits)) - 1;
}

// Seconds since `last` (unix s), nullopt when there was none.
std::optional<std::chrono::seconds> Since(
    const std::map<uint16_t, uint64_t>& last, uint16_t resource,
    uint64_t now) {
  auto it = last.find(resource);
  if (it == last.end()) return std::nullopt;
  return std::chrono::seconds(now >= it->second ? now - it->second : 0);
}

}  // namespace

protocol::NodeId NodeImpl::SelfId() {
  {
    MutexLock lock(&agg_.mu);
    if (agg_.self) return *agg_.self;
  }
  const protocol::NodeId id = dht_->Info().node_id;  // may wait: no lock
  MutexLock lock(&agg_.mu);
  agg_.self = id;
  return id;
}

bool NodeImpl::ElectedHere(uint16_t resource,
                           const std::vector<agg::SearchNode>& searched,
                           std::span<const protocol::NodeId> suspects) {
  std::vector<protocol::NodeId> ids;
  for (const agg::SearchNode& node : searched) ids.push_back(node.id);
  // Info() only for an empty search: it may wait for OpenDHT's thread.
  const bool has_peers = searched.empty() && dht_->Info().good_peers > 0;
  return agg::Elected(agg::RendezvousKey(resource), SelfId(), ids, suspects,
                      has_peers);
}

void NodeImpl::CheckRole(uint16_t resource,
                         std::vector<protocol::NodeId> suspects) {
  const uint64_t now = Now();
  {
    MutexLock lock(&agg_.mu);
    if (agg_.aggregating.count(resource) || agg_.checking.count(resource)) {
      return;
    }
    if (!agg::DemandDue(Since(agg_.checked_at, resource, now),
                        !suspects.empty())) {
      return;
    }
    agg_.checked_at[resource] = now;
    agg_.checking.insert(resource);
  }
  dht_->GetRendezvous(
      resource, [this, resource, suspects = std::move(suspects)](
                    std::vector<agg::RendezvousValue>,
                    std::vector<agg::SearchNode> searched) {
        const bool elected = ElectedHere(resource, searched, suspects);
        {
          MutexLock lock(&agg_.mu);
          agg_.checking.erase(resource);
        }
        if (elected) BecomeAggregator(resource, dht::kPriceBuckets - 1);
      });
}

bool NodeImpl::BecomeAggregator(uint16_t resource, uint32_t first_bucket) {
  {
    MutexLock lock(&reads_.mu);
    if (!AdmitResourceLocked(resource)) return false;
  }
  {
    MutexLock lock(&agg_.mu);
    if (agg_.aggregating.count(resource)) return true;
    Aggregated& role = agg_.aggregating[resource];
    role.since = role.asked = role.checked = Now();
  }
  spdlog::info("aggregating resource id {:04x}", resource);
  // Warming, at once: querying nodes that find it demand no more
  // aggregators while it reads (each demand may elect another, ~30 MB).
  Advertise(resource, agg::kWarming);
  WarmUp(resource, first_bucket);
  return true;
}

void NodeImpl::WarmUp(uint16_t resource, uint32_t bucket) {
  auto fetch = std::make_shared<ColdFetch>();
  fetch->resource = resource;
  fetch->bucket = bucket;
  fetch->answered = true;  // nobody waits for it
  bool warm;
  {
    MutexLock lock(&reads_.mu);
    warm = WarmLocked(resource, bucket);
    if (!warm) {
      if (reads_.fetching.count(resource) == 0) {
        reads_.fetching[resource] = fetch;
        ++reads_.cold_fetches;
      } else {
        fetch.reset();  // one already runs; OnResourceWarm follows it
      }
    }
  }
  if (warm) {
    OnResourceWarm(resource);
  } else if (fetch) {
    StartColdFetch(resource, TopOfBucket(bucket), fetch);
  }
}

void NodeImpl::OnResourceWarm(uint16_t resource) {
  constexpr uint32_t kTop = dht::kPriceBuckets - 1;
  bool whole, fetching;
  {
    MutexLock lock(&reads_.mu);
    whole = WarmLocked(resource, kTop);
    fetching = reads_.fetching.count(resource) != 0;
  }
  uint64_t since;
  {
    MutexLock lock(&agg_.mu);
    auto role = agg_.aggregating.find(resource);
    if (role == agg_.aggregating.end() || role->second.warm) return;
    if (!whole) {
      since = 0;
    } else {
      role->second.warm = true;
      since = role->second.since;
    }
  }
  if (!whole) {
    // Warm up to the first query's price: the rest of the id next (once
    // this fetch ended), then it advertises (a forwarded query may ask any
    // price).
    if (!fetching) WarmUp(resource, kTop);
    return;
  }
  spdlog::info("resource id {:04x} warm: advertising", resource);
  // Read: from now on its writers push new records here, and a listener
  // would cost every put of the id ~3 datagrams per replica.
  dht_->StopListening(resource);
  Advertise(resource, since);
}

void NodeImpl::Advertise(uint16_t resource, uint64_t since) {
  if (edge_port_ == 0) return;  // nobody could reach this node's answers
  agg::Advert advert;
  advert.resource = resource;
  advert.node = SelfId();
  advert.port = edge_port_;
  advert.warm_since = since;
  {
    MutexLock lock(&agg_.mu);
    auto role = agg_.aggregating.find(resource);
    if (role == agg_.aggregating.end()) return;
    role->second.advertised = Now();
  }
  dht_->PutRendezvous(resource, agg::EncodeAdvert(advert), [resource](bool ok) {
    if (!ok) spdlog::warn("advert for resource id {:04x} not stored", resource);
  });
}

void NodeImpl::Demand(uint16_t resource,
                      std::vector<protocol::NodeId> suspects) {
  const uint64_t now = Now();
  {
    MutexLock lock(&agg_.mu);
    if (!agg::DemandDue(Since(agg_.demanded_at, resource, now),
                        !suspects.empty())) {
      return;
    }
    agg_.demanded_at[resource] = now;
  }
  spdlog::debug("demanding aggregators for resource id {:04x} ({} suspects)",
                resource, suspects.size());
  dht_->PutRendezvous(resource,
                      agg::EncodeDemand({resource, std::move(suspects)}),
                      [](bool) {});
}

void NodeImpl::TickAggregation(uint64_t now) {
  std::vector<std::pair<uint16_t, uint64_t>> advertise;
  std::vector<uint16_t> resign, recheck, rewarm;
  std::set<uint16_t> still_warming;  // warming advert due, if not rewarmed
  {
    MutexLock lock(&agg_.mu);
    for (auto& [resource, role] : agg_.aggregating) {
      const bool due = now >= role.advertised + agg::kAdvertRefresh.count();
      if (now >= role.asked + kIdleResignSec) {
        resign.push_back(resource);
      } else if (!role.warm) {
        rewarm.push_back(resource);
        if (due) still_warming.insert(resource);
      } else if (due) {
        advertise.emplace_back(resource, role.since);
      }
      if (now >= role.checked + RecheckAfter(role.since, role.checked)) {
        role.checked = now;
        recheck.push_back(resource);
      }
    }
    for (auto* until : {&agg_.failed_until, &agg_.busy_until}) {
      for (auto it = until->begin(); it != until->end();) {
        it = now >= it->second ? until->erase(it) : std::next(it);
      }
    }
    for (auto it = agg_.push_refused.begin(); it != agg_.push_refused.end();) {
      it = now >= it->second ? agg_.push_refused.erase(it) : std::next(it);
    }
    for (auto it = agg_.verified.begin(); it != agg_.verified.end();) {
      it = now >= it->second ? agg_.verified.erase(it) : std::next(it);
    }
    for (auto it = agg_.warming_seen.begin(); it != agg_.warming_seen.end();) {
      it = now >= it->second + kIdleResignSec ? agg_.warming_seen.erase(it)
                                              : std::next(it);
    }
    DropOldSnapshotsLocked(now);
  }
  for (uint16_t resource : resign) Resign(resource);
  for (const auto& [resource, since] : advertise) Advertise(resource, since);
  for (uint16_t resource : rewarm) {
    // An incomplete warm-up (a slow DHT) is started again once it ended.
    bool idle;
    {
      MutexLock lock(&reads_.mu);
      idle = reads_.fetching.count(resource) == 0;
    }
    if (idle) {
      {
        MutexLock lock(&agg_.mu);
        agg_.aggregating.erase(resource);
      }
      BecomeAggregator(resource, dht::kPriceBuckets - 1);  // advertises
    } else if (still_warming.count(resource) != 0) {
      Advertise(resource, agg::kWarming);
    }
  }
  for (uint16_t resource : recheck) {
    dht_->GetRendezvous(resource, [this, resource](
                                      std::vector<agg::RendezvousValue> values,
                                      std::vector<agg::SearchNode> searched) {
      const protocol::NodeId key = agg::RendezvousKey(resource);
      // Closer nodes serve the id: this node's last advert lapses within
      // kAdvertLifetime.
      if (agg::Resigns(key, SelfId(),
                       agg::UsableAdverts(key, resource,
                                          agg::AdvertsIn(values), searched))) {
        Resign(resource);
      }
    });
  }
}

void NodeImpl::Resign(uint16_t resource) {
  {
    MutexLock lock(&agg_.mu);
    if (agg_.aggregating.erase(resource) == 0) return;
  }
  spdlog::info("no longer aggregating resource id {:04x}", resource);
  dht_->Unwatch(resource);
  // The index keeps this node's own offers of the id: the write path's
  // ownership checks read them there.
  MutexLock write_lock(&writes_.mu);
  MutexLock read_lock(&reads_.mu);
  reads_.warm.erase(resource);
  reads_.watched.erase(resource);
  reads_.index.DropResource(resource);
  const uint64_t now = Now();
  for (const JournalEntry& entry : writes_.local.All()) {
    if (entry.record.offer.resource == resource) {
      reads_.index.Apply(entry.record, now);
    }
  }
}

}  // namespace crsp::node
