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
#include <deque>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>

#include "crsp/dht_adapter/keys.h"
#include "node_identity.h"
#include "record_policy.h"
#include "task_thread.h"
#include "value_types.h"

namespace crsp::dht {
namespace {

using ::dht::InfoHash;
using ValuePtr = std::shared_ptr<::dht::Value>;

// A failed put confirmation while peers exist is retried after 200 ms,
// 400 ms, ... up to 1 s apart, until put_timeout ends the put.
constexpr int kMaxRetryStepFactor = 5;
constexpr std::chrono::milliseconds kPutRetryStep{200};
// The user type of every offer value.
constexpr std::string_view kOfferUserType = "crsp/offer";
// The pace of a re-read of watched keys: gets started per second, and at
// most this many at once. A watch without price limit is 1,408 keys, so a
// re-read of one resource id takes about 44 s and adds about 32 gets/s.
constexpr size_t kSweepGetsPerSecond = 32;
constexpr size_t kSweepParallelism = 8;
// Listens are handed to OpenDHT this many at a time, this far apart.
// DhtRunner runs every queued call before it reads the packets that came
// meanwhile, and drops those that waited over 650 ms (RX_QUEUE_MAX_DELAY):
// a Watch of 1,408 keys queued at once kept the DHT thread busy for over a
// second, and the answers to the same query's gets were lost.
constexpr size_t kListensPerBatch = 64;
constexpr std::chrono::milliseconds kListenBatchPause{20};
// A new Watch's keys are read again this long after its listens start.
constexpr std::chrono::milliseconds kWatchSettleTime{5000};

uint64_t NowSeconds() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count());
}

std::span<const std::byte> AsBytes(const ::dht::Blob& blob) {
  return std::as_bytes(std::span<const uint8_t>(blob.data(), blob.size()));
}

bool KeyHashAllowedFor(const InfoHash& key, const OfferRecord& record) {
  for (const std::string& name :
       KeysOfDevice(record.offer.resource, record.offer.device)) {
    if (InfoHash::get(name) == key) return true;
  }
  return false;
}

// The whole store and read policy for one OpenDHT value (docs/storage.md
// "Store policy"): one of our types, signed with a valid signature, and a
// record that AcceptRecord takes, under a key it may live under.
std::optional<OfferRecord> AcceptValue(const InfoHash& key,
                                       const ValuePtr& value, uint64_t now) {
  if (!value || !IsOfferType(value->type)) return std::nullopt;
  if (value->data.size() > kMaxRecordSize) return std::nullopt;
  // Value::checkSignature() is also true for an unsigned value.
  if (!value->isSigned() || !value->checkSignature()) return std::nullopt;
  std::optional<OfferRecord> record = AcceptRecord(AsBytes(value->data), now);
  if (!record || !KeyHashAllowedFor(key, *record)) return std::nullopt;
  return record;
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
  return std::make_shared<::dht::Logger>(method(DhtLogLevel::kError),
                                         method(DhtLogLevel::kWarning),
                                         method(DhtLogLevel::kDebug));
}

// One Publish: `done` runs exactly once, from whichever of the put callback
// and the timeout comes first.
struct PutOp {
  Dht::PutDone done;
  std::atomic<bool> finished{false};
  // Puts the primary key's value (again). A fresh node's first put can
  // fail at once while its peers are still being confirmed (seen on
  // loopback: the IPv4 search expires, the IPv6 one is just starting), so
  // a failure with good peers is retried until put_timeout.
  std::function<void()> put_primary;
  int attempts = 1;
  void Finish(bool ok, size_t replicas) {
    if (finished.exchange(true)) return;
    done(ok, static_cast<uint16_t>(std::min<size_t>(replicas, UINT16_MAX)));
  }
};

// One Fetch: gets run `parallelism` at a time. `answer` runs once, when the
// last get finished or at the answer deadline; `more` after it, with what
// later gets read, last when the last get finished or at the finish
// deadline (`over`).
struct FetchOp {
  Dht::FetchDone answer;
  Dht::FetchMore more;
  uint16_t resource = 0;
  std::vector<InfoHash> keys;
  size_t next = 0;
  size_t outstanding = 0;
  bool answered = false;
  bool over = false;
  std::vector<OfferRecord> records;                 // until `answer` runs
  std::set<std::pair<uint64_t, ::dht::Blob>> seen;  // (value id, data)
};

