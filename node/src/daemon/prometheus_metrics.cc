#include "prometheus_metrics.h"

#include <dirent.h>
#include <prometheus/collectable.h>
#include <prometheus/exposer.h>
#include <prometheus/metric_family.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cstdio>
#include <exception>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <utility>
#include <vector>

namespace crsp::node {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;
using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

constexpr std::array<const char*, kRequestTypes> kTypeNames = {
    "ping", "register", "withdraw", "query", "other"};
constexpr std::array<const char*, kRequestTypes> kProtocolNames = {
    "control", "registration", "registration", "inquiry", "other"};

double Seconds(std::chrono::nanoseconds d) {
  return std::chrono::duration<double>(d).count();
}

// From 100 us (a journal sync on a fast disk) to 10 s (past every DHT
// deadline: put_timeout 4.5 s, publish timeout 5 s).
prometheus::Histogram::BucketBoundaries LatencyBuckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
}

MetricFamily Family(std::string name, std::string help, MetricType type) {
  MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = type;
  return family;
}

void AddGauge(MetricFamily& family, double value,
              std::vector<ClientMetric::Label> labels = {}) {
  ClientMetric metric;
  metric.label = std::move(labels);
  if (family.type == MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  family.metric.push_back(std::move(metric));
}

// The Prometheus process metrics (client_golang's names and meanings) from
// /proc, since prometheus-cpp 1.0 has no process collector.
void CollectProcess(std::vector<MetricFamily>& out) {
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  std::ifstream stat_file("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)),
                   std::istreambuf_iterator<char>());
  // Fields after the command (which may hold spaces), from field 3 on.
  const size_t paren = stat.rfind(')');
  if (paren != std::string::npos && ticks > 0) {
    std::istringstream fields(stat.substr(paren + 2));
    std::vector<std::string> f;
    for (std::string field; fields >> field;) f.push_back(field);
    // proc(5): utime 14, stime 15, starttime 22, vsize 23, rss 24; f[0] is
    // field 3.
    if (f.size() > 21) {
      const double cpu = (std::stod(f[11]) + std::stod(f[12])) / ticks;
      MetricFamily c =
          Family("process_cpu_seconds_total",
                 "Total user and system CPU time spent in seconds.",
                 MetricType::Counter);
      AddGauge(c, cpu);
      out.push_back(std::move(c));
      MetricFamily v =
          Family("process_virtual_memory_bytes",
                 "Virtual memory size in bytes.", MetricType::Gauge);
      AddGauge(v, std::stod(f[20]));
      out.push_back(std::move(v));
      MetricFamily r =
          Family("process_resident_memory_bytes",
                 "Resident memory size in bytes.", MetricType::Gauge);
      AddGauge(r, std::stod(f[21]) * page);
      out.push_back(std::move(r));
      // Boot time (btime of /proc/stat) plus the start in ticks after it.
      std::ifstream proc_stat("/proc/stat");
      for (std::string line; std::getline(proc_stat, line);) {
        if (line.rfind("btime ", 0) == 0) {
          MetricFamily s =
              Family("process_start_time_seconds",
                     "Start time of the process since unix epoch in seconds.",
                     MetricType::Gauge);
          AddGauge(s, std::stod(line.substr(6)) + std::stod(f[19]) / ticks);
          out.push_back(std::move(s));
          break;
        }
      }
    }
  }
  if (DIR* fds = opendir("/proc/self/fd")) {
    double open = 0;
    while (const dirent* entry = readdir(fds)) {
      if (entry->d_name[0] != '.') ++open;
    }
    closedir(fds);
    MetricFamily o =
        Family("process_open_fds", "Number of open file descriptors.",
               MetricType::Gauge);
    AddGauge(o, open - 1);  // not the one that read the directory
    out.push_back(std::move(o));
  }
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    MetricFamily m =
        Family("process_max_fds", "Maximum number of open file descriptors.",
               MetricType::Gauge);
    AddGauge(m, static_cast<double>(limit.rlim_cur));
    out.push_back(std::move(m));
  }
}

}  // namespace

