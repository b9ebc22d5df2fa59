// crsp-node's metrics: NodeMetrics and DhtMetrics on prometheus-cpp, served
// in the Prometheus text format by prometheus-cpp's pull exposer (civetweb)
// at --metrics ADDR:PORT. docs/metrics.md lists every metric.
//
// The counters every request touches (answers by type and status, their
// bytes, served resource ids) are plain relaxed atomics in arrays indexed by
// type and status, turned into metric families when Prometheus scrapes: a
// counted answer is two relaxed adds, no lock, no label lookup (prometheus-
// cpp's Counter is a compare-and-swap loop on a double, measured slower).
// The rest are prometheus-cpp counters, gauges and histograms resolved to
// their label children once, here. What is cheaper to read than to count
// (DHT peers, announced offers, free disk space, the process's CPU and
// memory) is read at scrape time too.
#ifndef CRSP_NODE_DAEMON_PROMETHEUS_METRICS_H_
#define CRSP_NODE_DAEMON_PROMETHEUS_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "crsp/dht_adapter/dht_metrics.h"
#include "crsp/node/metrics.h"

namespace prometheus {
class Exposer;
}

namespace crsp::node {

// What the DHT says of itself at scrape time (OpenDhtDht::Info and
// AnnouncedOffers).
struct DhtSample {
  uint32_t good_peers = 0;
  uint32_t dubious_peers = 0;
  uint32_t stored_values = 0;
  uint64_t announced_offers = 0;
};

class PrometheusMetrics final : public NodeMetrics, public dht::DhtMetrics {
 public:
  // Starts serving /metrics on `listen`, IPV4:PORT ("127.0.0.1:9474"):
  // Debian's civetweb, which serves prometheus-cpp's exposer, is built
  // without IPv6. `state_dir`'s file system is reported (free and total
  // bytes). Throws std::runtime_error for an address in brackets (IPv6) or
  // one that cannot be bound.
  PrometheusMetrics(const std::string& listen, std::string state_dir);
  ~PrometheusMetrics() override;

  // Read at each scrape until StopServing. Set it once the DHT runs.
  void SampleDhtWith(std::function<DhtSample()> sample);
  // Stops the HTTP server; from then on no scrape reads the DHT. Call it
  // before the DHT is destroyed.
  void StopServing();

  // NodeMetrics
  void Answered(RequestType type, wire::Status status, size_t bytes) override;
  void Dropped(DropReason reason) override;
  void RateLimited(LimitReason reason) override;
  void Journaled(size_t records) override;
  void JournalSynced(std::chrono::nanoseconds took) override;
  void ResourceIdsServed(size_t from_index, size_t cold_read,
                         size_t forwarded) override;
  void Offers(const OfferGauges& gauges) override;
  void Pushed(PushEvent event, size_t n) override;

  // dht::DhtMetrics
  void Started(dht::DhtOp op) override;
  void Finished(dht::DhtOp op, dht::DhtOutcome outcome,
                std::chrono::nanoseconds took) override;
  void ListenStarted(std::chrono::nanoseconds waited) override;
  void PutRetried() override;

 private:
  class ScrapeTimeCollector;
  // Statuses 0..12 by name, then one child for any status past them.
  static constexpr size_t kStatusSlots = 14;
  static constexpr size_t kDhtOps = 2;       // put, get
  static constexpr size_t kDhtOutcomes = 3;  // ok, failed, timeout

  // What every request touches; read by ScrapeTimeCollector.
  struct HotCounters {
    std::array<std::array<std::atomic<uint64_t>, kStatusSlots>, kRequestTypes>
        requests{};
    std::array<std::atomic<uint64_t>, kRequestTypes> answer_bytes{};
    std::array<std::atomic<uint64_t>, 3> served{};  // by ServedFrom
    std::array<std::atomic<uint64_t>, 6> pushes{};  // by PushEvent
  };

  std::shared_ptr<prometheus::Registry> registry_;
  HotCounters hot_;
  std::shared_ptr<ScrapeTimeCollector> scrape_time_;

  std::array<prometheus::Counter*, 2> dropped_{};
  std::array<prometheus::Counter*, 4> rate_limited_{};
  prometheus::Counter* journal_records_ = nullptr;
  prometheus::Histogram* fsync_seconds_ = nullptr;
  prometheus::Gauge* offers_journaled_ = nullptr;
  prometheus::Gauge* offers_indexed_ = nullptr;
  prometheus::Gauge* pending_writes_ = nullptr;
  std::array<prometheus::Gauge*, kDhtOps + 1> dht_in_flight_{};  // + listen
  std::array<prometheus::Histogram*, kDhtOps + 1> dht_seconds_{};
  std::array<std::array<prometheus::Counter*, kDhtOutcomes>, kDhtOps>
      dht_ops_{};
  prometheus::Counter* dht_put_retries_ = nullptr;

  std::unique_ptr<prometheus::Exposer> exposer_;  // last: serves the above
};

}  // namespace crsp::node

#endif  // CRSP_NODE_DAEMON_PROMETHEUS_METRICS_H_