struct Watcher {
  uint16_t resource;
  uint32_t max_bucket;
  Dht::RecordSeen seen;
};

struct ListenedKey {
  uint16_t resource;
  uint32_t bucket;
};

struct Published {
  std::vector<std::string> keys;  // every key this offer was put under
  uint64_t valid_until = 0;
};

}  // namespace

struct OpenDhtDht::Impl : std::enable_shared_from_this<Impl> {
  OpenDhtConfig config;
  DhtLogger logger;
  ::dht::DhtRunner runner;
  InfoHash node_id;
  std::atomic<bool> stopped{false};
  DhtInfo last_info;  // served after Shutdown

  std::mutex mu;
  std::map<std::pair<protocol::DeviceId, uint16_t>, Published> published;
  std::map<InfoHash, ListenedKey> listened;
  std::vector<Watcher> watchers;
  // Keys a Watch added that are not listened on yet (PumpListens).
  std::deque<InfoHash> listen_queue;
  bool listen_pump_running = false;

  // Declared last: destroyed (stopped) before the runner it calls into.
  TaskThread tasks;

  void Log(DhtLogLevel level, const std::string& line) const {
    if (logger) logger(level, line);
  }

  void Start(const OpenDhtConfig& cfg);
  void OnPutDone(const std::shared_ptr<PutOp>& op, bool ok, size_t nodes,
                 const InfoHash& key, uint64_t id, const ::dht::Blob& data);
  void StartGets(const std::shared_ptr<FetchOp>& op);
  // At the answer deadline: answers with what arrived (once).
  void AnswerFetch(const std::shared_ptr<FetchOp>& op);
  // Every get finished (or the finish deadline passed, or the DHT stopped):
  // answers if not yet, then finishes (once).
  void EndFetch(const std::shared_ptr<FetchOp>& op, bool complete);
  void OnValues(const InfoHash& key, const std::vector<ValuePtr>& values);
  // Hands the next kListensPerBatch queued keys to OpenDHT's listen, and
  // comes back after kListenBatchPause while keys are left.
  void PumpListens();
  void CancelAtExpiry(const std::pair<protocol::DeviceId, uint16_t>& offer,
                      uint64_t valid_until, uint64_t id);
  void Refresh(std::chrono::milliseconds next);
  void OnPeerPing(const std::string& peer, bool ok);
  void SweepSoon(std::chrono::milliseconds delay);
  void SweepNext();
  uint32_t GoodPeers() const;

  // The re-read of watched keys (Sweep*); touched on the task thread only.
  struct Sweep {
    std::vector<InfoHash> keys;
    size_t next = 0;
    size_t outstanding = 0;
    // Gets started in the current one-second window; paused: a task will
    // go on when the window ends.
    std::chrono::steady_clock::time_point window_start{};
    size_t window_gets = 0;
    bool paused = false;
  };
  std::unique_ptr<Sweep> sweep;
  bool sweep_again = false;
  bool sweep_scheduled = false;
  std::chrono::steady_clock::time_point last_sweep{};
  uint32_t peers_low = 0;  // fewest good peers seen since the last sweep
  std::map<std::string, bool> peer_answered;  // by configured peer, last ping
};