// What is read, not counted: the DHT's own figures, the state directory's
// file system and the process. Runs on the exposer's threads.
class PrometheusMetrics::ScrapeTimeCollector final
    : public prometheus::Collectable {
 public:
  ScrapeTimeCollector(std::string state_dir, const HotCounters& hot)
      : state_dir_(std::move(state_dir)), hot_(hot) {}

  void SampleDhtWith(std::function<DhtSample()> sample) {
    std::lock_guard lock(mu_);
    sample_dht_ = std::move(sample);
  }

  std::vector<MetricFamily> Collect() const override {
    std::vector<MetricFamily> out;
    CollectHot(out);
    {
      std::lock_guard lock(mu_);
      if (sample_dht_) {
        const DhtSample dht = sample_dht_();
        MetricFamily peers = Family(
            "crsp_dht_peers",
            "OpenDHT routing table nodes by state (both address families).",
            MetricType::Gauge);
        AddGauge(peers, dht.good_peers, {{"state", "good"}});
        AddGauge(peers, dht.dubious_peers, {{"state", "dubious"}});
        out.push_back(std::move(peers));
        MetricFamily stored =
            Family("crsp_dht_stored_values",
                   "Values this node stores for the DHT (its own and "
                   "other nodes').",
                   MetricType::Gauge);
        AddGauge(stored, dht.stored_values);
        out.push_back(std::move(stored));
        MetricFamily announced = Family(
            "crsp_offers_announced",
            "Offers this node announces in the DHT (published, not expired).",
            MetricType::Gauge);
        AddGauge(announced, static_cast<double>(dht.announced_offers));
        out.push_back(std::move(announced));
      }
    }
    struct statvfs fs {};
    if (statvfs(state_dir_.c_str(), &fs) == 0) {
      MetricFamily avail = Family(
          "crsp_state_filesystem_avail_bytes",
          "Bytes available to the node on the state directory's file system.",
          MetricType::Gauge);
      AddGauge(avail, static_cast<double>(fs.f_bavail) * fs.f_frsize);
      out.push_back(std::move(avail));
      MetricFamily size =
          Family("crsp_state_filesystem_size_bytes",
                 "Size in bytes of the state directory's file system.",
                 MetricType::Gauge);
      AddGauge(size, static_cast<double>(fs.f_blocks) * fs.f_frsize);
      out.push_back(std::move(size));
    }
    CollectProcess(out);
    return out;
  }

 private:
  void CollectHot(std::vector<MetricFamily>& out) const {
    MetricFamily requests =
        Family("crsp_requests_total",
               "Answers sent, by request protocol, type and answer status.",
               MetricType::Counter);
    MetricFamily bytes = Family("crsp_answer_bytes_total",
                                "Bytes of the answers sent, by request type.",
                                MetricType::Counter);
    for (size_t t = 0; t < kRequestTypes; ++t) {
      for (size_t s = 0; s < kStatusSlots; ++s) {
        AddGauge(requests,
                 static_cast<double>(
                     hot_.requests[t][s].load(std::memory_order_relaxed)),
                 {{"protocol", kProtocolNames[t]},
                  {"status",
                   std::string(wire::StatusName(static_cast<wire::Status>(s)))},
                  {"type", kTypeNames[t]}});
      }
      AddGauge(bytes,
               static_cast<double>(
                   hot_.answer_bytes[t].load(std::memory_order_relaxed)),
               {{"protocol", kProtocolNames[t]}, {"type", kTypeNames[t]}});
    }
    out.push_back(std::move(requests));
    out.push_back(std::move(bytes));
    MetricFamily served =
        Family("crsp_resource_ids_served_total",
               "Query entries answered, by how: from the warm index, after "
               "a DHT read, or forwarded.",
               MetricType::Counter);
    constexpr std::array<const char*, 3> kHow = {"index", "cold_read",
                                                 "forwarded"};
    for (size_t h = 0; h < kHow.size(); ++h) {
      AddGauge(
          served,
          static_cast<double>(hot_.served[h].load(std::memory_order_relaxed)),
          {{"how", kHow[h]}});
    }
    out.push_back(std::move(served));
    MetricFamily pushes =
        Family("crsp_record_pushes_total",
               "Pushed records (docs/scaling.md): push datagrams sent, "
               "acked, refused, given up; records not sent, and records "
               "an aggregator took.",
               MetricType::Counter);
    constexpr std::array<const char*, 6> kEvents = {
        "sent",         "acked", "refused", "given_up", "records_not_sent",
        "records_taken"};
    for (size_t e = 0; e < kEvents.size(); ++e) {
      AddGauge(
          pushes,
          static_cast<double>(hot_.pushes[e].load(std::memory_order_relaxed)),
          {{"event", kEvents[e]}});
    }
    out.push_back(std::move(pushes));
  }

  const std::string state_dir_;
  const HotCounters& hot_;
  mutable std::mutex mu_;
  std::function<DhtSample()> sample_dht_;  // guarded by mu_
};

