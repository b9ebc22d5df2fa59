// OpenDhtDht's part of the aggregator roles (docs/scaling.md): the
// rendezvous value type and its store policy (which tells the node of the
// demands it stores), GetRendezvous, PutRendezvous, and IsPeer (which
// answers from the peer book, peer_book.h).
#include <netinet/in.h>
#include <opendht.h>
#include <opendht/node.h>  // dht::Node, for the search's nodes

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "crsp/dht_adapter/aggregator_role.h"
#include "opendht_impl.h"
#include "value_types.h"

namespace crsp::dht {

using internal::AcceptRendezvous;
using internal::AddressBytes;
using internal::InfoHash;
using internal::PutOp;
using internal::RendezvousGetOp;
using internal::ValuePtr;

namespace {

std::span<const std::byte> AsBytes(const ::dht::Blob& blob) {
  return std::as_bytes(std::span<const uint8_t>(blob.data(), blob.size()));
}

protocol::NodeId ToNodeId(const InfoHash& hash) {
  protocol::NodeId id{};
  std::copy_n(hash.data(), id.size(), id.begin());
  return id;
}

uint16_t ResourceOf(const aggregator::RendezvousValue& value) {
  return value.kind == aggregator::RendezvousValue::Kind::kAdvert
             ? value.advert.resource
             : value.demand.resource;
}

}  // namespace

namespace internal {

std::optional<aggregator::RendezvousValue> AcceptRendezvous(
    const InfoHash& key, const ValuePtr& value) {
  if (!value || value->type != kRendezvousValueType.id) return std::nullopt;
  // Our nodes put unsigned values; one some peer signed must verify (the
  // store side never gets here for a signed value: SecureDht checks its
  // signature instead of this policy, docs/storage.md).
  if (value->isSigned() && !value->checkSignature()) return std::nullopt;
  std::optional<aggregator::RendezvousValue> decoded =
      aggregator::DecodeRendezvousValue(AsBytes(value->data));
  if (!decoded) return std::nullopt;
  // The value may live only under its own resource's rendezvous key: a
  // storer must not be made to hold (and elect itself for) other ids.
  if (InfoHash::get(aggregator::RendezvousKeyName(ResourceOf(*decoded))) !=
      key) {
    return std::nullopt;
  }
  return decoded;
}

std::optional<protocol::Ipv6Address> AddressBytes(const ::dht::SockAddr& addr) {
  protocol::Ipv6Address out{};
  switch (addr.getFamily()) {
    case AF_INET6:
      std::memcpy(out.data(), &addr.getIPv6().sin6_addr, out.size());
      return out;
    case AF_INET:
      out[10] = out[11] = 0xFF;
      std::memcpy(out.data() + 12, &addr.getIPv4().sin_addr, 4);
      return out;
    default:
      return std::nullopt;
  }
}

}  // namespace internal

// The policy runs on OpenDHT's thread for every unsigned value of the type
// that arrives under a key this node is close to. Refusing is all it does
// for anything else: each type has its own policy, so the offer types'
// policies never see these values, and this one never sees offers.
void OpenDhtDht::Impl::RegisterRendezvousType() {
  ::dht::ValueType type(
      kRendezvousValueType.id, kRendezvousValueType.name,
      kRendezvousValueType.expiration,
      [weak = weak_from_this(), log = logger](InfoHash key, ValuePtr& value,
                                              const InfoHash&,
                                              const ::dht::SockAddr& from) {
        std::optional<aggregator::RendezvousValue> accepted =
            AcceptRendezvous(key, value);
        if (!accepted) {
          if (log) {
            log(DhtLogLevel::kWarning,
                "DHT: refused a rendezvous value from " + from.toString());
          }
          return false;
        }
        if (accepted->kind == aggregator::RendezvousValue::Kind::kDemand) {
          if (auto self = weak.lock()) {
            self->DemandStored(std::move(accepted->demand));
          }
        }
        return true;
      });
  // The edit policy stays OpenDHT's default, which refuses every edit:
  // each put is a fresh value id, so an edit is a collision or a peer
  // trying to replace a value it did not put.
  runner.registerType(type);
}

void OpenDhtDht::Impl::DemandStored(aggregator::Demand demand) {
  std::function<void(const aggregator::Demand&)> hook;
  {
    std::lock_guard lock(demand_mu);
    hook = on_demand;
  }
  if (!hook) return;
  // Not here: the hook may call back into the adapter, and DhtRunner's
  // synchronous getters would wait for this very thread.
  tasks.Post(
      [hook = std::move(hook), demand = std::move(demand)] { hook(demand); });
}

void OpenDhtDht::OnDemand(
    std::function<void(const aggregator::Demand& demand)> demand) {
  std::lock_guard lock(impl_->demand_mu);
  impl_->on_demand = std::move(demand);
}

void OpenDhtDht::GetRendezvous(uint16_t resource, RendezvousDone done) {
  auto op = std::make_shared<RendezvousGetOp>();
  op->done = std::move(done);
  op->resource = resource;
  op->key = InfoHash::get(aggregator::RendezvousKeyName(resource));
  // The deadline also finishes the op at Shutdown (TaskThread::Stop runs
  // what is queued); once the task thread stopped, nothing would.
  if (impl_->stopped ||
      !impl_->tasks.PostAfter(impl_->config.rendezvous_timeout,
                              [op] { op->Finish({}); })) {
    op->Finish({});
    return;
  }
  std::weak_ptr<Impl> weak = impl_;
  impl_->runner.get(
      op->key,
      ::dht::GetCallback([weak, op](const std::vector<ValuePtr>& vals) {
        auto self = weak.lock();
        if (!self) return false;
        self->tasks.Post([op, vals] {
          if (op->finished) return;
          for (const ValuePtr& v : vals) {
            std::optional<aggregator::RendezvousValue> value =
                AcceptRendezvous(op->key, v);
            if (value && ResourceOf(*value) == op->resource) {
              op->values.push_back(std::move(*value));
            }
          }
        });
        // Always on: a get stopped early ends with no nodes (OpenDHT's
        // doneCallbackWrapper), and the nodes are half the point.
        return true;
      }),
      ::dht::DoneCallback(
          [weak, op](bool,
                     const std::vector<std::shared_ptr<::dht::Node>>& nodes) {
            // Read here, on OpenDHT's thread, which alone updates a node.
            std::vector<aggregator::SearchNode> searched;
            const ::dht::time_point now = ::dht::clock::now();
            for (const std::shared_ptr<::dht::Node>& node : nodes) {
              if (!node) continue;
              if (!aggregator::RankedInElections(node->isExpired(),
                                                 node->getReplyTime(), now)) {
                continue;
              }
              std::optional<protocol::Ipv6Address> address =
                  AddressBytes(node->getAddr());
              if (address) {
                searched.push_back({ToNodeId(node->getId()), *address,
                                    !node->isExpired()});
              }
            }
            auto self = weak.lock();
            if (!self) return;
            self->tasks.Post([self, op,
                              searched = std::move(searched)]() mutable {
              const protocol::NodeId key = ToNodeId(op->key);
              const protocol::NodeId own = ToNodeId(self->node_id);
              std::erase_if(searched, [&own](const aggregator::SearchNode& n) {
                return n.id == own;
              });
              // The IPv4 and IPv6 searches both report a node known in both
              // families: once per address, closest first, then by address.
              std::sort(searched.begin(), searched.end(),
                        [&key](const aggregator::SearchNode& a,
                               const aggregator::SearchNode& b) {
                          if (a.id != b.id)
                            return aggregator::Closer(key, a.id, b.id);
                          return a.address < b.address;
                        });
              searched.erase(std::unique(searched.begin(), searched.end(),
                                         [](const aggregator::SearchNode& a,
                                            const aggregator::SearchNode& b) {
                                           return a.id == b.id &&
                                                  a.address == b.address;
                                         }),
                             searched.end());
              op->Finish(std::move(searched));
            });
          }),
      ::dht::Value::Filter{},
      // Asked of the remote nodes too: they send no other type's values.
      ::dht::Where().valueType(kRendezvousValueType.id));
}

void OpenDhtDht::PutRendezvous(uint16_t resource, std::vector<std::byte> value,
                               std::function<void(bool ok)> done) {
  // Remote storers refuse such a value without the putter noticing (an
  // announce is acknowledged either way), and the local copy skips the
  // policy: refuse it here.
  std::optional<aggregator::RendezvousValue> decoded =
      aggregator::DecodeRendezvousValue(value);
  if (impl_->stopped || !decoded || ResourceOf(*decoded) != resource) {
    done(false);
    return;
  }
  uint64_t id;
  {
    std::lock_guard lock(impl_->ids_mu);
    do {
      id = impl_->ids();
    } while (id == ::dht::Value::INVALID_ID);
  }
  auto op = std::make_shared<PutOp>();
  op->done = [done = std::move(done)](bool ok, uint16_t) { done(ok); };
  op->metrics = &impl_->uncounted;
  op->key = InfoHash::get(aggregator::RendezvousKeyName(resource));
  const auto* p = reinterpret_cast<const uint8_t*>(value.data());
  op->value = std::make_shared<::dht::Value>(
      kRendezvousValueType.id, ::dht::Blob(p, p + value.size()), id);
  // Not permanent: a value lapses kAdvertLifetime after this put, so a
  // dead aggregator's advert goes without anyone removing it.
  impl_->PreparePut(op, /*permanent=*/false);
  op->put_primary();
}

bool OpenDhtDht::IsPeer(const protocol::Ipv6Address& address) const {
  return impl_->peer_book->Knows(address, std::chrono::steady_clock::now());
}

}  // namespace crsp::dht