void OpenDhtDht::Impl::Start(const OpenDhtConfig& cfg) {
  config = cfg;
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
  context.logger = MakeLogger(logger);
  try {
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

  for (const OfferValueType& t : kOfferValueTypes) {
    ::dht::ValueType type(
        t.id, t.name, t.expiration,
        [log = logger](InfoHash key, ValuePtr& value, const InfoHash&,
                       const ::dht::SockAddr& from) {
          if (AcceptValue(key, value, NowSeconds())) return true;
          if (log) {
            log(DhtLogLevel::kWarning,
                "DHT: refused an offer value from " + from.toString());
          }
          return false;
        });
    runner.registerType(type);
  }
  node_id = runner.getNodeId();
  for (const std::string& peer : cfg.bootstrap) runner.bootstrap(peer);
  if (cfg.refresh_interval.count() > 0) {
    // The first refreshes come soon: a node started together with its
    // peers often first hears of only one of them.
    std::weak_ptr<Impl> weak = weak_from_this();
    tasks.PostAfter(std::chrono::seconds(2), [weak] {
      if (auto self = weak.lock()) self->Refresh(std::chrono::seconds(4));
    });
  }
}

// Kademlia's join lookup, repeated. OpenDHT pings its bootstrap peers only
// while it has no peer at all and looks its own id up once, so a node that
// joined while the cluster was forming can know a single peer for minutes,
// and the two halves of a healed partition never meet again: each half
// keeps good peers of its own. Pinging the configured peers and looking up
// our own id puts the nodes that answer into the routing table and into
// every running search (Dht::onNewNode), so puts, gets and listens reach
// the nodes closest to their keys again. A node with no peer at all skips
// the lookup (it would only fail).
void OpenDhtDht::Impl::Refresh(std::chrono::milliseconds next) {
  if (stopped) return;
  for (const std::string& peer : config.bootstrap) {
    const auto [host, service] = ::dht::splitPort(peer);
    std::vector<::dht::SockAddr> addresses;
    try {
      addresses = ::dht::SockAddr::resolve(host, service);
    } catch (const std::exception&) {
      // Unresolvable now; tried again at the next refresh.
    }
    std::weak_ptr<Impl> weak = weak_from_this();
    for (::dht::SockAddr& address : addresses) {
      runner.bootstrap(std::move(address), [weak, peer](bool ok) {
        if (auto self = weak.lock()) {
          self->tasks.Post([self, peer, ok] { self->OnPeerPing(peer, ok); });
        }
      });
    }
  }
  const ::dht::NodeStats v4 = runner.getNodesStats(AF_INET);
  const ::dht::NodeStats v6 = runner.getNodesStats(AF_INET6);
  if (v4.good_nodes + v4.dubious_nodes + v6.good_nodes + v6.dubious_nodes > 0) {
    runner.get(node_id, ::dht::GetCallback([](const std::vector<ValuePtr>&) {
                 return false;  // no value wanted: the walk is the point
               }),
               ::dht::DoneCallbackSimple([](bool) {}));
  }
  // Many peers regained (a healed partition, a cluster back from a
  // restart): the values stored meanwhile on the nodes now reachable come
  // in by a re-read, not by listens that were set up without those nodes.
  const uint32_t good = v4.good_nodes + v6.good_nodes;
  peers_low = std::min(peers_low, good);
  const bool peers_back =
      good >= peers_low + 2 && good >= peers_low + peers_low / 2;
  const bool resync_due =
      config.resync_interval.count() > 0 &&
      std::chrono::steady_clock::now() - last_sweep >= config.resync_interval;
  if (peers_back || resync_due) SweepSoon(std::chrono::milliseconds(0));
  std::weak_ptr<Impl> weak = weak_from_this();
  const std::chrono::milliseconds after =
      std::min<std::chrono::milliseconds>(next * 2, config.refresh_interval);
  tasks.PostAfter(next, [weak, after] {
    if (auto self = weak.lock()) self->Refresh(after);
  });
}

// A configured peer that answers again after it did not is the one sign of
// a healed partition this node is sure to get (its routing table may still
// hold the other side's nodes as good, or as expired). OpenDHT's
// connectivityChanged gives every node it gave up on another chance, and a
// re-read makes listens and announces reach the other side again.
void OpenDhtDht::Impl::OnPeerPing(const std::string& peer, bool ok) {
  auto [it, first] = peer_answered.emplace(peer, ok);
  const bool back = !first && ok && !it->second;
  it->second = ok;
  if (!back || stopped) return;
  Log(DhtLogLevel::kWarning, "DHT: bootstrap peer " + peer +
                                 " answers again; re-reading watched keys");
  runner.connectivityChanged();
  SweepSoon(std::chrono::seconds(1));
}

// Watch re-reads what it listens to: OpenDHT's listen is best effort (a
// listen set up while a key's closest nodes were unknown, busy or cut off
// stays on the nodes it found until the listen is refreshed, minutes later),
// so a sweep gets every listened key again and reports what it finds like
// a listen would. One sweep at a time, paced (kSweepGetsPerSecond); asked
// for again while running, it runs once more after.
void OpenDhtDht::Impl::SweepSoon(std::chrono::milliseconds delay) {
  if (stopped) return;
  if (sweep) {
    sweep_again = true;
    return;
  }
  if (sweep_scheduled) return;
  sweep_scheduled = true;
  std::weak_ptr<Impl> weak = weak_from_this();
  tasks.PostAfter(delay, [weak] {
    auto self = weak.lock();
    if (!self || self->stopped) return;
    // Only this task starts a sweep, and none runs while it is scheduled.
    self->sweep_scheduled = false;
    auto sweep = std::make_unique<Sweep>();
    {
      std::lock_guard lock(self->mu);
      sweep->keys.reserve(self->listened.size());
      for (const auto& entry : self->listened) {
        sweep->keys.push_back(entry.first);
      }
    }
    self->last_sweep = std::chrono::steady_clock::now();
    self->peers_low = self->GoodPeers();
    // Alone, there is nobody to read from: listens see the local storage.
    if (sweep->keys.empty() || self->peers_low == 0) return;
    self->sweep = std::move(sweep);
    self->SweepNext();
  });
}

void OpenDhtDht::Impl::SweepNext() {
  std::weak_ptr<Impl> weak = weak_from_this();
  const auto now = std::chrono::steady_clock::now();
  if (now - sweep->window_start >= std::chrono::seconds(1)) {
    sweep->window_start = now;
    sweep->window_gets = 0;
  }
  while (!stopped && sweep->outstanding < kSweepParallelism &&
         sweep->next < sweep->keys.size()) {
    if (sweep->window_gets == kSweepGetsPerSecond) {
      if (!sweep->paused) {
        sweep->paused = true;
        tasks.PostAt(sweep->window_start + std::chrono::seconds(1), [weak] {
          auto self = weak.lock();
          if (!self || !self->sweep) return;
          self->sweep->paused = false;
          self->SweepNext();
        });
      }
      return;
    }
    ++sweep->window_gets;
    const InfoHash key = sweep->keys[sweep->next++];
    ++sweep->outstanding;
    runner.get(
        key, ::dht::GetCallback([weak, key](const std::vector<ValuePtr>& vals) {
          if (auto self = weak.lock()) {
            self->tasks.Post([self, key, vals] { self->OnValues(key, vals); });
          }
          return true;
        }),
        ::dht::DoneCallbackSimple([weak](bool) {
          if (auto self = weak.lock()) {
            self->tasks.Post([self] {
              if (!self->sweep) return;
              --self->sweep->outstanding;
              self->SweepNext();
            });
          }
        }));
  }
  if (sweep->outstanding == 0 && !sweep->paused &&
      (stopped || sweep->next == sweep->keys.size())) {
    sweep.reset();
    if (sweep_again) {
      sweep_again = false;
      SweepSoon(std::chrono::milliseconds(0));
    }
  }
}

uint32_t OpenDhtDht::Impl::GoodPeers() const {
  return runner.getNodesStats(AF_INET).good_nodes +
         runner.getNodesStats(AF_INET6).good_nodes;
}

void OpenDhtDht::Impl::OnPutDone(const std::shared_ptr<PutOp>& op, bool ok,
                                 size_t nodes, const InfoHash& key, uint64_t id,
                                 const ::dht::Blob& data) {
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
    op->attempts = std::min(op->attempts + 1, kMaxRetryStepFactor);
    tasks.PostAfter(kPutRetryStep * op->attempts, op->put_primary);
    return;
  }
  auto found = std::make_shared<std::atomic<bool>>(false);
  std::weak_ptr<Impl> weak = weak_from_this();
  runner.get(
      key,
      ::dht::GetCallback([found, id, data](const std::vector<ValuePtr>& vals) {
        for (const ValuePtr& v : vals) {
          if (v->id == id && v->data == data) *found = true;
        }
        return !*found;
      }),
      ::dht::DoneCallback([weak, op, found](bool, const auto&) {
        if (auto self = weak.lock()) {
          self->tasks.Post([op, found] { op->Finish(*found, *found ? 1 : 0); });
        }
      }),
      ::dht::Value::IdFilter(id));
}

