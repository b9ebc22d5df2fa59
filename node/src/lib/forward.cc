// Queries for ids this node does not aggregate (docs/scaling.md "Querying
// node"): forwarded to the id's aggregators (0x40), whose answers (0x41)
// go back to the buyer once this node verified their signed offers; with
// no aggregator to answer, a direct read of the id's keys. And the
// aggregator's side: answering forwarded queries from the index.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <optional>
#include <utility>

#include "crsp/dht_adapter/keys.h"
#include "node_impl.h"
#include "query_engine.h"
#include "source_prefix.h"

namespace crsp::node {
namespace {

namespace agg = dht::aggregator;

// The highest price in the bucket of `price`: reading up to it costs the
// same keys.
uint32_t BucketTop(uint32_t price) {
  const uint32_t bucket = dht::PriceBucket(price);
  // 64-bit: in 32 bits, hi - lo + 1 wraps to 0 for price 0.
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

// The highest price bucket the entries of `query` read.
uint32_t MaxBucket(const protocol::QueryRequest& query) {
  uint32_t bucket = 0;
  for (const protocol::QueryEntry& entry : query.entries) {
    bucket = std::max(bucket, dht::PriceBucket(entry.max_price));
  }
  return bucket;
}

// An offer's fields as a key of AggregationState::verified.
std::string OfferBytes(const protocol::Offer& offer) {
  std::string key;
  key.reserve(72);
  auto put = [&key](const auto& field) {
    key.append(reinterpret_cast<const char*>(&field), sizeof field);
  };
  put(offer.device);
  put(offer.contact);
  put(offer.contact_port);
  put(offer.device_kind);
  put(offer.currency);
  put(offer.resource);
  put(offer.unit);
  put(offer.quantity);
  put(offer.price);
  put(offer.valid_from);
  put(offer.valid_until);
  return key;
}

// Whether `cache` is due to be read again. Fewer adverts than aggregators
// (an id whose aggregators are still warming up, or dying): soon, not in a
// minute.
bool Stale(const AdvertCache& cache, uint64_t now) {
  if (cache.asked_at == 0) return true;
  const uint64_t keep = agg::TooFewAggregators(cache.targets.size())
                            ? kFewAdvertsCacheSec
                            : agg::kAdvertCache.count();
  return now >= cache.asked_at + keep;
}

// A direct read of a query's ids (DirectRead): what arrived, per id.
struct DirectReadState {
  Request request;
  size_t outstanding = 0;
  bool complete = true;
  std::vector<dht::OfferRecord> records;
};

}  // namespace

bool NodeImpl::AggregatedHere(const protocol::QueryRequest& query) {
  const uint64_t now = Now();
  {
    MutexLock lock(&agg_.mu);
    for (const protocol::QueryEntry& entry : query.entries) {
      if (agg_.aggregating.count(entry.resource) == 0) return false;
    }
  }
  {
    MutexLock lock(&reads_.mu);
    if (!ReadEverythingLocked(query)) return false;
  }
  MutexLock lock(&agg_.mu);
  for (const protocol::QueryEntry& entry : query.entries) {
    auto role = agg_.aggregating.find(entry.resource);
    if (role == agg_.aggregating.end()) return false;  // resigned meanwhile
    role->second.asked = now;
  }
  return true;
}

bool NodeImpl::WarmingHere(const protocol::QueryRequest& query,
                           std::vector<uint16_t>* stale_adverts) {
  const uint64_t now = Now();
  MutexLock lock(&agg_.mu);
  std::vector<uint16_t> stale;
  for (const protocol::QueryEntry& entry : query.entries) {
    if (agg_.aggregating.count(entry.resource) == 0) return false;
    // A warm aggregator answers exactly now; this node's warm-up may take
    // seconds (a takeover beside aggregators that serve).
    auto cached = agg_.adverts.find(entry.resource);
    if (cached == agg_.adverts.end() || Stale(cached->second, now)) {
      stale.push_back(entry.resource);
    }
    if (cached == agg_.adverts.end()) continue;
    for (const agg::ForwardTarget& target :
         UsableTargetsLocked(cached->second.targets, now)) {
      if (target.warm) return false;
    }
  }
  for (const protocol::QueryEntry& entry : query.entries) {
    agg_.aggregating[entry.resource].asked = now;
  }
  std::sort(stale.begin(), stale.end());
  stale.erase(std::unique(stale.begin(), stale.end()), stale.end());
  *stale_adverts = std::move(stale);
  return true;
}

bool NodeImpl::BeginQuery(const Request& request) {
  MutexLock lock(&agg_.mu);
  return agg_.running
      .emplace(request.from.address, request.from.port,
               request.decoded.packet.header.txid)
      .second;
}

void NodeImpl::SendQueryAnswer(const Request& request,
                               const protocol::Packet& answer) {
  {
    MutexLock lock(&agg_.mu);
    agg_.running.erase({request.from.address, request.from.port,
                        request.decoded.packet.header.txid});
  }
  Send(request, answer);
}

void NodeImpl::CheckSelf(uint16_t resource, uint32_t bucket) {
  const uint64_t now = Now();
  {
    MutexLock lock(&agg_.mu);
    if (agg_.aggregating.count(resource)) return;
    auto last = agg_.self_checked_at.find(resource);
    if (last != agg_.self_checked_at.end() &&
        now < last->second + agg::kAdvertCache.count()) {
      return;
    }
    agg_.self_checked_at[resource] = now;
  }
  dht_->GetRendezvous(resource, [this, resource, bucket](
                                    std::vector<agg::RendezvousValue>,
                                    std::vector<agg::SearchNode> searched) {
    if (ElectedHere(resource, searched)) BecomeAggregator(resource, bucket);
  });
}

void NodeImpl::ForwardQuery(Request& request, uint16_t resource) {
  const uint64_t now = Now();
  auto forward = std::make_shared<PendingForward>();
  forward->resource = resource;
  bool stale = true;
  {
    MutexLock lock(&agg_.mu);
    auto cached = agg_.adverts.find(resource);
    if (cached != agg_.adverts.end()) {
      stale = Stale(cached->second, now);
      forward->targets = UsableTargetsLocked(cached->second.targets, now);
    }
  }
  if (forward->targets.empty() &&
      SnapshotFor(std::get<protocol::QueryRequest>(
          request.decoded.packet.body))) {
    // A next page of an id this node just read: from that read, at once.
    if (stale) ReadAdverts(std::nullopt, resource);
    DirectRead(std::move(request));
    return;
  }
  if (forward->targets.empty() && stale) {
    ReadAdverts(std::move(request), resource);  // the buyer waits for it
    return;
  }
  // Known aggregators answer now, however old the adverts; a stale cache
  // is read again beside (stale-while-revalidate), and a fresh one with no
  // usable aggregator means a direct read (SendForward).
  if (stale) ReadAdverts(std::nullopt, resource);
  forward->request = std::move(request);
  SendForward(forward);
}

void NodeImpl::ReadAdverts(std::optional<Request> request, uint16_t resource,
                           bool asked) {
  // The buyer waits for the adverts at most kAdvertsDeadline: a search
  // that meets dead or paused peers takes seconds (OPENDHT-NOTES.md), and
  // then the query is read directly while the adverts still come in for
  // the next one. One read of an id's adverts runs at a time; queries that
  // come meanwhile wait for that one.
  std::shared_ptr<WaitingQuery> waiter;
  if (request) waiter = std::make_shared<WaitingQuery>(std::move(*request));
  bool start;
  {
    MutexLock lock(&agg_.mu);
    auto [reading, inserted] = agg_.reading_adverts.try_emplace(resource);
    if (waiter) reading->second.push_back(waiter);
    if (asked) agg_.adverts_asked.insert(resource);
    start = inserted;
  }
  if (waiter) {
    timers_->After(kAdvertsDeadline, [this, waiter, resource] {
      if (std::optional<Request> late = waiter->Take()) {
        spdlog::debug("adverts of {:04x} late: direct read", resource);
        DirectRead(std::move(*late));
      }
    });
  }
  if (!start) return;
  // Also when this node cannot forward: it learns whether it should
  // aggregate the id itself (a lone node always should).
  dht_->GetRendezvous(resource,
                      [this, resource](std::vector<agg::RendezvousValue> values,
                                       std::vector<agg::SearchNode> searched) {
                        std::vector<std::shared_ptr<WaitingQuery>> waiters;
                        bool asked;
                        {
                          MutexLock lock(&agg_.mu);
                          auto reading = agg_.reading_adverts.find(resource);
                          if (reading != agg_.reading_adverts.end()) {
                            waiters = std::move(reading->second);
                            agg_.reading_adverts.erase(reading);
                          }
                          asked = agg_.adverts_asked.erase(resource) != 0;
                        }
                        std::vector<Request> requests;
                        for (const std::shared_ptr<WaitingQuery>& w : waiters) {
                          if (std::optional<Request> r = w->Take())
                            requests.push_back(std::move(*r));
                        }
                        OnAdverts(std::move(requests), resource, asked,
                                  std::move(values), std::move(searched));
                      });
}

void NodeImpl::OnAdverts(std::vector<Request> requests, uint16_t resource,
                         bool asked, std::vector<agg::RendezvousValue> values,
                         std::vector<agg::SearchNode> searched) {
  const protocol::NodeId key = agg::RendezvousKey(resource);
  const std::vector<agg::Advert> adverts = agg::AdvertsIn(values);
  std::vector<agg::ForwardTarget> targets =
      agg::UsableAdverts(key, resource, adverts, searched);
  if (!asked) {
    // Read for pushes only: cached, and the pushes that waited sent.
    {
      MutexLock lock(&agg_.mu);
      AdvertCache& cache = agg_.adverts[resource];
      cache.targets = targets;
      cache.read_at = Now();  // asked_at stays: nothing was checked
    }
    PushFollowUps(resource);
    PushBacklog(resource);
    return;
  }
  // This node may itself be one of the closest: then it aggregates the id
  // (a lone node, a small cluster) without waiting for a demand, the
  // waiting queries' price buckets first. Not while it can forward to k
  // aggregators: on a loaded host a search ends thin and ranks the querying
  // node among the closest for want of knowing closer ones (seen: 6.4
  // aggregators per id in a 20-node memory run, ~30 MB each).
  if (agg::TooFewAggregators(targets.size()) &&
      ElectedHere(resource, searched)) {
    uint32_t bucket = 0;
    for (const Request& r : requests) {
      bucket = std::max(
          bucket,
          MaxBucket(std::get<protocol::QueryRequest>(r.decoded.packet.body)));
    }
    BecomeAggregator(resource,
                     requests.empty() ? dht::kPriceBuckets - 1 : bucket);
  }
  // Too few aggregators: none usable here, or fewer than k advertise at
  // all. Not merely fewer than k met by this node's search (a thin search
  // on a loaded host); and adverts this node cannot check (no search met
  // their node) never keep it from demanding when it can forward to none.
  if (targets.empty() ||
      agg::TooFewAggregators(agg::Advertisers(resource, adverts))) {
    Demand(resource, {});
  }
  const uint64_t now = Now();
  std::vector<agg::ForwardTarget> usable;
  {
    MutexLock lock(&agg_.mu);
    agg_.adverts[resource] = AdvertCache{targets, now, now};
    usable = UsableTargetsLocked(targets, now);
    for (const agg::ForwardTarget& target : targets) {
      if (target.warm) {
        agg_.warming_seen.erase({resource, target.node});
      } else {
        agg_.warming_seen.try_emplace({resource, target.node}, now);
      }
    }
  }
  for (Request& request : requests) {
    // Warm here already (an inline DHT, a node that just took over): the
    // index answers exactly.
    const auto& query =
        std::get<protocol::QueryRequest>(request.decoded.packet.body);
    if (AggregatedHere(query)) {
      metrics_->ResourceIdsServed(query.entries.size(), 0, 0);
      SendQueryAnswer(request, IndexAnswer(request));
      continue;
    }
    std::vector<uint16_t> stale;       // none: this id's adverts were just read
    if (WarmingHere(query, &stale)) {  // elected just now: its warm-up answers
      AwaitWarmUp(std::move(request));
      continue;
    }
    auto forward = std::make_shared<PendingForward>();
    forward->resource = resource;
    forward->targets = usable;
    forward->request = std::move(request);
    SendForward(forward);
  }
  PushFollowUps(resource);
  PushBacklog(resource);
}

std::vector<agg::ForwardTarget> NodeImpl::UsableTargetsLocked(
    const std::vector<agg::ForwardTarget>& targets, uint64_t now) {
  std::vector<agg::ForwardTarget> usable, warming, busy;
  for (const agg::ForwardTarget& target : targets) {
    auto failed = agg_.failed_until.find(target.node);
    if (failed != agg_.failed_until.end() && now < failed->second) continue;
    auto limited = agg_.busy_until.find(target.node);
    if (limited != agg_.busy_until.end() && now < limited->second) {
      busy.push_back(target);
    } else if (!target.warm) {
      warming.push_back(target);
    } else {
      usable.push_back(target);
    }
  }
  usable.insert(usable.end(), warming.begin(), warming.end());
  usable.insert(usable.end(), busy.begin(), busy.end());
  return usable;
}

void NodeImpl::SendForward(const std::shared_ptr<PendingForward>& forward) {
  if (!send_to_ || forward->next >= forward->targets.size()) {
    // Nobody (else) to forward to: demand aggregators, naming the ones
    // that did not answer (a plain demand when all that were asked
    // answered, but none served the id).
    if (!forward->failed.empty() ||
        (forward->not_serving && !forward->warming)) {
      Demand(forward->resource, forward->failed);
    }
    if (forward->busy) {
      // An aggregator is alive but over its budget for this node: so is
      // the platform for this buyer, now. A direct read (up to 1,408 gets)
      // would only move the load onto the DHT.
      metrics_->RateLimited(LimitReason::kPeerBudget);
      SendQueryAnswer(forward->request,
                      protocol::ErrorAnswer(
                          forward->request.decoded.packet.header,
                          wire::Status::kRateLimited));
      return;
    }
    spdlog::debug(
        "{:04x}: {} of {} aggregators failed, none served: direct read",
        forward->resource, forward->failed.size(), forward->targets.size());
    DirectRead(std::move(forward->request));
    return;
  }
  const agg::ForwardTarget target = forward->targets[forward->next];
  uint32_t txid;
  {
    MutexLock lock(&agg_.mu);
    txid = agg_.next_txid++;
  }
  protocol::PeerPacket packet =
      protocol::ForwardedQueryFor(forward->request.decoded.packet, txid);
  const bool sign = packet.header.check == wire::CheckType::kEd25519;
  std::vector<std::byte> bytes =
      protocol::EncodePeer(packet, sign ? &key_ : nullptr);
  if (bytes.empty() || bytes.size() > forward->request.datagram.size()) {
    // Never more bytes to a third party than the buyer sent.
    forward->next = forward->targets.size();
    SendForward(forward);
    return;
  }
  forward->txid = txid;
  BeginInFlight();
  {
    MutexLock lock(&agg_.mu);
    agg_.forwards[txid] = forward;
  }
  // From here on the forward belongs to whoever takes it out of
  // agg_.forwards (its answer, on the edge thread, or its timeout): not one
  // of its fields is touched here any more, hence `target` and `txid` are
  // copies.
  send_to_(Sender{target.address, target.port}, std::move(bytes));
  timers_->After(std::chrono::duration_cast<std::chrono::milliseconds>(
                     agg::kForwardTimeout),
                 [this, txid] { OnForwardTimeout(txid); });
}

void NodeImpl::OnForwardTimeout(uint32_t txid) {
  std::shared_ptr<PendingForward> forward;
  {
    MutexLock lock(&agg_.mu);
    auto it = agg_.forwards.find(txid);
    if (it == agg_.forwards.end()) return;  // answered
    forward = it->second;
    agg_.forwards.erase(it);
    const agg::ForwardTarget& target = forward->targets[forward->next];
    agg_.failed_until[target.node] = Now() + agg::kAdvertCache.count();
  }
  EndInFlight();
  forward->failed.push_back(forward->targets[forward->next].node);
  ++forward->next;
  SendForward(forward);
}

bool NodeImpl::AwaitsAnswerFrom(const Sender& from, uint8_t type) {
  MutexLock lock(&agg_.mu);
  if (type == wire::kTypePushAck) {
    for (const auto& [txid, push] : agg_.pushes) {
      if (push.target.address == from.address &&
          push.target.port == from.port) {
        return true;
      }
    }
    return false;
  }
  if (type != wire::kTypeForwardedAnswer) return false;
  for (const auto& [txid, forward] : agg_.forwards) {
    const agg::ForwardTarget& target = forward->targets[forward->next];
    if (target.address == from.address && target.port == from.port) {
      return true;
    }
  }
  return false;
}

void NodeImpl::HandlePeerDatagram(std::span<const std::byte> datagram,
                                  const Sender& from, ReplyFn reply) {
  protocol::PeerDecodeResult decoded = protocol::DecodePeer(datagram);
  if (decoded.status != wire::Status::kOk) {
    // A peer's bad message gets no answer: peers are not clients, and an
    // answer could be aimed at a third party.
    spdlog::debug("peer {} port {}: {} ({})", LogAddress{from.address},
                  from.port, wire::StatusName(decoded.status), decoded.detail);
    metrics_->Dropped(DropReason::kUndecodable);
    return;
  }
  switch (decoded.packet.header.type) {
    case wire::kTypeForwardedQuery:
      AnswerForwardedQuery(decoded.packet, datagram.size(), from,
                           std::move(reply));
      break;
    case wire::kTypeForwardedAnswer:
      OnForwardedAnswer(decoded.packet, from);
      break;
    case wire::kTypeRecordPush:
      TakePushedRecords(decoded.packet, datagram.size(), from,
                        std::move(reply));
      break;
    default:  // kTypePushAck: DecodePeer knows no other type
      OnPushAck(decoded.packet, from);
      break;
  }
}

void NodeImpl::AnswerForwardedQuery(const protocol::PeerPacket& packet,
                                    size_t query_size, const Sender& from,
                                    ReplyFn reply) {
  const auto& query = std::get<protocol::QueryRequest>(packet.body);
  const uint64_t now = Now();
  protocol::PeerPacket answer;
  answer.header = packet.header;
  answer.header.type = wire::kTypeForwardedAnswer;
  answer.header.status = wire::Status::kIncomplete;
  if (AggregatedHere(query)) {
    MutexLock lock(&reads_.mu);
    answer.body = RunQuery(reads_.index, query, now,
                           OffersPerAnswer(packet.header.check));
    answer.header.status = ReadEverythingLocked(query)
                               ? wire::Status::kOk
                               : wire::Status::kIncomplete;
  } else {
    answer.body = protocol::QueryAnswer{};
  }
  const bool sign = answer.header.check == wire::CheckType::kEd25519;
  std::vector<std::byte> bytes =
      protocol::EncodePeer(answer, sign ? &key_ : nullptr);
  if (bytes.empty()) return;
  bool within_budget;
  {
    MutexLock lock(&budgets_.mu);
    within_budget = budgets_.peers.TryConsume(from.address, bytes.size(), now);
  }
  if (!within_budget) {
    // As to a buyer (PROTOCOL.md "Abuse"): RATE_LIMITED, empty, never
    // larger than the query; the forwarder then asks the next aggregator
    // instead of taking this one for dead.
    answer.header.status = wire::Status::kRateLimited;
    answer.body = protocol::QueryAnswer{};
    bytes = protocol::EncodePeer(answer, sign ? &key_ : nullptr);
    if (bytes.empty() || bytes.size() > query_size) {
      metrics_->Dropped(DropReason::kBudget);
      return;
    }
    metrics_->RateLimited(LimitReason::kPeerBudget);
  }
  reply(std::move(bytes));
}

void NodeImpl::OnForwardedAnswer(const protocol::PeerPacket& packet,
                                 const Sender& from) {
  std::shared_ptr<PendingForward> forward;
  {
    MutexLock lock(&agg_.mu);
    auto it = agg_.forwards.find(packet.header.txid);
    if (it == agg_.forwards.end()) return;  // late, or never asked
    const agg::ForwardTarget& target = it->second->targets[it->second->next];
    // Only the aggregator asked may answer.
    if (target.address != from.address || target.port != from.port) return;
    forward = it->second;
    agg_.forwards.erase(it);
  }
  EndInFlight();
  if (packet.header.status == wire::Status::kRateLimited) {
    // Over its budget for this node: alive, so no suspect of a demand;
    // the next one, at once, and this one last for a while.
    {
      MutexLock lock(&agg_.mu);
      agg_.busy_until[forward->targets[forward->next].node] =
          Now() + kBusyAggregatorSec;
    }
    forward->busy = true;
    ++forward->next;
    SendForward(forward);
    return;
  }
  if (packet.header.status == wire::Status::kIncomplete &&
      WarmingWithinPatience(forward->resource,
                            forward->targets[forward->next])) {
    // Warming up, as advertised: alive, and the id's aggregators are on
    // their way, so no demand; the next one, at once.
    forward->warming = true;
    ++forward->next;
    SendForward(forward);
    return;
  }
  if (packet.header.status != wire::Status::kOk) {
    // Not warm (it just took over) or not aggregating the id any more (it
    // resigned to closer nodes): alive, so never a demand's suspect (a
    // suspect is left out of the next election, which then chose nodes
    // farther out, which resigned at their first recheck, which made them
    // suspects in turn: seen as aggregators flapping every minute on a
    // 20-node cluster). The next one, at once; the adverts are read again
    // at the next query.
    {
      MutexLock lock(&agg_.mu);
      auto cached = agg_.adverts.find(forward->resource);
      if (cached != agg_.adverts.end()) {
        cached->second.read_at = cached->second.asked_at = 0;
      }
    }
    forward->not_serving = true;
    ++forward->next;
    SendForward(forward);
    return;
  }
  protocol::Packet answer =
      protocol::BuyerAnswerFrom(packet, forward->request.decoded.packet.header);
  // Which aggregator answered what: two aggregators of an id that disagree
  // on its total show here.
  spdlog::debug("id {:04x}: aggregator {} answered, total {}",
                forward->resource, LogAddress{from.address},
                std::get<protocol::QueryAnswer>(answer.body).total);
  metrics_->ResourceIdsServed(
      0, 0,
      std::get<protocol::QueryRequest>(forward->request.decoded.packet.body)
          .entries.size());
  AnswerVerified(std::move(forward->request), std::move(answer));
}

bool NodeImpl::WarmingWithinPatience(uint16_t resource,
                                     const agg::ForwardTarget& target) {
  if (target.warm) return false;
  MutexLock lock(&agg_.mu);
  auto seen = agg_.warming_seen.find({resource, target.node});
  return seen != agg_.warming_seen.end() &&
         Now() < seen->second + kWarmingPatienceSec;
}

void NodeImpl::AnswerVerified(Request request, protocol::Packet answer) {
  auto& body = std::get<protocol::QueryAnswer>(answer.body);
  const uint64_t now = Now();
  std::vector<size_t> unverified;
  {
    MutexLock lock(&agg_.mu);
    for (size_t i = 0; i < body.offers.size(); ++i) {
      if ((body.offers[i].flags & wire::kOfferFlagSigned) == 0) continue;
      auto known = agg_.verified.find(OfferBytes(body.offers[i]));
      if (known == agg_.verified.end() || now >= known->second) {
        unverified.push_back(i);
      }
    }
  }
  if (unverified.empty()) {
    SendQueryAnswer(request, answer);
    return;
  }
  // Read each flagged offer's record where it is stored and verify it
  // here: an aggregator's word is not enough to vouch for a signature.
  struct Verifying {
    Request request;
    protocol::Packet answer;
    std::vector<size_t> unverified;
    size_t outstanding = 0;
    Mutex mu;
  };
  auto state = std::make_shared<Verifying>();
  state->request = std::move(request);
  state->answer = std::move(answer);
  state->unverified = unverified;
  state->outstanding = unverified.size();
  BeginInFlight();
  for (size_t i : unverified) {
    const protocol::Offer offer =
        std::get<protocol::QueryAnswer>(state->answer.body).offers[i];
    dht_->FetchKeyOf(
        offer, kVerifyDeadline,
        [this, state, i, offer](std::vector<dht::OfferRecord> records, bool) {
          bool ok = false;
          for (const dht::OfferRecord& record : records) {
            protocol::Offer stored = record.offer;
            stored.flags |= wire::kOfferFlagSigned;
            if (!record.signed_request.empty() && stored == offer &&
                dht::VerifyRecordSignature(record)) {
              ok = true;
              break;
            }
          }
          bool last;
          {
            MutexLock lock(&state->mu);
            auto& offers =
                std::get<protocol::QueryAnswer>(state->answer.body).offers;
            if (ok) {
              MutexLock agg_lock(&agg_.mu);
              agg_.verified[OfferBytes(offer)] = offer.valid_until;
            } else {
              offers[i].flags &= ~wire::kOfferFlagSigned;
              state->answer.header.status = wire::Status::kIncomplete;
            }
            last = --state->outstanding == 0;
          }
          if (!last) return;
          SendQueryAnswer(state->request, state->answer);
          EndInFlight();
        });
  }
}

std::optional<PageSnapshot> NodeImpl::SnapshotFor(
    const protocol::QueryRequest& query) {
  if (query.cursor == 0 || query.entries.empty()) return std::nullopt;
  const uint16_t resource = query.entries.front().resource;
  uint32_t top = 0;
  for (const protocol::QueryEntry& entry : query.entries) {
    if (entry.resource != resource) return std::nullopt;
    top = std::max(top, BucketTop(entry.max_price));
  }
  MutexLock lock(&agg_.mu);
  DropOldSnapshotsLocked(Now());
  auto it = agg_.snapshots.find(resource);
  if (it == agg_.snapshots.end() || it->second.top < top) return std::nullopt;
  return it->second;
}

void NodeImpl::KeepSnapshot(
    uint16_t resource, uint32_t top, bool complete,
    std::shared_ptr<const std::vector<dht::OfferRecord>> records) {
  MutexLock lock(&agg_.mu);
  const uint64_t now = Now();
  DropOldSnapshotsLocked(now);
  auto old = agg_.snapshots.find(resource);
  if (old != agg_.snapshots.end()) {
    agg_.snapshot_records -= old->second.records->size();
    agg_.snapshots.erase(old);
  }
  if (agg_.snapshot_records + records->size() > kMaxSnapshotRecords) return;
  agg_.snapshot_records += records->size();
  agg_.snapshots[resource] = PageSnapshot{top, now, complete, std::move(records)};
}

void NodeImpl::DropOldSnapshotsLocked(uint64_t now) {
  for (auto it = agg_.snapshots.begin(); it != agg_.snapshots.end();) {
    if (now >= it->second.read_at + kPageSnapshotSec) {
      agg_.snapshot_records -= it->second.records->size();
      it = agg_.snapshots.erase(it);
    } else {
      ++it;
    }
  }
}

void NodeImpl::AnswerFromRecords(const Request& request,
                                 const std::vector<dht::OfferRecord>& records,
                                 bool complete) {
  OfferIndex read;
  const uint64_t now = Now();
  for (const dht::OfferRecord& record : records) read.Apply(record, now);
  const protocol::Header& header = request.decoded.packet.header;
  const auto& query = std::get<protocol::QueryRequest>(request.decoded.packet.body);
  protocol::Packet answer{
      protocol::AnswerHeaderFor(
          header, complete ? wire::Status::kOk : wire::Status::kIncomplete),
      RunQuery(read, query, now, OffersPerAnswer(header.check))};
  SendQueryAnswer(request, answer);
}

void NodeImpl::DirectRead(Request request) {
  const auto& query =
      std::get<protocol::QueryRequest>(request.decoded.packet.body);
  metrics_->ResourceIdsServed(0, query.entries.size(), 0);
  if (std::optional<PageSnapshot> snapshot = SnapshotFor(query)) {
    AnswerFromRecords(request, *snapshot->records, snapshot->complete);
    return;
  }
  std::map<uint16_t, uint32_t> tops;  // resource -> price to read up to
  for (const protocol::QueryEntry& entry : query.entries) {
    uint32_t& top = tops[entry.resource];
    top = std::max(top, BucketTop(entry.max_price));
  }
  bool admitted;
  {
    MutexLock lock(&agg_.mu);
    // Only reads already running count: a query's own ids (up to 16) never
    // keep it from being read.
    admitted = agg_.direct_reads < kMaxColdFetches;
    if (admitted) agg_.direct_reads += tops.size();
  }
  if (!admitted) {
    // Too many direct reads at once: INCOMPLETE, with what the node holds
    // (its own offers, and what it aggregates).
    protocol::Packet answer = IndexAnswer(request);
    answer.header.status = wire::Status::kIncomplete;
    SendQueryAnswer(request, answer);
    return;
  }
  auto state = std::make_shared<DirectReadState>();
  state->request = std::move(request);
  state->outstanding = tops.size();
  auto mu = std::make_shared<Mutex>();
  BeginInFlight();
  for (const auto& [resource, top] : tops) {
    dht_->Fetch(
        resource, top, {kColdFetchDeadline, kColdFetchDeadline},
        [this, state, mu, tops](const std::vector<dht::OfferRecord>& records,
                                bool complete) {
          bool last;
          {
            MutexLock lock(mu.get());
            state->records.insert(state->records.end(), records.begin(),
                                  records.end());
            state->complete = state->complete && complete;
            last = --state->outstanding == 0;
          }
          {
            MutexLock lock(&agg_.mu);
            --agg_.direct_reads;
          }
          if (!last) return;
          // The node's own records of these ids first: the index keeps the
          // first key it meets for a signed device, so this node's own
          // sellers keep theirs against a thief's records read here
          // (docs/security.md, "First use").
          auto all = std::make_shared<std::vector<dht::OfferRecord>>();
          {
            MutexLock lock(&writes_.mu);
            for (const JournalEntry& entry : writes_.local.All()) {
              if (tops.count(entry.record.offer.resource) != 0) {
                all->push_back(entry.record);
              }
            }
          }
          all->insert(all->end(), state->records.begin(), state->records.end());
          AnswerFromRecords(state->request, *all, state->complete);
          if (tops.size() == 1) {
            KeepSnapshot(tops.begin()->first, tops.begin()->second,
                         state->complete, std::move(all));
          }
          EndInFlight();
        },
        [](const std::vector<dht::OfferRecord>&, dht::Dht::FetchProgress) {});
  }
}

}  // namespace crsp::node
