// OpenDhtDht: the Dht interface on dht::DhtRunner (docs/storage.md).
//
// Threads: OpenDHT runs its own; every continuation and every user callback
// runs on `tasks` (task_thread.h), never on OpenDHT's thread, where calling
// DhtRunner's synchronous getters would deadlock.
#include "crsp/dht_adapter/opendht_dht.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <opendht.h>

#include <algorithm>
#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <stdexcept>

#include "crsp/dht_adapter/keys.h"
#include "crsp/dht_adapter/version_order.h"
#include "crsp/support/clock.h"
#include "node_identity.h"
#include "opendht_impl.h"
#include "peer_socket.h"
#include "record_policy.h"
#include "task_thread.h"
#include "value_types.h"

namespace crsp::dht {
namespace {

using internal::AcceptEdit;
using internal::AcceptValue;
using internal::InfoHash;
using internal::kMaxRetryStepFactor;
using internal::kOfferUserType;
using internal::kPutRetryStep;
using internal::Published;
using internal::PutOp;
using internal::ValuePtr;
using support::UnixSeconds;

std::span<const std::byte> AsBytes(const ::dht::Blob& blob) {
  return std::as_bytes(std::span<const uint8_t>(blob.data(), blob.size()));
}

// KeyAllowedFor (record_policy.h) by hash: one SHA-1 per candidate key.
// Most values live under the key of their own price, so that one is tried
// first; only copies under an older price's key (docs/storage.md) walk the
// other buckets.
bool KeyHashAllowedFor(const InfoHash& key, const OfferRecord& record) {
  const uint16_t resource = record.offer.resource;
  const uint32_t shard = ShardOf(record.offer.device);
  const uint32_t own = PriceBucket(record.offer.price);
  if (InfoHash::get(KeyName(resource, own, shard)) == key) return true;
  for (uint32_t bucket = 0; bucket < kPriceBuckets; ++bucket) {
    if (bucket != own &&
        InfoHash::get(KeyName(resource, bucket, shard)) == key) {
      return true;
    }
  }
  return false;
}

::dht::SockAddr BindAddress(const std::string& text, sa_family_t family,
                            uint16_t port) {
  if (text == "none") return {};
  if (family == AF_INET6) {
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(port);
    const std::string ip = text.empty() ? "::" : text;
    if (inet_pton(AF_INET6, ip.c_str(), &sin6.sin6_addr) != 1) {
      throw std::runtime_error("bad IPv6 bind address: " + ip);
    }
    return ::dht::SockAddr(reinterpret_cast<const sockaddr*>(&sin6),
                           sizeof(sin6));
  }
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  const std::string ip = text.empty() ? "0.0.0.0" : text;
  if (inet_pton(AF_INET, ip.c_str(), &sin.sin_addr) != 1) {
    throw std::runtime_error("bad IPv4 bind address: " + ip);
  }
  return ::dht::SockAddr(reinterpret_cast<const sockaddr*>(&sin), sizeof(sin));
}

std::shared_ptr<::dht::Logger> MakeLogger(const DhtLogger& logger) {
  if (!logger) return nullptr;
  auto method = [logger](DhtLogLevel level) {
    return ::dht::LogMethod([logger, level](char const* format, va_list args) {
      char line[512];
      std::vsnprintf(line, sizeof(line), format, args);
      logger(level, line);
    });
  };
  // OpenDHT's own levels describe its internals, routine at our scale:
  // it warns "new search" for every lookup and errs "no nodes from cache"
  // for every lookup of a node alone, and one cold query starts 2,816
  // lookups (a node alone logged 9,000 lines in 2 s). So all of it is
  // debug; the adapter's own warnings (binds, peers, shutdown) stay.
  return std::make_shared<::dht::Logger>(method(DhtLogLevel::kDebug),
                                         method(DhtLogLevel::kDebug),
                                         method(DhtLogLevel::kDebug));
}

// An offer value as our nodes put it: unsigned, with the record as data.
// seq is 1, not 0: before it puts, OpenDHT asks each node which seq it holds
// under the value id, and sends only a refresh when that is not lower. An
// unsigned value's seq is not sent, so a node always holds seq 0, and every
// new version (an edit) is sent in full; the edit policy decides by the
// record's own version.
ValuePtr MakeOfferValue(uint16_t type_id, const ::dht::Blob& data,
                        uint64_t id) {
  auto value = std::make_shared<::dht::Value>(type_id, data, id);
  value->user_type = kOfferUserType;
  value->seq = 1;
  return value;
}

}  // namespace

namespace internal {

std::optional<OfferRecord> AcceptValue(const InfoHash& key,
                                       const ValuePtr& value, uint64_t now) {
  if (!value || !IsOfferType(value->type)) return std::nullopt;
  if (value->data.size() > kMaxRecordSize) return std::nullopt;
  // Our nodes put unsigned values; the record carries what is signed. A
  // value some peer signed anyway must still verify (checkSignature() is
  // also true for an unsigned value).
  if (value->isSigned() && !value->checkSignature()) return std::nullopt;
  std::optional<OfferRecord> record = AcceptRecord(AsBytes(value->data), now);
  if (!record || !KeyHashAllowedFor(key, *record)) return std::nullopt;
  return record;
}

bool AcceptEdit(const InfoHash& key, const ValuePtr& stored,
                const ValuePtr& next, uint64_t now) {
  std::optional<OfferRecord> next_record = AcceptValue(key, next, now);
  if (!next_record || !stored) return false;
  // The stored value passed AcceptValue when it was stored (or is this
  // node's own put), so only its expiry can have changed: decoded, not
  // verified again (an Ed25519 verification is ~0.2 ms here,
  // BENCHMARKS.md). One that does not decode may be replaced by any valid
  // record; otherwise the versions' order decides (version_order.h).
  std::optional<OfferRecord> stored_record =
      IsOfferType(stored->type) ? DecodeRecord(AsBytes(stored->data))
                                : std::nullopt;
  return !stored_record || Supersedes(*stored_record, *next_record, now);
}

}  // namespace internal

void OpenDhtDht::Impl::Start(const OpenDhtConfig& cfg) {
  config = cfg;
  config.expiry_sweep_interval =
      std::max(config.expiry_sweep_interval, std::chrono::milliseconds(100));
  ::dht::DhtRunner::Config dht_config;
  dht_config.dht_config.id = LoadOrCreateIdentity(cfg.state_dir);
  ::dht::Config& node = dht_config.dht_config.node_config;
  node.network = cfg.network;
  node.max_req_per_sec = static_cast<ssize_t>(cfg.max_req_per_sec);
  node.max_peer_req_per_sec = static_cast<ssize_t>(cfg.max_peer_req_per_sec);
  node.maintain_storage = cfg.maintain_storage;
  node.public_stable = cfg.public_stable;
  if (cfg.persist && !cfg.state_dir.empty()) {
    node.persist_path =
        (std::filesystem::path(cfg.state_dir) / "dht.state").string();
  }
  dht_config.threaded = true;
  dht_config.bind6 = BindAddress(cfg.bind6, AF_INET6, cfg.port);
  dht_config.bind4 = BindAddress(cfg.bind4, AF_INET, cfg.port);
  ::dht::DhtRunner::Context context;
  if (cfg.log_opendht) context.logger = MakeLogger(logger);
  try {
    // OpenDHT's own socket, wrapped so that IsPeer knows who spoke to it.
    context.sock = std::make_unique<internal::PeerSocket>(
        std::make_unique<::dht::net::UdpSocket>(
            dht_config.bind4, dht_config.bind6, context.logger),
        peer_book);
    runner.run(dht_config, std::move(context));
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("DHT start failed: ") + e.what());
  }
  // A bind failure on one family is silent (OPENDHT-NOTES.md): check.
  const bool want6 = cfg.bind6 != "none", want4 = cfg.bind4 != "none";
  const bool got6 = runner.getBoundPort(AF_INET6) != 0;
  const bool got4 = runner.getBoundPort(AF_INET) != 0;
  if (!got6 && !got4) {
    runner.join();
    throw std::runtime_error("DHT bound no UDP port");
  }
  if (want6 && !got6) Log(DhtLogLevel::kWarning, "DHT: IPv6 bind failed");
  if (want4 && !got4) Log(DhtLogLevel::kWarning, "DHT: IPv4 bind failed");
  if (!got4) {
    Log(DhtLogLevel::kWarning,
        "DHT: no IPv4 socket; OpenDHT 2.4.12 then sends this node no listen "
        "notifications (Watch)");
  }