void OpenDhtDht::Impl::CancelAtExpiry(
    const std::pair<protocol::DeviceId, uint16_t>& offer, uint64_t valid_until,
    uint64_t id) {
  const uint64_t now = NowSeconds();
  const auto delay =
      std::chrono::seconds(valid_until > now ? valid_until - now : 0);
  std::weak_ptr<Impl> weak = weak_from_this();
  tasks.PostAfter(delay + std::chrono::seconds(1),
                  [weak, offer, valid_until, id] {
                    auto self = weak.lock();
                    if (!self || self->stopped) return;
                    std::vector<std::string> keys;
                    {
                      std::lock_guard lock(self->mu);
                      auto it = self->published.find(offer);
                      // A later Publish with a later valid_until owns the value
                      // now.
                      if (it == self->published.end() ||
                          it->second.valid_until != valid_until) {
                        return;
                      }
                      keys = std::move(it->second.keys);
                      self->published.erase(it);
                    }
                    // Expired: stop re-announcing; stored copies are refused
                    // and dropped.
                    for (const std::string& k : keys)
                      self->runner.cancelPut(InfoHash::get(k), id);
                  });
}

void OpenDhtDht::Impl::AnswerFetch(const std::shared_ptr<FetchOp>& op) {
  std::vector<OfferRecord> records;
  {
    std::lock_guard lock(mu);
    if (op->answered) return;
    op->answered = true;
    records = std::move(op->records);
    op->records.clear();
  }
  op->answer(std::move(records), /*complete=*/false);
}

