#include "crsp/dht_adapter/memory_dht.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "crsp/dht_adapter/aggregator_role.h"
#include "crsp/dht_adapter/keys.h"
#include "crsp/support/clock.h"
#include "record_policy.h"

namespace crsp::dht {
namespace {

uint16_t ResourceOf(const aggregator::RendezvousValue& value) {
  return value.kind == aggregator::RendezvousValue::Kind::kAdvert
             ? value.advert.resource
             : value.demand.resource;
}

}  // namespace

InMemoryDht::InMemoryDht(Clock now, protocol::NodeId node_id)
    : now_(now ? std::move(now) : Clock(support::UnixSeconds)),
      node_id_(node_id) {}

bool InMemoryDht::Accept(const std::string& key_name,
                         std::span<const std::byte> bytes, uint64_t now) const {
  std::optional<OfferRecord> record = AcceptRecord(bytes, now);
  return record && KeyAllowedFor(key_name, *record);
}

void InMemoryDht::DropExpiredLocked(uint64_t now) const {
  for (auto key = store_.begin(); key != store_.end();) {
    std::erase_if(key->second, [now](const auto& entry) {
      return !AcceptRecord(entry.second, now);
    });
    key = key->second.empty() ? store_.erase(key) : std::next(key);
  }
}

std::vector<Dht::RecordSeen> InMemoryDht::WatchersOfLocked(
    const std::string& key_name) const {
  std::vector<RecordSeen> out;
  uint16_t resource = 0;
  uint32_t bucket = 0, shard = 0;
  if (!ParseKeyName(key_name, &resource, &bucket, &shard)) return out;
  for (const Watcher& w : watchers_) {
    if (w.mode == WatchMode::kListen && w.resource == resource &&
        bucket <= w.max_bucket) {
      out.push_back(w.seen);
    }
  }
  return out;
}

void InMemoryDht::Publish(const OfferRecord& record, PutDone done) {
  const uint64_t now = now_();
  const std::vector<std::byte> bytes = EncodeRecord(record);
  const std::string key = KeyFor(record.offer);
  std::optional<OfferRecord> accepted;
  std::vector<RecordSeen> watchers;
  {
    std::lock_guard lock(mu_);
    if (!shut_down_ && !fail_puts_ && Accept(key, bytes, now)) {
      accepted = AcceptRecord(bytes, now);
      std::vector<std::string>& keys =
          published_keys_[{record.offer.device, record.offer.resource}];
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
        keys.push_back(key);
      }
      const uint64_t id =
          ValueIdFor(record.offer.device, record.offer.resource, node_id_);
      // Older keys of this offer keep a copy of the newest version, so a
      // reader of an older price's bucket still sees it is outdated.
      for (const std::string& k : keys) store_[k][id] = bytes;
      // Each watcher once, even when several of the keys are its.
      for (const Watcher& w : watchers_) {
        if (w.mode != WatchMode::kListen) continue;
        for (const std::string& k : keys) {
          uint16_t resource = 0;
          uint32_t bucket = 0, shard = 0;
          if (ParseKeyName(k, &resource, &bucket, &shard) &&
              resource == w.resource && bucket <= w.max_bucket) {
            watchers.push_back(w.seen);
            break;
          }
        }
      }
    }
  }
  if (!accepted) {
    done(false, 0);
    return;
  }
  for (RecordSeen& seen : watchers) seen(*accepted);
  done(true, 1);
}

std::vector<OfferRecord> InMemoryDht::Read(uint16_t resource,
                                           uint32_t max_price) const {
  const uint64_t now = now_();
  std::vector<OfferRecord> records;
  std::lock_guard lock(mu_);
  DropExpiredLocked(now);
  for (const std::string& key : KeysFor(resource, max_price)) {
    auto it = store_.find(key);
    if (it == store_.end()) continue;
    for (const auto& [id, bytes] : it->second) {
      std::optional<OfferRecord> r = AcceptRecord(bytes, now);
      if (r && r->offer.resource == resource &&
          std::find(records.begin(), records.end(), *r) == records.end()) {
        records.push_back(std::move(*r));
      }
    }
  }
  return records;
}