  std::vector<OfferValueType> types(kOfferValueTypes.begin(),
                                    kOfferValueTypes.end());
  types.push_back(kSupersededValueType);
  for (const OfferValueType& t : types) {
    ::dht::ValueType type(
        t.id, t.name, t.expiration,
        [log = logger, stored = stored_keys](InfoHash key, ValuePtr& value,
                                             const InfoHash&,
                                             const ::dht::SockAddr& from) {
          if (AcceptValue(key, value, UnixSeconds())) {
            stored->Add(key);
            return true;
          }
          if (log) {
            log(DhtLogLevel::kWarning,
                "DHT: refused an offer value from " + from.toString());
          }
          return false;
        },
        // OpenDHT calls this when a value arrives under the id of one it
        // stores (and the two differ): a re-register or withdraw through
        // the same node. Its default refuses every unsigned edit.
        [log = logger](InfoHash key, const ValuePtr& stored, ValuePtr& next,
                       const InfoHash&, const ::dht::SockAddr& from) {
          if (AcceptEdit(key, stored, next, UnixSeconds())) return true;
          if (log) {
            log(DhtLogLevel::kDebug,
                "DHT: refused an offer edit from " + from.toString());
          }
          return false;
        });
    runner.registerType(type);
  }
  RegisterRendezvousType();
  node_id = runner.getNodeId();
  for (const std::string& peer : cfg.bootstrap) runner.bootstrap(peer);
  StartSearchAnchors();
  After(config.expiry_sweep_interval, [](Impl& self) { self.SweepExpired(); });
  After(std::chrono::milliseconds(100),
        [](Impl& self) { self.ReapPuts(false); });
  if (cfg.refresh_interval.count() > 0) {
    // The first refreshes come soon: a node started together with its
    // peers often first hears of only one of them.
    After(std::chrono::seconds(2),
          [](Impl& self) { self.Refresh(std::chrono::seconds(4)); });
  }
}