PrometheusMetrics::PrometheusMetrics(const std::string& listen,
                                     std::string state_dir)
    : registry_(std::make_shared<prometheus::Registry>()),
      scrape_time_(
          std::make_shared<ScrapeTimeCollector>(std::move(state_dir), hot_)) {
  auto& dropped = BuildCounter()
                      .Name("crsp_datagrams_dropped_total")
                      .Help("Datagrams that got no answer, by reason.")
                      .Register(*registry_);
  dropped_[static_cast<size_t>(DropReason::kBudget)] =
      &dropped.Add({{"reason", "budget"}});
  dropped_[static_cast<size_t>(DropReason::kUndecodable)] =
      &dropped.Add({{"reason", "undecodable"}});
  auto& limited =
      BuildCounter()
          .Name("crsp_rate_limited_total")
          .Help(
              "Requests (budget, pending_writes), forwarded queries "
              "(peer_budget) or register entries (quota) answered "
              "RATE_LIMITED, by limit.")
          .Register(*registry_);
  rate_limited_[static_cast<size_t>(LimitReason::kBudget)] =
      &limited.Add({{"reason", "budget"}});
  rate_limited_[static_cast<size_t>(LimitReason::kQuota)] =
      &limited.Add({{"reason", "quota"}});
  rate_limited_[static_cast<size_t>(LimitReason::kPendingWrites)] =
      &limited.Add({{"reason", "pending_writes"}});
  rate_limited_[static_cast<size_t>(LimitReason::kPeerBudget)] =
      &limited.Add({{"reason", "peer_budget"}});
  journal_records_ =
      &BuildCounter()
           .Name("crsp_journal_records_written_total")
           .Help("Records (offers and withdrawals) written to the journal.")
           .Register(*registry_)
           .Add({});
  fsync_seconds_ = &BuildHistogram()
                        .Name("crsp_journal_fsync_duration_seconds")
                        .Help("Duration of the journal's fdatasync calls.")
                        .Register(*registry_)
                        .Add({}, LatencyBuckets());
  offers_journaled_ = &BuildGauge()
                           .Name("crsp_offers_journaled")
                           .Help("Live offers in this node's journal.")
                           .Register(*registry_)
                           .Add({});
  offers_indexed_ =
      &BuildGauge()
           .Name("crsp_offers_indexed")
           .Help("Records in the warm index (this node's and others').")
           .Register(*registry_)
           .Add({});
  pending_writes_ =
      &BuildGauge()
           .Name("crsp_pending_writes")
           .Help("Records accepted and awaiting the DHT's confirmation.")
           .Register(*registry_)
           .Add({});
  auto& in_flight = BuildGauge()
                        .Name("crsp_dht_operations_in_flight")
                        .Help("DHT puts and gets running, listens held.")
                        .Register(*registry_);
  auto& seconds =
      BuildHistogram()
          .Name("crsp_dht_operation_duration_seconds")
          .Help(
              "Duration of DHT puts and gets; for listens, the wait "
              "before OpenDHT was handed the listen.")
          .Register(*registry_);
  dht_put_retries_ =
      &BuildCounter()
           .Name("crsp_dht_put_retries_total")
           .Help("DHT puts sent again after a failed confirmation.")
           .Register(*registry_)
           .Add({});
  auto& ops = BuildCounter()
                  .Name("crsp_dht_operations_total")
                  .Help("DHT puts and gets finished, by outcome.")
                  .Register(*registry_);
  constexpr std::array<const char*, kDhtOps + 1> kOps = {"put", "get",
                                                         "listen"};
  constexpr std::array<const char*, kDhtOutcomes> kOutcomes = {"ok", "failed",
                                                               "timeout"};
  for (size_t op = 0; op < kOps.size(); ++op) {
    dht_in_flight_[op] = &in_flight.Add({{"operation", kOps[op]}});
    dht_seconds_[op] =
        &seconds.Add({{"operation", kOps[op]}}, LatencyBuckets());
  }
  for (size_t op = 0; op < kDhtOps; ++op) {
    for (size_t o = 0; o < kDhtOutcomes; ++o) {
      // Gets have no timeout of their own (their Fetch has deadlines).
      if (op == static_cast<size_t>(dht::DhtOp::kGet) &&
          o == static_cast<size_t>(dht::DhtOutcome::kTimedOut)) {
        continue;
      }
      dht_ops_[op][o] =
          &ops.Add({{"operation", kOps[op]}, {"outcome", kOutcomes[o]}});
    }
  }
  if (listen.find('[') != std::string::npos) {
    throw std::runtime_error(
        "--metrics " + listen +
        ": IPv6 is not possible, Debian's civetweb (prometheus-cpp's HTTP "
        "server) is built without it; use an IPv4 address, e.g. "
        "127.0.0.1:9474");
  }
  try {
    exposer_ = std::make_unique<prometheus::Exposer>(listen, 2);
  } catch (const std::exception& e) {
    throw std::runtime_error("--metrics " + listen +
                             ": cannot serve metrics (" + e.what() + ")");
  }
  exposer_->RegisterCollectable(registry_);
  exposer_->RegisterCollectable(scrape_time_);
}