void OpenDhtDht::Impl::EndFetch(const std::shared_ptr<FetchOp>& op,
                                bool complete) {
  bool answered;
  std::vector<OfferRecord> records;
  {
    std::lock_guard lock(mu);
    if (op->over) return;
    op->over = true;
    answered = op->answered;
    op->answered = true;
    records = std::move(op->records);
    op->records.clear();
  }
  const Dht::FetchProgress last = complete ? Dht::FetchProgress::kComplete
                                           : Dht::FetchProgress::kIncomplete;
  if (answered) {
    op->more(std::move(records), last);
  } else {
    op->answer(std::move(records), complete);
    op->more({}, last);
  }
}

void OpenDhtDht::Impl::StartGets(const std::shared_ptr<FetchOp>& op) {
  std::vector<InfoHash> to_start;
  {
    std::lock_guard lock(mu);
    if (op->over) return;
    if (!stopped && (op->next < op->keys.size() || op->outstanding > 0)) {
      while (op->outstanding <
                 std::max<uint32_t>(config.fetch_parallelism, 1) &&
             op->next < op->keys.size()) {
        to_start.push_back(op->keys[op->next++]);
        ++op->outstanding;
      }
    }
  }
  if (to_start.empty()) {
    bool outstanding;
    {
      std::lock_guard lock(mu);
      outstanding = op->outstanding > 0;
    }
    if (stopped || !outstanding) EndFetch(op, /*complete=*/!stopped);
    return;
  }
  std::weak_ptr<Impl> weak = weak_from_this();
  for (const InfoHash& key : to_start) {
    runner.get(
        key,
        ::dht::GetCallback([weak, op, key](const std::vector<ValuePtr>& vals) {
          auto self = weak.lock();
          if (!self) return false;
          self->tasks.Post([self, op, key, vals] {
            const uint64_t now = NowSeconds();
            std::vector<std::pair<const ValuePtr*, OfferRecord>> accepted;
            for (const ValuePtr& v : vals) {
              std::optional<OfferRecord> r = AcceptValue(key, v, now);
              if (r && r->offer.resource == op->resource) {
                accepted.emplace_back(&v, std::move(*r));
              }
            }
            std::vector<OfferRecord> late;  // read after the answer
            {
              std::lock_guard lock(self->mu);
              if (op->over) return;
              for (auto& [v, r] : accepted) {
                if (op->seen.emplace((*v)->id, (*v)->data).second) {
                  (op->answered ? late : op->records).push_back(std::move(r));
                }
              }
            }
            // On the task thread, as EndFetch: never after its last call.
            if (!late.empty()) {
              op->more(std::move(late), Dht::FetchProgress::kReading);
            }
          });
          return true;
        }),
        ::dht::DoneCallback([weak, op](bool, const auto&) {
          if (auto self = weak.lock()) {
            self->tasks.Post([self, op] {
              {
                std::lock_guard lock(self->mu);
                --op->outstanding;
              }
              self->StartGets(op);
            });
          }
        }),
        ::dht::Value::Filter{},
        // The listens' clause: a key a synced listen covers is answered
        // from that listen's cache without asking any node. A listen counts
        // as synced once the few nodes it knew acknowledged it, so such an
        // answer can miss what was put elsewhere (seen: a complete Fetch of
        // 0 records for an offer stored 2 s before); the listen and the
        // re-reads (no clause, so they ask the nodes) bring it later. Tried
        // without the clause: every Fetch asked the network for every key,
        // and a 20-node cluster on two cores never converged.
        ::dht::Where().userType(kOfferUserType));
  }
}