void OpenDhtDht::Impl::PreparePut(const std::shared_ptr<PutOp>& op,
                                  bool permanent) {
  op->started = std::chrono::steady_clock::now();
  op->deadline = op->started + config.put_timeout;
  op->metrics->Started(DhtOp::kPut);
  {
    std::lock_guard lock(puts_mu);
    put_deadlines.push_back(op);
  }
  std::weak_ptr<Impl> weak = weak_from_this();
  // Weak: the op must not own a function that owns the op, and OpenDHT may
  // keep the put's callback for good (PutOp).
  std::weak_ptr<PutOp> weak_op = op;
  op->on_put_done = [weak, weak_op](bool ok, size_t nodes) {
    auto self = weak.lock();
    auto op = weak_op.lock();
    if (!self || !op) return;
    self->tasks.Post([self, op, ok, nodes] { self->OnPutDone(op, ok, nodes); });
  };
  // A retry re-puts the same value object, and no callback holds a copy of
  // the data.
  op->put_primary = [weak, weak_op, permanent] {
    auto self = weak.lock();
    auto op = weak_op.lock();
    if (!self || !op || op->finished) return;
    self->runner.put(op->key, op->value,
                     ::dht::DoneCallback([weak_op](bool ok, const auto& nodes) {
                       auto op = weak_op.lock();
                       if (op && !op->finished) {
                         op->on_put_done(ok, nodes.size());
                       }
                     }),
                     ::dht::time_point::max(), permanent);
  };
}

void OpenDhtDht::Impl::OnPutDone(const std::shared_ptr<PutOp>& op, bool ok,
                                 size_t nodes) {
  if (ok && nodes == 0 && !stopped) {
    // OpenDHT's answer to a put of a value it has announced already (a
    // retry that came after the announce ended, a re-publish) names no
    // nodes: the key's search, read once more, does.
    FinishFromRead(op, /*announced=*/true);
    return;
  }
  if (ok) {
    op->Finish(true, nodes + 1);  // the remote nodes, and our local copy
    return;
  }
  // A node alone reports failure yet stores the value locally
  // (OPENDHT-NOTES.md): count itself once the local copy is confirmed.
  if (stopped) {
    op->Finish(false, 0);
    return;
  }
  if (GoodPeers() != 0) {
    if (op->finished) return;  // put_timeout came first
    // The first retry at once, the next ones kPutRetryStep, 2 x, ... apart:
    // a first failure is mostly OpenDHT's own storage maintenance, not the
    // network (kPutRetryStep's comment).
    const int step = std::min(op->attempts - 1, kMaxRetryStepFactor);
    Log(DhtLogLevel::kDebug, "DHT: put under " + op->key.toString() +
                                 " not confirmed (attempt " +
                                 std::to_string(op->attempts) + "): put again");
    ++op->attempts;
    op->metrics->PutRetried();
    tasks.PostAfter(kPutRetryStep * step, op->put_primary);
    return;
  }
  FinishFromRead(op, /*announced=*/false);
}

