#include "roles.h"

#include <arpa/inet.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <random>

#include "crsp/dht_adapter/keys.h"

namespace crsp::scalesim {
namespace agg = dht::aggregator;
namespace {

// The node's rule (aggregator::RankedInElections) for a node a search
// ended on, as the node's adapter applies it.
bool Ranked(const ::dht::Node& node) {
  return agg::RankedInElections(node.isExpired(), node.getReplyTime(),
                                ::dht::clock::now());
}

// Time since `last[i]`, in whole seconds (nullopt: none yet), for the role
// rules' DemandDue.
std::optional<std::chrono::seconds> SinceLast(
    const std::map<size_t, Clock::time_point>& last, size_t i) {
  auto it = last.find(i);
  if (it == last.end()) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::seconds>(Clock::now() -
                                                          it->second);
}

// The adverts' value type (its expiration is the advert lifetime); the
// node will register the same id and lifetime (dht_adapter/value_types.h).
constexpr ::dht::ValueType::Id kRendezvousType = 0x4A00;
constexpr uint16_t kEdgePort = 7400;
constexpr uint32_t kSimBucket = 6;  // prices 1,024..2,047: 64 shard keys

protocol::NodeId ToNodeId(const ::dht::InfoHash& h) {
  protocol::NodeId id;
  std::memcpy(id.data(), h.data(), id.size());
  return id;
}

// IPv4 as ::ffff:a.b.c.d, as the node will hand them over.
protocol::Ipv6Address ToAddress(const ::dht::SockAddr& a) {
  protocol::Ipv6Address out{};
  if (a.getFamily() != AF_INET) return out;
  out[10] = out[11] = 0xFF;
  std::memcpy(out.data() + 12, &a.getIPv4().sin_addr.s_addr, 4);
  return out;
}

::dht::SockAddr FromAddress(const protocol::Ipv6Address& a) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  std::memcpy(&sin.sin_addr.s_addr, a.data() + 12, 4);
  return ::dht::SockAddr(reinterpret_cast<const sockaddr*>(&sin), sizeof sin);
}

std::shared_ptr<::dht::Value> RendezvousValue(std::vector<std::byte> bytes) {
  static std::mt19937_64 ids(0x5CA1E);
  auto value = std::make_shared<::dht::Value>(
      reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  value->type = kRendezvousType;
  value->id = ids();
  return value;
}

std::optional<agg::RendezvousValue> Decode(const ::dht::Value& v) {
  return agg::DecodeRendezvousValue(
      {reinterpret_cast<const std::byte*>(v.data.data()), v.data.size()});
}

}  // namespace

std::vector<::dht::InfoHash> SimKeysOf(uint16_t resource) {
  std::vector<::dht::InfoHash> keys;
  for (uint32_t shard = 0; shard < dht::kShards; ++shard) {
    keys.push_back(
        ::dht::InfoHash::get(dht::KeyName(resource, kSimBucket, shard)));
  }
  return keys;
}

Roles::Roles(SimNetwork* net, uint16_t resource)
    : net_(net),
      resource_(resource),
      rendezvous_(::dht::InfoHash::get(agg::RendezvousKeyName(resource))) {}

void Roles::Install(size_t i) {
  net_->node(i).registerType(::dht::ValueType(
      kRendezvousType, "crsp.aggregator",
      std::chrono::duration_cast<::dht::duration>(agg::kAdvertLifetime),
      [this, i](::dht::InfoHash key, std::shared_ptr<::dht::Value>& value,
                const ::dht::InfoHash&, const ::dht::SockAddr&) {
        if (key != rendezvous_) return true;
        auto decoded = Decode(*value);
        if (!decoded) return false;
        if (decoded->kind == agg::RendezvousValue::Kind::kDemand &&
            decoded->demand.resource == resource_) {
          net_->Defer([this, i, suspects = decoded->demand.suspects] {
            CheckRole(i, suspects);
          });
        }
        return true;
      }));
}

std::set<size_t> Roles::TrueClosest() const {
  std::vector<size_t> alive;
  for (size_t i = 0; i < net_->size(); ++i) {
    if (net_->alive(i)) alive.push_back(i);
  }
  const protocol::NodeId key = ToNodeId(rendezvous_);
  const size_t k = std::min(agg::kAggregators, alive.size());
  std::partial_sort(alive.begin(), alive.begin() + k, alive.end(),
                    [&](size_t a, size_t b) {
                      return agg::Closer(key,
                                         ToNodeId(net_->node(a).getNodeId()),
                                         ToNodeId(net_->node(b).getNodeId()));
                    });
  return {alive.begin(), alive.begin() + k};
}

void Roles::CheckRole(size_t i, std::vector<protocol::NodeId> suspects) {
  if (!net_->alive(i) || aggregators_.count(i) || checking_.count(i)) return;
  if (!agg::DemandDue(SinceLast(checked_at_, i), !suspects.empty())) return;
  checked_at_[i] = Clock::now();
  checking_.insert(i);
  net_->node(i).get(
      rendezvous_, [](const std::vector<std::shared_ptr<::dht::Value>>&) {
        return true;
      },
      [this, i, suspects](bool, const std::vector<std::shared_ptr<::dht::Node>>&
                                    nodes) {
        std::vector<protocol::NodeId> searched;
        for (const auto& node : nodes) {
          if (Ranked(*node)) searched.push_back(ToNodeId(node->getId()));
        }
        // The node's own rule; every simulated node has DHT peers.
        const bool elected =
            agg::Elected(ToNodeId(rendezvous_),
                         ToNodeId(net_->node(i).getNodeId()), searched,
                         suspects, /*has_peers=*/true);
        const size_t ranked = static_cast<size_t>(std::count_if(
            searched.begin(), searched.end(), [&](const protocol::NodeId& id) {
              return std::find(suspects.begin(), suspects.end(), id) ==
                     suspects.end();
            }));
        checks_[i].push_back({ranked, elected});
        net_->Defer([this, i, elected] {
          checking_.erase(i);
          if (elected) BecomeAggregator(i);
        });
      });
  net_->Kick(i);
}

void Roles::BecomeAggregator(size_t i) {
  if (!aggregators_.insert(i).second) return;
  const std::vector<::dht::InfoHash> keys = SimKeysOf(resource_);
  ::dht::Dht& node = net_->node(i);
  // No listens: records reach it pushed by their writers (Push), and its
  // periodic re-reads are no registration's cost.
  auto remaining = std::make_shared<size_t>(keys.size());
  for (const ::dht::InfoHash& key : keys) {
    node.get(
        key, [](const std::vector<std::shared_ptr<::dht::Value>>&) {
          return true;
        },
        [this, i, remaining](bool,
                             const std::vector<std::shared_ptr<::dht::Node>>&) {
          if (--*remaining != 0) return;
          net_->Defer([this, i] {
            warm_.insert(i);  // its index is complete: it may advertise
            agg::Advert advert;
            advert.resource = resource_;
            advert.node = ToNodeId(net_->node(i).getNodeId());
            advert.port = kEdgePort;
            advert.warm_since = static_cast<uint64_t>(std::time(nullptr));
            net_->node(i).put(rendezvous_,
                              RendezvousValue(agg::EncodeAdvert(advert)));
            net_->Kick(i);
          });
        });
  }
  net_->Kick(i);
}

void Roles::ReadAdverts(
    size_t i, std::function<void(std::vector<agg::ForwardTarget>)> done) {
  auto adverts = std::make_shared<std::vector<agg::Advert>>();
  net_->node(i).get(
      rendezvous_,
      [adverts](const std::vector<std::shared_ptr<::dht::Value>>& values) {
        for (const auto& v : values) {
          auto decoded = Decode(*v);
          if (decoded && decoded->kind == agg::RendezvousValue::Kind::kAdvert) {
            adverts->push_back(decoded->advert);
          }
        }
        return true;
      },
      [this, adverts, done = std::move(done)](
          bool, const std::vector<std::shared_ptr<::dht::Node>>& nodes) {
        std::vector<agg::SearchNode> searched;
        for (const auto& node : nodes) {
          if (!Ranked(*node)) continue;
          searched.push_back({ToNodeId(node->getId()),
                              ToAddress(node->getAddr()), !node->isExpired()});
        }
        auto targets = agg::UsableAdverts(ToNodeId(rendezvous_), resource_,
                                          *adverts, searched);
        net_->Defer([done, targets = std::move(targets)] { done(targets); });
      });
  net_->Kick(i);
}

void Roles::Push(size_t i) {
  auto cached = push_cache_.find(i);
  if (cached != push_cache_.end() &&
      Clock::now() - cached->second.read_at < agg::kAdvertCache) {
    PushTo(i, cached->second.targets);
    return;
  }
  ++push_adverts_reads_;
  ReadAdverts(i, [this, i](std::vector<agg::ForwardTarget> targets) {
    push_cache_[i] = {Clock::now(), targets};
    PushTo(i, targets);
  });
}

void Roles::PushTo(size_t i, const std::vector<agg::ForwardTarget>& targets) {
  // As the node's push.cc: never to itself, and kPushTries sends to one
  // that never acks.
  constexpr uint64_t kPushTries = 3;
  for (const agg::ForwardTarget& target : targets) {
    const size_t to = net_->IndexOf(FromAddress(target.address));
    if (to == i) continue;
    const bool live = to != SIZE_MAX && net_->alive(to);
    net_->CountExtra("crsp/push", live ? 2 : kPushTries);
  }
}

void Roles::Query(size_t i, QueryOutcome* outcome) {
  ReadAdverts(i, [this, i, outcome](std::vector<agg::ForwardTarget> targets) {
    outcome->usable_adverts = targets.size();
    Forward(i, std::move(targets), 0, {}, outcome);
  });
}

void Roles::Forward(size_t i, std::vector<agg::ForwardTarget> targets,
                    size_t next, std::vector<protocol::NodeId> failed,
                    QueryOutcome* outcome) {
  if (next == targets.size()) {
    // Fallback: the node reads the keys itself (not simulated here: its
    // cost is the direct read's) and asks for aggregators.
    agg::Demand demand{resource_, failed};
    demanded_at_[i] = Clock::now();
    net_->node(i).put(rendezvous_, RendezvousValue(agg::EncodeDemand(demand)));
    net_->Kick(i);
    outcome->demanded = true;
    outcome->done = true;
    return;
  }
  const agg::ForwardTarget& target = targets[next];
  const size_t to = net_->IndexOf(FromAddress(target.address));
  if (to != SIZE_MAX && net_->alive(to)) {
    net_->CountExtra("crsp/forward", 2);  // the query and its answer
    if (warm_.count(to)) {
      outcome->forwarded = true;
      outcome->done = true;
      // Fewer aggregators than there should be (an election that reached
      // too few storers, a death): ask again, at most once an interval.
      if (agg::TooFewAggregators(targets.size()) &&
          agg::DemandDue(SinceLast(demanded_at_, i), false)) {
        demanded_at_[i] = Clock::now();
        net_->node(i).put(rendezvous_,
                          RendezvousValue(agg::EncodeDemand({resource_, {}})));
        net_->Kick(i);
      }
      return;
    }
    // Alive, not warm: it answers INCOMPLETE at once; try the next.
    failed.push_back(target.node);
    Forward(i, std::move(targets), next + 1, std::move(failed), outcome);
    return;
  }
  net_->CountExtra("crsp/forward", 1);  // sent, never answered
  ++outcome->timeouts;
  failed.push_back(target.node);
  net_->After(std::chrono::duration_cast<std::chrono::milliseconds>(
                  agg::kForwardTimeout),
              [this, i, targets = std::move(targets), next,
               failed = std::move(failed), outcome]() mutable {
                Forward(i, std::move(targets), next + 1, std::move(failed),
                        outcome);
              });
}

}  // namespace crsp::scalesim
