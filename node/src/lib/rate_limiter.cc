#include "rate_limiter.h"

#include <algorithm>

namespace crsp::node {

RateLimiter::RateLimiter(uint32_t bytes_per_sec, uint32_t burst,
                         size_t max_sources)
    : rate_(bytes_per_sec),
      burst_(std::max<uint64_t>(burst, 1)),
      max_sources_(std::max<size_t>(max_sources, 1)) {}

RateLimiter::Bucket& RateLimiter::Refilled(const protocol::Ipv6Address& prefix,
                                           uint64_t now) {
  auto it = buckets_.find(prefix);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_sources_) {
      Evict(now);
      if (buckets_.size() >= max_sources_) {
        // Still full of busy sources: forget the one seen longest ago (it
        // gets a fresh budget, which is the cost of bounded memory).
        auto oldest = std::min_element(
            buckets_.begin(), buckets_.end(), [](const auto& a, const auto& b) {
              return a.second.updated < b.second.updated;
            });
        buckets_.erase(oldest);
      }
    }
    it = buckets_.emplace(prefix, Bucket{burst_, now}).first;
  }
  Bucket& bucket = it->second;
  if (now > bucket.updated) {
    const uint64_t elapsed = now - bucket.updated;
    // Saturating: a long idle time refills at most to the burst.
    const uint64_t refill =
        rate_ != 0 && elapsed > burst_ / rate_ + 1 ? burst_ : elapsed * rate_;
    bucket.tokens = std::min(burst_, bucket.tokens + refill);
    bucket.updated = now;
  }
  return bucket;
}

bool RateLimiter::TryConsume(const protocol::Ipv6Address& prefix,
                             uint64_t bytes, uint64_t now) {
  Bucket& bucket = Refilled(prefix, now);
  if (bucket.tokens < bytes) return false;
  bucket.tokens -= bytes;
  return true;
}

bool RateLimiter::HasBudget(const protocol::Ipv6Address& prefix, uint64_t now) {
  return Refilled(prefix, now).tokens > 0;
}

void RateLimiter::Evict(uint64_t now) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    const Bucket& b = it->second;
    const uint64_t elapsed = now > b.updated ? now - b.updated : 0;
    const bool full =
        b.tokens >= burst_ ||
        (rate_ != 0 && elapsed >= (burst_ - b.tokens + rate_ - 1) / rate_);
    it = full ? buckets_.erase(it) : std::next(it);
  }
}

}  // namespace crsp::node