void InMemoryDht::Fetch(uint16_t resource, uint32_t max_price,
                        FetchDeadlines /*deadlines*/, FetchDone answer,
                        FetchMore more) {
  {
    std::lock_guard lock(mu_);
    if (hold_fetches_) {
      held_fetches_.push_back(
          {resource, max_price, std::move(answer), std::move(more)});
      return;
    }
  }
  answer(Read(resource, max_price), /*complete=*/true);
  more({}, FetchProgress::kComplete);
}

void InMemoryDht::Watch(uint16_t resource, uint32_t max_price, RecordSeen seen,
                        WatchMode mode) {
  // Like OpenDHT's listen, a new watcher first sees what is stored.
  std::vector<OfferRecord> existing = Read(resource, max_price);
  {
    std::lock_guard lock(mu_);
    // No replica counts here: kListenWhereLarge re-reads every key.
    watchers_.push_back(
        {resource, PriceBucket(max_price), seen,
         mode == WatchMode::kListenWhereLarge ? WatchMode::kReread : mode});
  }
  for (const OfferRecord& r : existing) seen(r);
}

void InMemoryDht::RunRereads() {
  std::vector<Watcher> rereads;
  {
    std::lock_guard lock(mu_);
    for (const Watcher& w : watchers_) {
      if (w.mode == WatchMode::kReread) rereads.push_back(w);
    }
  }
  for (const Watcher& w : rereads) {
    // The highest price of the watcher's last bucket (keys.h: octaves).
    const uint32_t top = w.max_bucket >= kPriceBuckets - 1
                             ? UINT32_MAX
                             : (1u << (w.max_bucket + kLowPriceBits)) - 1;
    for (const OfferRecord& r : Read(w.resource, top)) w.seen(r);
  }
}

DhtInfo InMemoryDht::Info() const {
  DhtInfo info;
  info.node_id = node_id_;
  {
    std::lock_guard lock(mu_);
    info.good_peers = good_peers_;
  }
  info.stored_values = static_cast<uint32_t>(StoredValues());
  return info;
}

void InMemoryDht::Shutdown(std::chrono::milliseconds timeout) {
  std::lock_guard lock(mu_);
  shut_down_ = true;
  watchers_.clear();
}

void InMemoryDht::GetRendezvous(uint16_t resource, RendezvousDone done) {
  const uint64_t now = now_();
  std::vector<aggregator::RendezvousValue> values;
  std::vector<aggregator::SearchNode> searched;
  {
    std::lock_guard lock(mu_);
    if (hold_rendezvous_reads_) {
      held_reads_.emplace_back(resource, std::move(done));
      return;
    }
    searched = searched_;
    auto it = rendezvous_.find(resource);
    if (it != rendezvous_.end()) {
      std::erase_if(it->second, [now](const auto& entry) {
        return entry.second.lapses_at <= now;
      });
      for (const auto& [id, stored] : it->second) {
        values.push_back(stored.value);
      }
    }
  }
  done(std::move(values), std::move(searched));
}

void InMemoryDht::StoreRendezvous(const aggregator::RendezvousValue& value) {
  const uint64_t lapses_at =
      now_() + static_cast<uint64_t>(aggregator::kAdvertLifetime.count());
  std::function<void(const aggregator::Demand&)> hook;
  {
    std::lock_guard lock(mu_);
    rendezvous_[ResourceOf(value)][next_rendezvous_id_++] = {value, lapses_at};
    if (value.kind == aggregator::RendezvousValue::Kind::kDemand) {
      hook = on_demand_;
    }
  }
  if (hook) hook(value.demand);
}

void InMemoryDht::PutRendezvous(uint16_t resource, std::vector<std::byte> value,
                                std::function<void(bool ok)> done) {
  std::optional<aggregator::RendezvousValue> decoded =
      aggregator::DecodeRendezvousValue(value);
  bool refused;
  {
    std::lock_guard lock(mu_);
    refused = shut_down_ || fail_puts_;
  }
  if (refused || !decoded || ResourceOf(*decoded) != resource) {
    done(false);
    return;
  }
  StoreRendezvous(*decoded);
  done(true);
}

void InMemoryDht::OnDemand(
    std::function<void(const aggregator::Demand& demand)> demand) {
  std::lock_guard lock(mu_);
  on_demand_ = std::move(demand);
}

void InMemoryDht::Unwatch(uint16_t resource) {
  std::lock_guard lock(mu_);
  std::erase_if(watchers_, [resource](const Watcher& w) {
    return w.resource == resource;
  });
}

