// OpenDhtDht's reads: Fetch and FetchKeyOf (paced gets with an answer and a
// finish deadline), Watch (listens handed to OpenDHT in paced batches,
// values reported to the watchers) and Unwatch. docs/storage.md "Publish,
// Fetch, Watch".
#include <opendht.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <vector>

#include "crsp/dht_adapter/keys.h"
#include "crsp/support/clock.h"
#include "opendht_impl.h"

namespace crsp::dht {

using internal::AcceptValue;
using internal::FetchOp;
using internal::InfoHash;
using internal::kHoleGrace;
using internal::kListenBatchPause;
using internal::kListensPerBatch;
using internal::kOfferUserType;
using internal::kRelistenDelay;
using internal::kWatchSettleTime;
using internal::ListenedKey;
using internal::QueuedListen;
using internal::ValuePtr;
using internal::Watcher;
using support::UnixSeconds;

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
  bool finished;
  bool failed;
  {
    std::lock_guard lock(mu);
    if (op->over) return;
    finished = stopped || (op->next == op->keys.size() && op->outstanding == 0);
    failed = op->failed;
    while (!finished &&
           op->outstanding < std::max<uint32_t>(config.fetch_parallelism, 1) &&
           op->next < op->keys.size()) {
      to_start.push_back(op->keys[op->next++]);
      ++op->outstanding;
    }
  }
  if (finished) {
    // A get whose search reached no node read only the local store: not
    // complete while the node has peers (seen: a node reconnected after a
    // cut, its peers still marked dead, fetched nothing and turned warm).
    // A node with no peer at all has nothing more to read.
    EndFetch(op, /*complete=*/!stopped && (!failed || GoodPeers() == 0));
    return;
  }
  std::weak_ptr<Impl> weak = weak_from_this();
  for (const InfoHash& key : to_start) {
    metrics->Started(DhtOp::kGet);
    runner.get(
        key,
        ::dht::GetCallback([weak, op, key](const std::vector<ValuePtr>& vals) {
          auto self = weak.lock();
          if (!self) return false;
          self->tasks.Post([self, op, key, vals] {
            const uint64_t now = UnixSeconds();
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
              // A watched key's values, delivered (CheckHoles).
              auto listened = self->listened.find(key);
              if (listened != self->listened.end()) {
                for (const ValuePtr& v : vals)
                  listened->second.Delivered(v->id);
              }
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
        ::dht::DoneCallback([weak, op,
                             started = std::chrono::steady_clock::now()](
                                bool ok, const auto&) {
          if (auto self = weak.lock()) {
            self->metrics->Finished(DhtOp::kGet,
                                    ok ? DhtOutcome::kOk : DhtOutcome::kFailed,
                                    std::chrono::steady_clock::now() - started);
            self->tasks.Post([self, op, ok] {
              {
                std::lock_guard lock(self->mu);
                --op->outstanding;
                if (!ok) op->failed = true;
              }
              self->StartGets(op);
            });
          }
        }),
        ::dht::Value::Filter{},
        // Every offer value matches. A key whose listen is synced is
        // answered from the listen's cache without asking any node (fast;
        // a listen counts as synced once the few nodes it knew acknowledged
        // it, so what it missed comes later by the listen or a re-read).
        // Fetches that asked the network for every key kept a loaded
        // 20-node cluster on two cores from converging.
        ::dht::Where().userType(kOfferUserType));
  }
}

void OpenDhtDht::Impl::OnValues(const InfoHash& key,
                                const std::vector<ValuePtr>& values,
                                std::optional<uint64_t> listen_serial) {
  std::vector<OfferRecord> records;
  const uint64_t now = UnixSeconds();
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
    // StopListening, Unwatch and Relisten each give the entry a new serial.
    if (listen_serial && it->second.serial != *listen_serial) {
      return;  // a stopped listen's late values
    }
    for (const ValuePtr& v : values) it->second.Delivered(v->id);
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

void OpenDhtDht::Impl::StartFetch(uint16_t resource, std::vector<InfoHash> keys,
                                  Dht::FetchDeadlines deadlines,
                                  Dht::FetchDone answer, Dht::FetchMore more) {
  auto op = std::make_shared<FetchOp>();
  op->answer = std::move(answer);
  op->more = std::move(more);
  op->resource = resource;
  op->keys = std::move(keys);
  std::weak_ptr<Impl> weak = weak_from_this();
  tasks.PostAfter(deadlines.answer_by, [weak, op] {
    if (auto self = weak.lock()) self->AnswerFetch(op);
  });
  tasks.PostAfter(std::max(deadlines.answer_by, deadlines.finish_by),
                  [weak, op] {
                    if (auto self = weak.lock()) {
                      self->EndFetch(op, /*complete=*/false);
                    }
                  });
  StartGets(op);
}

void OpenDhtDht::Fetch(uint16_t resource, uint32_t max_price,
                       FetchDeadlines deadlines, FetchDone answer,
                       FetchMore more) {
  std::vector<InfoHash> keys;
  for (const std::string& name : KeysFor(resource, max_price)) {
    keys.push_back(InfoHash::get(name));
  }
  impl_->stored_keys->StoredFirst(keys);
  impl_->StartFetch(resource, std::move(keys), deadlines, std::move(answer),
                    std::move(more));
}

// A Fetch of one key: the same gets, filter, deadlines and completeness.
void OpenDhtDht::FetchKeyOf(const protocol::Offer& offer,
                            std::chrono::milliseconds deadline,
                            FetchDone done) {
  impl_->StartFetch(offer.resource, {InfoHash::get(KeyFor(offer))},
                    {deadline, deadline}, std::move(done),
                    [](std::vector<OfferRecord>, FetchProgress) {});
}

void OpenDhtDht::Impl::PumpListens() {
  std::vector<QueuedListen> batch;
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mu);
    while (batch.size() < kListensPerBatch && !listen_queue.empty()) {
      batch.push_back(listen_queue.front());
      metrics->ListenStarted(now - listen_queue.front().since);
      listen_queue.pop_front();
    }
    listen_pump_running = !listen_queue.empty() && !stopped;
  }
  std::weak_ptr<Impl> weak = weak_from_this();
  // Listens whose entry an Unwatch removed (or replaced) while this batch
  // was being handed over: cancelled at once.
  std::vector<std::pair<InfoHash, std::shared_future<size_t>>> orphans;
  for (const QueuedListen& queued : batch) {
    const InfoHash& key = queued.key;
    const uint64_t serial = queued.serial;
    std::future<size_t> token = runner.listen(
        key,
        ::dht::ValueCallback(
            [weak, key, serial](const std::vector<ValuePtr>& vals,
                                bool expired) {
              auto self = weak.lock();
              if (!self) return false;
              if (!expired) {
                self->tasks.Post([self, key, vals, serial] {
                  self->OnValues(key, vals, serial);
                });
              }
              return true;
            }),
        ::dht::Value::Filter{},
        // No Where clause. With Where().userType(...) (which every offer
        // value matches) a listen missed a fifth to a third of new offers in
        // a 20-node cluster for good (bench/cluster_bench: 9-24 of 50 probes
        // not seen within 10 s; 0 without the clause). The price: a get of
        // a watched key is answered from this listen's cache once the
        // listen is synced, so the re-reads help only keys whose listen is
        // not (docs/storage.md "Watch re-reads").
        ::dht::Where());
    std::lock_guard lock(mu);
    auto it = listened.find(key);
    if (it != listened.end() && it->second.serial == queued.serial) {
      it->second.token = token.share();
    } else {
      orphans.emplace_back(key, token.share());
    }
  }
  for (auto& [key, token] : orphans) {
    runner.cancelListen(key, std::move(token));
    metrics->ListenCancelled();
  }
  std::lock_guard lock(mu);
  if (listen_pump_running) {
    After(kListenBatchPause, [](Impl& self) { self.PumpListens(); });
  }
}

void OpenDhtDht::Watch(uint16_t resource, uint32_t max_price, RecordSeen seen,
                       WatchMode mode) {
  if (impl_->stopped) return;
  size_t added = 0;    // queued now
  size_t delayed = 0;  // cancelled lately: queued later (QueueListenLocked)
  size_t reread = 0;   // added, never listened on
  size_t listens = 0;  // added to listen on
  bool start_pump = false;
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(impl_->mu);
    impl_->watchers.push_back({resource, PriceBucket(max_price), seen});
    for (uint32_t bucket = 0; bucket <= PriceBucket(max_price); ++bucket) {
      for (uint32_t shard = 0; shard < kShards; ++shard) {
        const InfoHash key = InfoHash::get(KeyName(resource, bucket, shard));
        const uint64_t serial = impl_->next_listen_serial;
        const bool listen =
            mode == WatchMode::kListen ||
            (mode == WatchMode::kListenWhereLarge &&
             impl_->stored_keys->Count(key) >= internal::kListenMinValues);
        if (impl_->listened
                .emplace(key,
                         ListenedKey{resource, bucket, listen, serial, {}, {}})
                .second) {
          ++impl_->next_listen_serial;
          listens += listen ? 1 : 0;
          if (!listen) {
            ++added;  // read again by the sweeps, never listened on
            ++reread;
          } else if (impl_->QueueListenLocked(key, serial, now)) {
            ++added;
          } else {
            ++delayed;
          }
        }
      }
    }
    if (added > reread && !impl_->listen_pump_running) {
      impl_->listen_pump_running = true;
      start_pump = true;
    }
  }
  if (added == 0 && delayed == 0) return;
  std::weak_ptr<Impl> weak = impl_;
  if (start_pump) {
    impl_->tasks.Post([weak] {
      if (auto self = weak.lock()) self->PumpListens();
    });
  }
  if (reread > 0) {
    // The catch-up read: what was put before every writer knew to push it
    // here (reread_settle). SweepSoon keeps an earlier schedule, so the
    // delay is waited here.
    impl_->After(impl_->config.reread_settle, [](Impl& self) {
      self.SweepSoon(std::chrono::milliseconds(0));
    });
  }
  if (listens == 0) return;
  // Once the new listens have settled, read their keys again: a value a
  // listen did not deliver (its notification lost, or stored where the
  // listen did not reach) and that the caller's fetch did not read in time
  // comes in then.
  impl_->tasks.Post([weak] {
    if (auto self = weak.lock()) self->SweepSoon(kWatchSettleTime);
  });
}

void OpenDhtDht::Impl::CheckHoles(const InfoHash& key,
                                  std::vector<uint64_t> found, bool again) {
  if (stopped) return;
  std::vector<uint64_t> missing;
  {
    std::lock_guard lock(mu);
    auto it = listened.find(key);
    if (it == listened.end() || !it->second.token.valid()) return;
    const std::vector<uint64_t>& delivered = it->second.delivered;
    for (uint64_t id : found) {
      if (!std::binary_search(delivered.begin(), delivered.end(), id)) {
        missing.push_back(id);
      }
    }
  }
  if (missing.empty()) return;
  if (!again) {
    std::weak_ptr<Impl> weak = weak_from_this();
    tasks.PostAfter(kHoleGrace, [weak, key, missing = std::move(missing)] {
      if (auto self = weak.lock()) self->CheckHoles(key, missing, true);
    });
    return;
  }
  Log(DhtLogLevel::kWarning,
      "DHT: the listen of key " + key.toString() + " missed " +
          std::to_string(missing.size()) +
          " value(s) its nodes hold; listening again in 65 s");
  Relisten(key);
}

void OpenDhtDht::Impl::Relisten(const InfoHash& key) {
  std::shared_future<size_t> token;
  uint64_t serial;
  {
    std::lock_guard lock(mu);
    auto it = listened.find(key);
    if (it == listened.end() || !it->second.token.valid()) return;
    token = std::move(it->second.token);
    it->second.token = {};
    // A new serial: the entry waits for its new listen (PumpListens hands
    // the token only to the entry with the queued serial).
    serial = it->second.serial = next_listen_serial++;
    cancelled_at[key] = std::chrono::steady_clock::now();
  }
  runner.cancelListen(key, std::move(token));
  metrics->ListenCancelled();
  ListenAfter(key, serial, kRelistenDelay);
}

bool OpenDhtDht::Impl::QueueListenLocked(
    const InfoHash& key, uint64_t serial,
    std::chrono::steady_clock::time_point now) {
  std::erase_if(cancelled_at, [now](const auto& entry) {
    return now - entry.second >= kRelistenDelay;
  });
  auto cancelled = cancelled_at.find(key);
  if (cancelled == cancelled_at.end()) {
    listen_queue.push_back({key, serial, now});
    return true;
  }
  ListenAfter(key, serial,
              std::chrono::duration_cast<std::chrono::milliseconds>(
                  cancelled->second + kRelistenDelay - now));
  return false;
}

void OpenDhtDht::Impl::ListenAfter(const InfoHash& key, uint64_t serial,
                                   std::chrono::milliseconds delay) {
  After(delay, [key, serial](Impl& self) {
    if (self.stopped) return;
    bool start_pump = false;
    {
      std::lock_guard lock(self.mu);
      auto it = self.listened.find(key);
      if (it == self.listened.end() || it->second.serial != serial) return;
      self.listen_queue.push_back(
          {key, serial, std::chrono::steady_clock::now()});
      if (!self.listen_pump_running) {
        self.listen_pump_running = true;
        start_pump = true;
      }
    }
    if (start_pump) self.PumpListens();
  });
}

// Values of the keys already in flight to the task thread find no entry in
// `listened` any more (OnValues), and a re-read running now reports
// nothing for them either: after Unwatch returns, nothing is reported.
void OpenDhtDht::Unwatch(uint16_t resource) {
  std::vector<std::pair<InfoHash, std::shared_future<size_t>>> started;
  {
    std::lock_guard lock(impl_->mu);
    std::erase_if(impl_->watchers, [resource](const Watcher& w) {
      return w.resource == resource;
    });
    for (auto it = impl_->listened.begin(); it != impl_->listened.end();) {
      if (it->second.resource != resource) {
        ++it;
        continue;
      }
      if (it->second.token.valid()) {
        started.emplace_back(it->first, std::move(it->second.token));
      }
      it = impl_->listened.erase(it);
    }
    // Queued keys of this resource have no entry now: never started.
    impl_->DropStaleQueuedListensLocked();
  }
  impl_->CancelListens(std::move(started));
}

void OpenDhtDht::Impl::DropStaleQueuedListensLocked() {
  std::erase_if(listen_queue, [this](const QueuedListen& q) {
    auto it = listened.find(q.key);
    return it == listened.end() || it->second.serial != q.serial;
  });
}

void OpenDhtDht::Impl::CancelListens(
    std::vector<std::pair<InfoHash, std::shared_future<size_t>>> started) {
  // A cancel is queued behind the listen in DhtRunner's operations, so the
  // token is known by the time OpenDHT runs it. After Shutdown the runner
  // ignores it (its listens ended with it).
  for (auto& [key, token] : started) {
    runner.cancelListen(key, std::move(token));
    metrics->ListenCancelled();
  }
}

// The keys stay in `listened` (re-read by the sweeps, as a kReread Watch's
// keys); a listen still queued is dropped, one handed to OpenDHT is
// cancelled. `delivered` is no longer needed (no hole check without a
// listen).
void OpenDhtDht::StopListening(uint16_t resource) {
  std::vector<std::pair<InfoHash, std::shared_future<size_t>>> started;
  size_t stopped = 0;
  {
    std::lock_guard lock(impl_->mu);
    for (auto& [key, entry] : impl_->listened) {
      if (entry.resource != resource || !entry.listen) continue;
      entry.listen = false;
      // A listen handed over meanwhile (PumpListens) finds another serial:
      // it is cancelled at once.
      entry.serial = impl_->next_listen_serial++;
      entry.delivered = {};
      if (entry.token.valid()) {
        started.emplace_back(key, std::move(entry.token));
        entry.token = {};
      }
      ++stopped;
    }
    impl_->DropStaleQueuedListensLocked();
  }
  impl_->CancelListens(std::move(started));
  if (stopped == 0) return;
  // What was put while this node listened came by the listens; what the
  // writers put before they knew to push here is read by the catch-up
  // re-read, as after a kReread Watch.
  impl_->After(impl_->config.reread_settle, [](Impl& self) {
    self.SweepSoon(std::chrono::milliseconds(0));
  });
}

}  // namespace crsp::dht