void OpenDhtDht::Impl::OnValues(const InfoHash& key,
                                const std::vector<ValuePtr>& values) {
  std::vector<OfferRecord> records;
  const uint64_t now = NowSeconds();
  for (const ValuePtr& v : values) {
    if (std::optional<OfferRecord> r = AcceptValue(key, v, now)) {
      records.push_back(std::move(*r));
    }
  }
  std::vector<Dht::RecordSeen> targets;
  {
    std::lock_guard lock(mu);
    auto it = listened.find(key);
    if (it == listened.end()) return;
    for (const Watcher& w : watchers) {
      if (w.resource == it->second.resource &&
          it->second.bucket <= w.max_bucket) {
        targets.push_back(w.seen);
      }
    }
  }
  for (const OfferRecord& r : records) {
    for (const Dht::RecordSeen& seen : targets) seen(r);
  }
}

OpenDhtDht::OpenDhtDht(const OpenDhtConfig& config, DhtLogger logger)
    : impl_(std::make_shared<Impl>()) {
  impl_->logger = std::move(logger);
  impl_->Start(config);
}

OpenDhtDht::~OpenDhtDht() { Shutdown(std::chrono::seconds(5)); }

void OpenDhtDht::Publish(const OfferRecord& record, PutDone done) {
  const uint64_t now = NowSeconds();
  std::vector<std::byte> bytes = EncodeRecord(record);
  if (impl_->stopped || !AcceptRecord(bytes, now)) {
    done(false, 0);
    return;
  }
  const OfferValueType& type =
      TypeForRemaining(std::chrono::seconds(record.offer.valid_until - now));
  const uint64_t id = ValueIdFor(
      record.offer.device, record.offer.resource,
      std::span<const uint8_t>(impl_->node_id.data(), impl_->node_id.size()));
  const std::string primary = KeyFor(record.offer);
  const auto offer = std::make_pair(record.offer.device, record.offer.resource);
  std::vector<std::string> keys;
  {
    std::lock_guard lock(impl_->mu);
    Published& p = impl_->published[offer];
    // Older keys (older prices) get the newest version too, so that a
    // reader of an older price's bucket learns that version is outdated.
    if (std::find(p.keys.begin(), p.keys.end(), primary) == p.keys.end()) {
      p.keys.push_back(primary);
    }
    p.valid_until = std::max(p.valid_until, record.offer.valid_until);
    keys = p.keys;
  }
  auto op = std::make_shared<PutOp>();
  op->done = std::move(done);
  impl_->tasks.PostAfter(impl_->config.put_timeout,
                         [op] { op->Finish(false, 0); });
  const ::dht::Blob data(
      reinterpret_cast<const uint8_t*>(bytes.data()),
      reinterpret_cast<const uint8_t*>(bytes.data()) + bytes.size());
  std::weak_ptr<Impl> weak = impl_;
  // Weak: the op must not own a function that owns the op.
  std::weak_ptr<PutOp> weak_op = op;
  op->put_primary = [weak, weak_op, key = InfoHash::get(primary),
                     type_id = type.id, id, data] {
    auto self = weak.lock();
    auto op = weak_op.lock();
    if (!self || !op || op->finished) return;
    auto value = std::make_shared<::dht::Value>(type_id, data, id);
    value->user_type = kOfferUserType;
    self->runner.putSigned(
        key, value,
        ::dht::DoneCallback(
            [weak, op, key, id, data](bool ok, const auto& nodes) {
              if (auto self = weak.lock()) {
                const size_t n = nodes.size();
                self->tasks.Post([self, op, ok, n, key, id, data] {
                  self->OnPutDone(op, ok, n, key, id, data);
                });
              }
            }),
        /*permanent=*/true);
  };
  op->put_primary();
  for (const std::string& name : keys) {
    if (name == primary) continue;
    auto value = std::make_shared<::dht::Value>(type.id, data, id);
    value->user_type = kOfferUserType;
    impl_->runner.putSigned(InfoHash::get(name), value, ::dht::DoneCallback{},
                            /*permanent=*/true);
  }
  impl_->CancelAtExpiry(offer, record.offer.valid_until, id);
}

