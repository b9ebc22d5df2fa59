// What the OpenDHT adapter reports about its DHT operations, for the
// daemon's metrics (docs/metrics.md). A plain interface with no-op defaults,
// so the adapter depends on no metrics library; crsp-node implements it on
// prometheus-cpp. Calls come from the adapter's task thread and from
// whichever thread calls Publish, Fetch or Watch, concurrently: an
// implementation must be thread-safe and cheap (no locks, no I/O).
#ifndef CRSP_DHT_ADAPTER_DHT_METRICS_H_
#define CRSP_DHT_ADAPTER_DHT_METRICS_H_

#include <chrono>

namespace crsp::dht {

enum class DhtOp {
  kPut,  // one Publish: the put of an offer under its primary key
  kGet,  // one OpenDHT get of one key (a Fetch or a re-read of a watch)
};

enum class DhtOutcome {
  kOk,
  kFailed,    // OpenDHT answered not ok, or the DHT stopped
  kTimedOut,  // put_timeout passed first (puts only)
};

class DhtMetrics {
 public:
  virtual ~DhtMetrics() = default;

  // An operation began; one Finished call follows.
  virtual void Started(DhtOp) {}
  // It ended after `took` (from Started).
  virtual void Finished(DhtOp, DhtOutcome, std::chrono::nanoseconds took) {}
  // A listen of one key (a Watch) was handed to OpenDHT `waited` after the
  // Watch asked for it (listens are paced, opendht_impl.h kListensPerBatch):
  // the latency of a listen, since OpenDHT 2.4.12 reports no completion for
  // one. A listen lasts until an Unwatch cancels it or the DHT stops.
  virtual void ListenStarted(std::chrono::nanoseconds waited) {}
  // A listen ListenStarted reported was cancelled (Unwatch).
  virtual void ListenCancelled() {}
  // A put's confirmation failed while the DHT had peers, and the put was
  // sent again (opendht_impl.h kPutRetryStep); its Finished comes later.
  virtual void PutRetried() {}
};

}  // namespace crsp::dht

#endif  // CRSP_DHT_ADAPTER_DHT_METRICS_H_
