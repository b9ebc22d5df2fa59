#include "peer_book.h"

namespace crsp::dht::internal {

void PeerBook::RotateLocked(Clock::time_point now) {
  if (rotated_ == Clock::time_point{}) rotated_ = now;
  if (now - rotated_ < generation_) return;
  // Two generations or more without a rotation: both are stale.
  if (now - rotated_ >= 2 * generation_) {
    previous_.clear();
  } else {
    previous_.swap(current_);
  }
  current_.clear();
  rotated_ = now;
}

void PeerBook::Heard(const protocol::Ipv6Address& address,
                     Clock::time_point now) {
  std::lock_guard lock(mu_);
  RotateLocked(now);
  if (current_.size() < capacity_) current_.insert(address);
}

bool PeerBook::Knows(const protocol::Ipv6Address& address,
                     Clock::time_point now) {
  std::lock_guard lock(mu_);
  RotateLocked(now);
  return current_.count(address) != 0 || previous_.count(address) != 0;
}

void PeerBook::Clear() {
  std::lock_guard lock(mu_);
  current_.clear();
  previous_.clear();
}

}  // namespace crsp::dht::internal
