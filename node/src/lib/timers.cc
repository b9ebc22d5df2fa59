#include "timers.h"

#include <utility>
#include <vector>

namespace crsp::node {
namespace {

// Longest sleep between checks; a new earlier timer wakes the loop anyway.
constexpr std::chrono::milliseconds kMaxSleep{1000};

}  // namespace

Timers::Timers() : thread_([this] { Loop(); }) {}

Timers::~Timers() { Stop(); }

void Timers::Stop() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Timers::After(std::chrono::milliseconds delay,
                   std::function<void()> action) {
  {
    MutexLock lock(&mu_);
    if (stopping_) return;
    due_.emplace(std::chrono::steady_clock::now() + delay, std::move(action));
  }
  changed_.notify_all();
}

void Timers::Loop() {
  for (;;) {
    std::vector<std::function<void()>> ready;
    {
      MutexLock lock(&mu_);
      if (stopping_) return;
      const auto now = std::chrono::steady_clock::now();
      while (!due_.empty() && due_.begin()->first <= now) {
        ready.push_back(std::move(due_.begin()->second));
        due_.erase(due_.begin());
      }
      if (ready.empty()) {
        auto sleep = kMaxSleep;
        if (!due_.empty()) {
          sleep = std::min(
              sleep, std::chrono::duration_cast<std::chrono::milliseconds>(
                         due_.begin()->first - now) +
                         std::chrono::milliseconds(1));
        }
        const size_t pending = due_.size();
        const auto first =
            due_.empty() ? std::chrono::steady_clock::time_point::max()
                         : due_.begin()->first;
        mu_.WaitFor(changed_, sleep, [&]() REQUIRES(mu_) {
          return stopping_ || due_.size() != pending ||
                 (!due_.empty() && due_.begin()->first != first);
        });
        continue;
      }
    }
    for (std::function<void()>& action : ready) action();
  }
}

}  // namespace crsp::node
