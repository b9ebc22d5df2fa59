#include "latency.h"

#include <algorithm>
#include <cmath>

namespace crsp::bench {

void Latencies::Add(uint64_t nanos) {
  ++seen_;
  sorted_ = false;
  if (samples_.size() < cap_) {
    samples_.push_back(nanos);
    return;
  }
  // Reservoir sampling: every sample seen has the same chance to be kept.
  rng_ ^= rng_ << 13;
  rng_ ^= rng_ >> 7;
  rng_ ^= rng_ << 17;
  size_t slot = rng_ % seen_;
  if (slot < cap_) samples_[slot] = nanos;
}

double Latencies::PercentileMicros(double p) {
  if (samples_.empty()) return 0;
  if (!sorted_) {
    std::sort(samples_.begin(), samples_.end());
    sorted_ = true;
  }
  double rank = p / 100.0 * static_cast<double>(samples_.size() - 1);
  size_t i = static_cast<size_t>(std::llround(rank));
  return static_cast<double>(samples_[std::min(i, samples_.size() - 1)]) /
         1000.0;
}

}  // namespace crsp::bench