void OpenDhtDht::Impl::FinishFromRead(const std::shared_ptr<PutOp>& op,
                                      bool announced) {
  auto found = std::make_shared<std::atomic<bool>>(false);
  std::weak_ptr<Impl> weak = weak_from_this();
  const ValuePtr& value = op->value;
  runner.get(
      op->key,
      ::dht::GetCallback(
          [found, value, announced](const std::vector<ValuePtr>& vals) {
            for (const ValuePtr& v : vals) {
              if (v->id == value->id && v->data == value->data) *found = true;
            }
            // Announced, the get runs to its end: its done names the nodes.
            return announced || !*found;
          }),
      ::dht::DoneCallback(
          [weak, op, found, announced](
              bool, const std::vector<std::shared_ptr<::dht::Node>>& nodes) {
            if (auto self = weak.lock()) {
              const size_t replicas = announced ? nodes.size() + 1
                                      : *found  ? 1
                                                : 0;
              self->tasks.Post(
                  [op, replicas] { op->Finish(replicas != 0, replicas); });
            }
          }),
      ::dht::Value::IdFilter(value->id));
}

void OpenDhtDht::Impl::ReapPuts(bool all) {
  const auto now = std::chrono::steady_clock::now();
  std::vector<std::shared_ptr<PutOp>> late;
  {
    std::lock_guard lock(puts_mu);
    while (!put_deadlines.empty()) {
      std::shared_ptr<PutOp>& op = put_deadlines.front();
      if (!op->finished && !all && op->deadline > now) break;
      if (!op->finished) late.push_back(std::move(op));
      put_deadlines.pop_front();
    }
  }
  for (const auto& op : late) op->Finish(false, 0, /*timed_out=*/!all);
  if (all) return;
  After(std::chrono::milliseconds(100),
        [](Impl& self) { self.ReapPuts(false); });
}

void OpenDhtDht::Impl::SweepExpired() {
  if (stopped) return;
  const uint64_t now = UnixSeconds();
  std::vector<Published> expired;
  {
    std::lock_guard lock(mu);
    if (now > next_expiry) {  // else nothing is due: no walk
      next_expiry = UINT64_MAX;
      for (auto it = published.begin(); it != published.end();) {
        if (it->second.valid_until < now) {
          expired.push_back(std::move(it->second));
          it = published.erase(it);
        } else {
          next_expiry = std::min(next_expiry, it->second.valid_until);
          ++it;
        }
      }
    }
  }
  // Stored copies are refused and dropped by every node once expired.
  for (const Published& p : expired) {
    for (const InfoHash& k : p.keys) runner.cancelPut(k, p.id);
  }
  After(config.expiry_sweep_interval, [](Impl& self) { self.SweepExpired(); });
}

OpenDhtDht::OpenDhtDht(const OpenDhtConfig& config, DhtLogger logger,
                       std::shared_ptr<DhtMetrics> metrics)
    : impl_(std::make_shared<Impl>()) {
  impl_->logger = std::move(logger);
  impl_->metrics =
      metrics ? std::move(metrics) : std::make_shared<DhtMetrics>();
  impl_->Start(config);
}

OpenDhtDht::~OpenDhtDht() { Shutdown(std::chrono::seconds(5)); }

