// Pushed records (docs/scaling.md "Pushed records"): the node that accepted
// a registration tells the id's aggregators once the DHT confirmed it
// (0x42, acked by 0x43), instead of every aggregator listening on the id's
// 1,408 keys; and the aggregator's side, which takes pushed records into
// its index after the checks a record read from the DHT passes.
#include <spdlog/spdlog.h>

#include <map>
#include <optional>
#include <utility>

#include "node_impl.h"
#include "source_prefix.h"

namespace crsp::node {

namespace agg = dht::aggregator;

void NodeImpl::PushRecords(std::vector<dht::OfferRecord> records) {
  if (!send_to_ || records.empty()) return;
  std::map<uint16_t, std::vector<dht::OfferRecord>> by_id;
  for (dht::OfferRecord& record : records) {
    by_id[record.offer.resource].push_back(std::move(record));
  }
  const protocol::NodeId self = SelfId();  // may wait: before the lock
  const uint64_t now = Now();
  for (auto& [resource, of_id] : by_id) {
    std::vector<agg::ForwardTarget> targets;
    bool read = false;
    bool follow_up = false;
    {
      MutexLock lock(&agg_.mu);
      auto cache = agg_.adverts.find(resource);
      std::vector<agg::ForwardTarget> usable;
      if (cache != agg_.adverts.end()) {
        usable = UsableTargetsLocked(cache->second.targets, now);
      }
      // Fewer usable aggregators than k: read again after a second (as a
      // query does), since new ones may be warming up now and only take
      // what they are pushed or read (their catch-up reads cover the
      // second; docs/scaling.md "Pushed records"). At most one read per
      // second per id, whatever the registrations.
      const uint64_t keep = agg::TooFewAggregators(usable.size())
                                ? kFewAdvertsCacheSec
                                : agg::kAdvertCache.count();
      if (cache != agg_.adverts.end() && now < cache->second.read_at + keep) {
        if (agg::TooFewAggregators(usable.size()) &&
            agg_.follow_up_records + of_id.size() <= kMaxFollowUps) {
          std::vector<dht::OfferRecord>& later = agg_.follow_ups[resource];
          later.insert(later.end(), of_id.begin(), of_id.end());
          agg_.follow_up_records += of_id.size();
          follow_up = agg_.following_up.insert(resource).second;
        }
        targets = PushTargetsLocked(resource, usable, self, now);
      } else if (agg_.push_backlog_records + of_id.size() <= kMaxPushBacklog) {
        std::vector<dht::OfferRecord>& backlog = agg_.push_backlog[resource];
        backlog.insert(backlog.end(), of_id.begin(), of_id.end());
        agg_.push_backlog_records += of_id.size();
        read = true;
      } else {
        metrics_->Pushed(PushEvent::kNotSent, of_id.size());
        continue;
      }
    }
    if (read) {
      ReadAdverts(std::nullopt, resource, /*asked=*/false);
    } else if (!targets.empty()) {
      SendPushes(resource, targets, of_id);
    }
    if (follow_up) {
      const uint16_t id = resource;  // clang 14: no captured bindings
      timers_->After(kPushFollowUp, [this, id] { FollowUp(id); });
    }
  }
}

void NodeImpl::FollowUp(uint16_t resource) {
  {
    MutexLock lock(&agg_.mu);
    agg_.following_up.erase(resource);  // later records: a later follow-up
    auto it = agg_.follow_ups.find(resource);
    if (it == agg_.follow_ups.end()) return;
    std::vector<dht::OfferRecord>& due = agg_.follow_ups_due[resource];
    due.insert(due.end(), it->second.begin(), it->second.end());
    agg_.follow_ups.erase(it);
  }
  ReadAdverts(std::nullopt, resource, /*asked=*/false);
}

void NodeImpl::PushFollowUps(uint16_t resource) {
  std::vector<dht::OfferRecord> records;
  std::vector<agg::ForwardTarget> targets;
  const protocol::NodeId self = SelfId();
  {
    MutexLock lock(&agg_.mu);
    // Only records whose follow-up came (FollowUp): a read that ended
    // sooner may predate the aggregator they are for.
    auto it = agg_.follow_ups_due.find(resource);
    if (it == agg_.follow_ups_due.end()) return;
    records = std::move(it->second);
    agg_.follow_ups_due.erase(it);
    agg_.follow_up_records -= records.size();
    auto cache = agg_.adverts.find(resource);
    if (cache == agg_.adverts.end()) return;
    const uint64_t now = Now();
    targets = PushTargetsLocked(
        resource, UsableTargetsLocked(cache->second.targets, now), self, now);
  }
  if (!records.empty() && !targets.empty()) {
    SendPushes(resource, targets, records);
  }
}

std::vector<agg::ForwardTarget> NodeImpl::PushTargetsLocked(
    uint16_t resource, const std::vector<agg::ForwardTarget>& usable,
    const protocol::NodeId& self, uint64_t now) {
  std::vector<agg::ForwardTarget> targets;
  for (const agg::ForwardTarget& target : usable) {
    auto refused = agg_.push_refused.find({resource, target.node});
    if (target.node != self && targets.size() < kMaxPushTargets &&
        (refused == agg_.push_refused.end() || now >= refused->second)) {
      targets.push_back(target);
    }
  }
  return targets;
}

void NodeImpl::PushBacklog(uint16_t resource) {
  std::vector<dht::OfferRecord> backlog;
  {
    MutexLock lock(&agg_.mu);
    auto it = agg_.push_backlog.find(resource);
    if (it == agg_.push_backlog.end()) return;
    backlog = std::move(it->second);
    agg_.push_backlog.erase(it);
    agg_.push_backlog_records -= backlog.size();
  }
  PushRecords(std::move(backlog));  // the adverts are fresh now
}

void NodeImpl::SendPushes(uint16_t resource,
                          const std::vector<agg::ForwardTarget>& targets,
                          const std::vector<dht::OfferRecord>& records) {
  // As many records as fit kMaxAnswer per push, or one alone if larger.
  constexpr wire::CheckType kCheck = wire::CheckType::kCrc32;
  const size_t empty =
      wire::kHeaderSize + wire::kTrailerSize[static_cast<size_t>(kCheck)];
  std::vector<protocol::RecordPush> pushes(1);
  size_t size = empty;
  for (const dht::OfferRecord& record : records) {
    std::vector<std::byte> bytes = dht::EncodeRecord(record);
    const size_t adds = protocol::PushedRecordSize(bytes.size());
    if (!pushes.back().records.empty() &&
        (size + adds > wire::kMaxAnswer ||
         pushes.back().records.size() == wire::kMaxPushRecords)) {
      pushes.emplace_back();
      size = empty;
    }
    pushes.back().records.push_back(std::move(bytes));
    size += adds;
  }
  for (const agg::ForwardTarget& target : targets) {
    for (const protocol::RecordPush& push : pushes) {
      protocol::PeerPacket packet;
      packet.header.protocol = static_cast<uint8_t>(wire::Protocol::kControl);
      packet.header.type = wire::kTypeRecordPush;
      packet.header.check = kCheck;
      packet.body = push;
      uint32_t txid;
      {
        MutexLock lock(&agg_.mu);
        if (agg_.pushes.size() >= kMaxPushesInFlight) {
          metrics_->Pushed(PushEvent::kNotSent, push.records.size());
          continue;
        }
        txid = agg_.next_txid++;
        packet.header.txid = txid;
        std::vector<std::byte> datagram = protocol::EncodePeer(packet);
        if (datagram.empty()) continue;
        agg_.pushes[txid] = PendingPush{resource, target, std::move(datagram)};
      }
      SendPush(txid);
    }
  }
}

void NodeImpl::SendPush(uint32_t txid) {
  Sender to;
  std::vector<std::byte> datagram;
  {
    MutexLock lock(&agg_.mu);
    auto it = agg_.pushes.find(txid);
    if (it == agg_.pushes.end()) return;
    to = Sender{it->second.target.address, it->second.target.port};
    datagram = it->second.datagram;
  }
  send_to_(to, std::move(datagram));
  metrics_->Pushed(PushEvent::kSent, 1);
  timers_->After(kPushTimeout, [this, txid] { OnPushTimeout(txid); });
}

void NodeImpl::OnPushTimeout(uint32_t txid) {
  {
    MutexLock lock(&agg_.mu);
    auto it = agg_.pushes.find(txid);
    if (it == agg_.pushes.end()) return;  // acked
    if (it->second.tries < kPushTries) {
      ++it->second.tries;
    } else {
      // Silent three times: skipped (for forwards too) until its adverts
      // are read again; the record reaches it by its next re-read.
      const agg::ForwardTarget& target = it->second.target;
      spdlog::debug("{:04x}: aggregator at {} port {} acked no push",
                    it->second.resource, LogAddress{target.address},
                    target.port);
      agg_.failed_until[target.node] = Now() + agg::kAdvertCache.count();
      agg_.pushes.erase(it);
      metrics_->Pushed(PushEvent::kGivenUp, 1);
      return;
    }
  }
  SendPush(txid);
}

void NodeImpl::OnPushAck(const protocol::PeerPacket& packet,
                         const Sender& from) {
  MutexLock lock(&agg_.mu);
  auto it = agg_.pushes.find(packet.header.txid);
  if (it == agg_.pushes.end()) return;  // late, or never pushed
  const agg::ForwardTarget& target = it->second.target;
  if (target.address != from.address || target.port != from.port) return;
  // Over its budget for this node: nothing taken; the timeout resends.
  // MALFORMED is how a node answers an unknown packet type, which a
  // node-to-node message is from an address it does not (yet) count among
  // its DHT peers: a node started a moment ago refused a withdrawal's
  // push so, and taken as "not an aggregator of the id", it was pushed
  // nothing more for a minute and served the withdrawn offer on.
  if (packet.header.status == wire::Status::kRateLimited ||
      packet.header.status == wire::Status::kMalformed) {
    return;
  }
  if (packet.header.status != wire::Status::kOk) {
    // It does not aggregate the id (any more; its advert lapses within
    // kAdvertLifetime): not pushed this id until the adverts are read again.
    // Per id: it may well serve others.
    agg_.push_refused[{it->second.resource, target.node}] =
        Now() + agg::kAdvertCache.count();
  }
  metrics_->Pushed(packet.header.status == wire::Status::kOk
                       ? PushEvent::kAcked
                       : PushEvent::kRefused,
                   1);
  agg_.pushes.erase(it);
}

void NodeImpl::TakePushedRecords(const protocol::PeerPacket& packet,
                                 size_t size, const Sender& from,
                                 ReplyFn reply) {
  const auto& push = std::get<protocol::RecordPush>(packet.body);
  const uint64_t now = Now();
  protocol::PeerPacket ack;
  ack.header = packet.header;
  ack.header.type = wire::kTypePushAck;
  ack.header.status = wire::Status::kOk;
  ack.body = protocol::PushAck{};
  const size_t ack_size =
      wire::kHeaderSize +
      wire::kTrailerSize[static_cast<size_t>(packet.header.check)];
  bool within_budget;
  {
    MutexLock lock(&budgets_.mu);
    within_budget =
        budgets_.peers.TryConsume(from.address, size + ack_size, now);
  }
  if (!within_budget) {
    metrics_->RateLimited(LimitReason::kPeerBudget);
    ack.header.status = wire::Status::kRateLimited;
  } else {
    // Decoded and verified as a record read from the DHT is (AcceptRecord:
    // signature, expiry; flag bit 0 set only for a verified signature).
    std::vector<dht::OfferRecord> records;
    for (const std::vector<std::byte>& bytes : push.records) {
      if (std::optional<dht::OfferRecord> record =
              dht::AcceptRecord(bytes, now)) {
        records.push_back(std::move(*record));
      }
    }
    size_t taken = 0;
    bool foreign = false;
    {
      // Checked under reads_.mu: Resign drops the id from the index under
      // it after leaving `aggregating`, so no record outlives the role.
      MutexLock read_lock(&reads_.mu);
      for (const dht::OfferRecord& record : records) {
        bool ours;
        {
          MutexLock lock(&agg_.mu);
          ours = agg_.aggregating.count(record.offer.resource) != 0;
        }
        if (!ours) {
          foreign = true;
          continue;
        }
        reads_.index.Apply(record, now);
        ++taken;
      }
    }
    metrics_->Pushed(PushEvent::kRecordsTaken, taken);
    if (foreign) ack.header.status = wire::Status::kIncomplete;
  }
  std::vector<std::byte> bytes = protocol::EncodePeer(ack);
  if (!bytes.empty()) reply(std::move(bytes));
}

}  // namespace crsp::node