void OpenDhtDht::Fetch(uint16_t resource, uint32_t max_price,
                       FetchDeadlines deadlines, FetchDone answer,
                       FetchMore more) {
  auto op = std::make_shared<FetchOp>();
  op->answer = std::move(answer);
  op->more = std::move(more);
  op->resource = resource;
  for (const std::string& name : KeysFor(resource, max_price)) {
    op->keys.push_back(InfoHash::get(name));
  }
  std::weak_ptr<Impl> weak = impl_;
  impl_->tasks.PostAfter(deadlines.answer_by, [weak, op] {
    if (auto self = weak.lock()) self->AnswerFetch(op);
  });
  impl_->tasks.PostAfter(std::max(deadlines.answer_by, deadlines.finish_by),
                         [weak, op] {
                           if (auto self = weak.lock()) {
                             self->EndFetch(op, /*complete=*/false);
                           }
                         });
  impl_->StartGets(op);
}

void OpenDhtDht::Impl::PumpListens() {
  std::vector<InfoHash> batch;
  {
    std::lock_guard lock(mu);
    while (batch.size() < kListensPerBatch && !listen_queue.empty()) {
      batch.push_back(listen_queue.front());
      listen_queue.pop_front();
    }
    listen_pump_running = !listen_queue.empty() && !stopped;
  }
  std::weak_ptr<Impl> weak = weak_from_this();
  for (const InfoHash& key : batch) {
    // The token is only needed to cancel; listens end with the runner.
    runner.listen(
        key,
        ::dht::ValueCallback([weak, key](const std::vector<ValuePtr>& vals,
                                         bool expired) {
          auto self = weak.lock();
          if (!self) return false;
          if (!expired) {
            self->tasks.Post([self, key, vals] { self->OnValues(key, vals); });
          }
          return true;
        }),
        ::dht::Value::Filter{},
        // Every offer value has this user type, so the clause changes
        // nothing in what the listen reports. It is there because OpenDHT
        // answers a get from a synced listen's cache when the listen's
        // query covers the get's: the re-reads (no clause) ask the nodes,
        // while Fetch (same clause) may use the cache.
        ::dht::Where().userType(kOfferUserType));
  }
  std::lock_guard lock(mu);
  if (listen_pump_running) {
    tasks.PostAfter(kListenBatchPause, [weak] {
      if (auto self = weak.lock()) self->PumpListens();
    });
  }
}

void OpenDhtDht::Watch(uint16_t resource, uint32_t max_price, RecordSeen seen) {
  if (impl_->stopped) return;
  std::vector<std::pair<InfoHash, uint32_t>> to_listen;
  {
    std::lock_guard lock(impl_->mu);
    impl_->watchers.push_back({resource, PriceBucket(max_price), seen});
    for (uint32_t bucket = 0; bucket <= PriceBucket(max_price); ++bucket) {
      for (uint32_t shard = 0; shard < kShards; ++shard) {
        const InfoHash key = InfoHash::get(KeyName(resource, bucket, shard));
        if (impl_->listened.emplace(key, ListenedKey{resource, bucket})
                .second) {
          to_listen.emplace_back(key, bucket);
        }
      }
    }
  }
  std::weak_ptr<Impl> weak = impl_;
  if (!to_listen.empty()) {
    bool start_pump;
    {
      std::lock_guard lock(impl_->mu);
      for (const auto& [key, bucket] : to_listen) {
        impl_->listen_queue.push_back(key);
      }
      start_pump = !impl_->listen_pump_running;
      impl_->listen_pump_running = true;
    }
    if (start_pump) {
      impl_->tasks.Post([weak] {
        if (auto self = weak.lock()) self->PumpListens();
      });
    }
  }
  if (!to_listen.empty()) {
    // Once the new listens have settled, read their keys again: a value a
    // listen did not deliver (its notification lost, or stored where the
    // listen did not reach) and that the caller's fetch did not read in
    // time comes in then.
    impl_->tasks.Post([weak] {
      if (auto self = weak.lock()) self->SweepSoon(kWatchSettleTime);
    });
  }
}

DhtInfo OpenDhtDht::Info() const {
  std::lock_guard lock(impl_->mu);
  if (impl_->stopped) return impl_->last_info;
  DhtInfo info;
  std::copy_n(impl_->node_id.data(), info.node_id.size(), info.node_id.begin());
  info.good_peers = impl_->GoodPeers();
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
  // Runs the pending deadlines: every outstanding done is called.
  impl_->tasks.Stop();
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