void OpenDhtDht::Publish(const OfferRecord& record, PutDone done) {
  const uint64_t now = UnixSeconds();
  std::vector<std::byte> bytes = EncodeRecord(record);
  if (impl_->stopped || !AcceptRecord(bytes, now)) {
    impl_->metrics->Started(DhtOp::kPut);
    impl_->metrics->Finished(DhtOp::kPut, DhtOutcome::kFailed, {});
    done(false, 0);
    return;
  }
  const OfferValueType& type =
      TypeForRemaining(std::chrono::seconds(record.offer.valid_until - now));
  const uint64_t id = VersionValueId(
      ValueIdFor(record.offer.device, record.offer.resource,
                 std::span<const uint8_t>(impl_->node_id.data(),
                                          impl_->node_id.size())),
      record.version);
  const InfoHash primary = InfoHash::get(KeyFor(record.offer));
  const auto offer = std::make_pair(record.offer.device, record.offer.resource);
  std::vector<InfoHash> keys, superseded_keys;
  uint64_t superseded_id = 0;
  {
    std::unique_lock lock(impl_->mu);
    Published& p = impl_->published[offer];
    const uint64_t owner = OwnerFingerprint(record);
    if (p.id != 0 && owner == p.owner && record.version < p.version) {
      // An older version of the same owner (a late retry): its value would
      // hide nothing and never be cancelled. Another owner's record is one
      // the node's index let win (version_order.h), whatever its version:
      // versions of different owners are not comparable.
      lock.unlock();  // `done` may call back into this object
      done(false, 0);
      return;
    }
    if (p.id != 0 && p.id != id) {
      superseded_id = p.id;
      superseded_keys = p.keys;
    }
    // Older keys (older prices) get the newest version too, so that a
    // reader of an older price's bucket learns that version is outdated.
    if (std::find(p.keys.begin(), p.keys.end(), primary) == p.keys.end()) {
      p.keys.push_back(primary);
    }
    p.valid_until = std::max(p.valid_until, record.offer.valid_until);
    impl_->next_expiry = std::min(impl_->next_expiry, p.valid_until);
    p.version = record.version;
    p.owner = owner;
    p.id = id;
    keys = p.keys;
  }
  auto op = std::make_shared<PutOp>();
  op->done = std::move(done);
  op->metrics = impl_->metrics.get();
  const ::dht::Blob data(
      reinterpret_cast<const uint8_t*>(bytes.data()),
      reinterpret_cast<const uint8_t*>(bytes.data()) + bytes.size());
  op->key = primary;
  op->value = MakeOfferValue(type.id, data, id);
  impl_->PreparePut(op, /*permanent=*/true);
  // The previous version's value: no longer re-announced, and its stored
  // copies edited into a short-lived copy of this version (the edit policy
  // takes it: a higher version of the same offer), so they lapse in minutes.
  for (const InfoHash& key : superseded_keys) {
    impl_->runner.cancelPut(key, superseded_id);
    impl_->runner.put(
        key, MakeOfferValue(kSupersededValueType.id, data, superseded_id),
        ::dht::DoneCallback{}, ::dht::time_point::max(),
        /*permanent=*/false);
  }
  op->put_primary();
  for (const InfoHash& key : keys) {
    if (key == primary) continue;
    auto value = MakeOfferValue(type.id, data, id);
    impl_->runner.put(key, value, ::dht::DoneCallback{},
                      ::dht::time_point::max(), /*permanent=*/true);
  }
}

size_t OpenDhtDht::AnnouncedOffers() const {
  std::lock_guard lock(impl_->mu);
  return impl_->published.size();
}

DhtInfo OpenDhtDht::Info() const {
  std::lock_guard lock(impl_->mu);
  if (impl_->stopped) return impl_->last_info;
  DhtInfo info;
  std::copy_n(impl_->node_id.data(), info.node_id.size(), info.node_id.begin());
  for (const int family : {AF_INET, AF_INET6}) {
    const ::dht::NodeStats stats = impl_->runner.getNodesStats(family);
    info.good_peers += stats.good_nodes;
    info.dubious_peers += stats.dubious_nodes;
  }
  info.stored_values =
      static_cast<uint32_t>(impl_->runner.getStoreSize().second);
  impl_->last_info = info;
  return info;
}

void OpenDhtDht::Shutdown(std::chrono::milliseconds timeout) {
  if (!impl_ || impl_->stopped.exchange(true)) return;
  {
    std::lock_guard lock(impl_->mu);
    std::copy_n(impl_->node_id.data(), impl_->last_info.node_id.size(),
                impl_->last_info.node_id.begin());
  }
  auto stopped = std::make_shared<std::promise<void>>();
  std::future<void> waited = stopped->get_future();
  impl_->runner.shutdown([stopped] { stopped->set_value(); });
  if (waited.wait_for(timeout) != std::future_status::ready) {
    impl_->Log(DhtLogLevel::kWarning, "DHT: shutdown timed out");
  }
  impl_->runner.join();
  impl_->peer_book->Clear();  // no DHT any more
  // Fails every put still unfinished, on the task thread like every other
  // done, then runs what is left there: every outstanding done is called.
  impl_->tasks.Post([impl = impl_] { impl->ReapPuts(/*all=*/true); });
  impl_->tasks.Stop();
  impl_->ReapPuts(/*all=*/true);  // a put that raced the shutdown
}

uint16_t OpenDhtDht::port() const {
  const uint16_t p6 = impl_->runner.getBoundPort(AF_INET6);
  return p6 != 0 ? p6 : impl_->runner.getBoundPort(AF_INET);
}

std::string OpenDhtDht::LoopbackAddress() const {
  if (impl_->runner.getBoundPort(AF_INET6) != 0) {
    return "[::1]:" + std::to_string(impl_->runner.getBoundPort(AF_INET6));
  }
  return "127.0.0.1:" + std::to_string(impl_->runner.getBoundPort(AF_INET));
}

}  // namespace crsp::dht