void InMemoryDht::StopListening(uint16_t resource) {
  std::lock_guard lock(mu_);
  for (Watcher& w : watchers_) {
    if (w.resource == resource) w.mode = WatchMode::kReread;
  }
}

void InMemoryDht::FetchKeyOf(const protocol::Offer& offer,
                             std::chrono::milliseconds /*deadline*/,
                             FetchDone done) {
  const uint64_t now = now_();
  std::vector<OfferRecord> records;
  {
    std::lock_guard lock(mu_);
    DropExpiredLocked(now);
    auto it = store_.find(KeyFor(offer));
    if (it != store_.end()) {
      for (const auto& [id, bytes] : it->second) {
        std::optional<OfferRecord> r = AcceptRecord(bytes, now);
        if (r && r->offer.resource == offer.resource &&
            std::find(records.begin(), records.end(), *r) == records.end()) {
          records.push_back(std::move(*r));
        }
      }
    }
  }
  done(std::move(records), /*complete=*/true);
}

bool InMemoryDht::IsPeer(const protocol::Ipv6Address& address) const {
  std::lock_guard lock(mu_);
  return peers_.contains(address);
}

void InMemoryDht::SetSearched(std::vector<aggregator::SearchNode> nodes) {
  std::lock_guard lock(mu_);
  searched_ = std::move(nodes);
}

void InMemoryDht::HoldRendezvousReads(bool hold) {
  std::vector<std::pair<uint16_t, RendezvousDone>> held;
  {
    std::lock_guard lock(mu_);
    hold_rendezvous_reads_ = hold;
    if (!hold) held = std::exchange(held_reads_, {});
  }
  for (auto& [resource, done] : held) GetRendezvous(resource, std::move(done));
}

void InMemoryDht::HoldFetches(bool hold) {
  std::vector<HeldFetch> held;
  {
    std::lock_guard lock(mu_);
    hold_fetches_ = hold;
    if (!hold) held = std::exchange(held_fetches_, {});
  }
  for (HeldFetch& fetch : held) {
    fetch.answer(Read(fetch.resource, fetch.max_price), /*complete=*/true);
    fetch.more({}, FetchProgress::kComplete);
  }
}

void InMemoryDht::SetGoodPeers(uint32_t count) {
  std::lock_guard lock(mu_);
  good_peers_ = count;
}

void InMemoryDht::AddPeer(const protocol::Ipv6Address& address) {
  std::lock_guard lock(mu_);
  peers_.insert(address);
}

bool InMemoryDht::StoreRaw(const std::string& key_name,
                           std::span<const std::byte> bytes) {
  // OpenDHT picks the policy by the value's type; raw bytes have none, so
  // their shape does: a rendezvous value never decodes as a record.
  if (std::optional<aggregator::RendezvousValue> value =
          aggregator::DecodeRendezvousValue(bytes)) {
    if (key_name != aggregator::RendezvousKeyName(ResourceOf(*value))) {
      return false;
    }
    StoreRendezvous(*value);
    return true;
  }
  const uint64_t now = now_();
  std::optional<OfferRecord> accepted = AcceptRecord(bytes, now);
  if (!accepted || !KeyAllowedFor(key_name, *accepted)) return false;
  std::vector<RecordSeen> watchers;
  {
    std::lock_guard lock(mu_);
    // Raw values get ids from the top of the range, away from ValueIdFor's
    // by construction only in practice; collisions just overwrite.
    store_[key_name][~next_raw_id_++] =
        std::vector<std::byte>(bytes.begin(), bytes.end());
    watchers = WatchersOfLocked(key_name);
  }
  for (RecordSeen& seen : watchers) seen(*accepted);
  return true;
}

void InMemoryDht::SetFailPuts(bool fail) {
  std::lock_guard lock(mu_);
  fail_puts_ = fail;
}

size_t InMemoryDht::StoredValues() const {
  std::lock_guard lock(mu_);
  const uint64_t now = now_();
  DropExpiredLocked(now);
  size_t n = 0;
  for (const auto& [key, values] : store_) n += values.size();
  for (auto& [resource, values] : rendezvous_) {
    std::erase_if(values, [now](const auto& entry) {
      return entry.second.lapses_at <= now;
    });
    n += values.size();
  }
  return n;
}

}  // namespace crsp::dht
