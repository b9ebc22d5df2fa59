// Keeping OpenDhtDht fresh: the periodic refresh of bootstrap peers and of
// the node's own id, and the paced re-reads (sweeps) of watched keys.
// docs/storage.md "Publish, Fetch, Watch" and docs/cluster.md.
#include <opendht.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <vector>

#include "crsp/dht_adapter/keys.h"
#include "opendht_impl.h"

namespace crsp::dht {

using internal::InfoHash;
using internal::kSweepGetsPerSecond;
using internal::kSweepParallelism;
using internal::ValuePtr;

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
  // Many peers regained or gained (a healed partition, a cluster back from
  // a restart or just formed): the values stored meanwhile on the nodes now
  // reachable come in by a re-read, not by listens that were set up without
  // those nodes; and this node's own offers, put while its peers knew few
  // nodes, may sit on nodes that are not the closest to their keys (where
  // readers look): walking their keys again finds the closest nodes, and
  // OpenDHT's announce, which shares the key's search, goes to them.
  const uint32_t good = v4.good_nodes + v6.good_nodes;
  peers_low = std::min(peers_low, good);
  const bool peers_back =
      good >= peers_low + 2 && good >= peers_low + peers_low / 2;
  const bool resync_due =
      config.resync_interval.count() > 0 &&
      std::chrono::steady_clock::now() - last_sweep >= config.resync_interval;
  if (peers_back || resync_due) {
    SweepSoon(std::chrono::milliseconds(0), /*rewalk=*/peers_back);
  }
  const std::chrono::milliseconds after =
      std::min<std::chrono::milliseconds>(next * 2, config.refresh_interval);
  After(next, [after](Impl& self) { self.Refresh(after); });
}

// OpenDHT's Dht::trySearchInsert runs for every packet received: from the
// sender's id it walks the searches (a map ordered by key) both ways and
// stops only at a search that is neither done nor expired and would not
// take the sender. Each one-shot get (Fetch, a sweep's re-read) leaves a
// done search for 62 minutes, 1,408 per resource id read, so without
// something to stop it the walk passes all of them on every packet. A
// search with a listener is never done: one anchor in each 1/n of the
// keyspace bounds the walk to about done/n searches. The keys are random
// within their slice, so nodes do not all listen on the same n keys.
void OpenDhtDht::Impl::StartSearchAnchors() {
  const uint32_t n = std::min<uint32_t>(config.search_anchors, 65536);
  if (n == 0) return;
  for (uint32_t i = 0; i < n; ++i) {
    InfoHash key = InfoHash::getRandom();
    // The key's first 16 bits, random r, moved into slice i of n:
    // (i * 65536 + r) / n lies in [i * 65536 / n, (i + 1) * 65536 / n).
    const uint32_t r = uint32_t(key[0]) << 8 | key[1];
    const auto top = uint32_t((uint64_t(i) * 65536 + r) / n);
    key[0] = uint8_t(top >> 8);
    key[1] = uint8_t(top & 0xff);
    // The token is not kept: anchors live as long as the runner.
    (void)runner.listen(
        key, ::dht::ValueCallback([](const std::vector<ValuePtr>&, bool) {
          return true;
        }),
        ::dht::Value::Filter([](const ::dht::Value&) { return false; }),
        ::dht::Where());
  }
  Log(DhtLogLevel::kDebug,
      "DHT: " + std::to_string(n) + " search anchors listening");
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
  SweepSoon(std::chrono::seconds(1), /*rewalk=*/true);
}

