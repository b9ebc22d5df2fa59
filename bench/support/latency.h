// Latency samples of one benchmark phase and their percentiles.
#ifndef CRSP_BENCH_SUPPORT_LATENCY_H_
#define CRSP_BENCH_SUPPORT_LATENCY_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace crsp::bench {

class Latencies {
 public:
  // Keeps at most `cap` samples (a uniform subsample past that), so that a
  // long run has bounded memory.
  explicit Latencies(size_t cap = 2'000'000) : cap_(cap) {}
  void Add(uint64_t nanos);
  size_t count() const { return seen_; }
  // The p-th percentile (0..100) in microseconds; 0 with no samples.
  double PercentileMicros(double p);

 private:
  size_t cap_;
  size_t seen_ = 0;
  uint64_t rng_ = 0x9E3779B97F4A7C15ULL;
  bool sorted_ = false;
  std::vector<uint64_t> samples_;
};

}  // namespace crsp::bench

#endif  // CRSP_BENCH_SUPPORT_LATENCY_H_