PrometheusMetrics::~PrometheusMetrics() { StopServing(); }

void PrometheusMetrics::SampleDhtWith(std::function<DhtSample()> sample) {
  scrape_time_->SampleDhtWith(std::move(sample));
}

void PrometheusMetrics::StopServing() {
  exposer_.reset();  // joins the server's threads: no scrape runs after
  scrape_time_->SampleDhtWith({});
}

void PrometheusMetrics::Answered(RequestType type, wire::Status status,
                                 size_t bytes) {
  const size_t t = static_cast<size_t>(type);
  const size_t s = std::min(static_cast<size_t>(status), kStatusSlots - 1);
  hot_.requests[t][s].fetch_add(1, std::memory_order_relaxed);
  hot_.answer_bytes[t].fetch_add(bytes, std::memory_order_relaxed);
}

void PrometheusMetrics::Dropped(DropReason reason) {
  dropped_[static_cast<size_t>(reason)]->Increment();
}

void PrometheusMetrics::RateLimited(LimitReason reason) {
  rate_limited_[static_cast<size_t>(reason)]->Increment();
}

void PrometheusMetrics::Journaled(size_t records) {
  journal_records_->Increment(static_cast<double>(records));
}

void PrometheusMetrics::JournalSynced(std::chrono::nanoseconds took) {
  fsync_seconds_->Observe(Seconds(took));
}

void PrometheusMetrics::Pushed(PushEvent event, size_t n) {
  if (n != 0) {
    hot_.pushes[static_cast<size_t>(event)].fetch_add(
        n, std::memory_order_relaxed);
  }
}

void PrometheusMetrics::ResourceIdsServed(size_t from_index, size_t cold_read,
                                          size_t forwarded) {
  if (from_index != 0) {
    hot_.served[static_cast<size_t>(ServedFrom::kIndex)].fetch_add(
        from_index, std::memory_order_relaxed);
  }
  if (cold_read != 0) {
    hot_.served[static_cast<size_t>(ServedFrom::kColdRead)].fetch_add(
        cold_read, std::memory_order_relaxed);
  }
  if (forwarded != 0) {
    hot_.served[static_cast<size_t>(ServedFrom::kForwarded)].fetch_add(
        forwarded, std::memory_order_relaxed);
  }
}

void PrometheusMetrics::Offers(const OfferGauges& gauges) {
  offers_journaled_->Set(static_cast<double>(gauges.journaled));
  offers_indexed_->Set(static_cast<double>(gauges.indexed));
  pending_writes_->Set(static_cast<double>(gauges.pending_writes));
}

void PrometheusMetrics::Started(dht::DhtOp op) {
  dht_in_flight_[static_cast<size_t>(op)]->Increment();
}

void PrometheusMetrics::Finished(dht::DhtOp op, dht::DhtOutcome outcome,
                                 std::chrono::nanoseconds took) {
  const size_t o = static_cast<size_t>(op);
  dht_in_flight_[o]->Decrement();
  dht_seconds_[o]->Observe(Seconds(took));
  prometheus::Counter* finished = dht_ops_[o][static_cast<size_t>(outcome)];
  if (finished != nullptr) finished->Increment();
}

void PrometheusMetrics::ListenStarted(std::chrono::nanoseconds waited) {
  constexpr size_t kListen = kDhtOps;
  dht_in_flight_[kListen]->Increment();
  dht_seconds_[kListen]->Observe(Seconds(waited));
}

void PrometheusMetrics::PutRetried() { dht_put_retries_->Increment(); }

}  // namespace crsp::node