// Watch re-reads what it listens to: OpenDHT's listen is best effort (a
// listen set up while a key's closest nodes were unknown, busy or cut off
// stays on the nodes it found until the listen is refreshed, minutes later),
// so a sweep gets every listened key again and reports what it finds like
// a listen would. One sweep at a time, paced (kSweepGetsPerSecond); asked
// for again while running, it runs once more after.
void OpenDhtDht::Impl::SweepSoon(std::chrono::milliseconds delay, bool rewalk) {
  if (stopped) return;
  rewalk_next = rewalk_next || rewalk;
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
    const bool rewalk = self->rewalk_next;
    self->rewalk_next = false;
    {
      std::lock_guard lock(self->mu);
      sweep->keys.reserve(self->listened.size());
      for (const auto& entry : self->listened) {
        sweep->keys.push_back(entry.first);
        sweep->listened.push_back(entry.second.listen);
      }
      sweep->watched = sweep->keys.size();
      if (rewalk) {
        std::set<InfoHash> own;
        for (const auto& entry : self->published) {
          for (const InfoHash& key : entry.second.keys) {
            if (self->listened.count(key) == 0) own.insert(key);
          }
        }
        sweep->keys.insert(sweep->keys.end(), own.begin(), own.end());
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
    const bool watched = sweep->next < sweep->watched;
    const bool listened = watched && sweep->listened[sweep->next];
    const InfoHash key = sweep->keys[sweep->next++];
    ++sweep->outstanding;
    // A key that is only re-read has no listen cache to check: its get
    // walks the search and reads the values.
    if (watched && !listened) {
      RereadGet(key, now);
      continue;
    }
    // A query for value ids under every key. A get of a key whose listen
    // is synced is answered from the listen's cache, which cannot hold
    // what the listen missed (our listens carry no Where clause, so they
    // cover every get). A query selects fields, so no listen covers it: it
    // walks the key's search to the closest nodes now reachable, and the
    // listen then subscribes to them and they send it what they store (how
    // a healed partition's offers arrive). The ids it finds show a hole in
    // the listen's cache (CheckHoles). Under one of our offers' keys (not
    // watched) the walk is the point: OpenDHT's announce shares the search.
    auto found = std::make_shared<std::vector<uint64_t>>();
    runner.query(
        key,
        ::dht::QueryCallback(
            [found](const std::vector<std::shared_ptr<::dht::FieldValueIndex>>&
                        fields) {
              for (const auto& f : fields) {
                auto id = f->index.find(::dht::Value::Field::Id);
                if (id != f->index.end()) found->push_back(id->second.getInt());
              }
              return true;
            }),
        ::dht::DoneCallbackSimple([weak, key, found, watched](bool ok) {
          if (watched && !ok) return;
          if (auto self = weak.lock()) {
            self->tasks.Post([self, key, found, watched] {
              if (watched) {
                self->CheckHoles(key, std::move(*found), false);
                return;  // the get below ends this key's read
              }
              if (!self->sweep) return;
              --self->sweep->outstanding;
              self->SweepNext();
            });
          }
        }),
        ::dht::Query(::dht::Select().field(::dht::Value::Field::Id)));
    // Our offers' keys are walked only (their values are ours), and no
    // caller waits for them: not a get of the metrics.
    if (!watched) continue;
    // The get brings the values of keys whose listen is not synced.
    RereadGet(key, now);
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

void OpenDhtDht::Impl::RereadGet(const InfoHash& key,
                                 std::chrono::steady_clock::time_point now) {
  std::weak_ptr<Impl> weak = weak_from_this();
  metrics->Started(DhtOp::kGet);
  runner.get(
      key, ::dht::GetCallback([weak, key](const std::vector<ValuePtr>& vals) {
        if (auto self = weak.lock()) {
          self->tasks.Post([self, key, vals] { self->OnValues(key, vals); });
        }
        return true;
      }),
      ::dht::DoneCallbackSimple([weak, started = now](bool ok) {
        if (auto self = weak.lock()) {
          self->metrics->Finished(DhtOp::kGet,
                                  ok ? DhtOutcome::kOk : DhtOutcome::kFailed,
                                  std::chrono::steady_clock::now() - started);
          self->tasks.Post([self] {
            if (!self->sweep) return;
            --self->sweep->outstanding;
            self->SweepNext();
          });
        }
      }));
}

uint32_t OpenDhtDht::Impl::GoodPeers() const {
  return runner.getNodesStats(AF_INET).good_nodes +
         runner.getNodesStats(AF_INET6).good_nodes;
}

}  // namespace crsp::dht
