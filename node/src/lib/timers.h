// One thread that runs callbacks after a delay (forwarded queries' 250 ms
// timeouts, docs/scaling.md), on the steady clock. The node's Tick runs
// once a second, too coarse for them.
//
// Callbacks run on the timer thread, one at a time, with no lock of the
// node held; a callback may schedule another. The destructor stops the
// thread without running what is still scheduled; so does Stop, after
// which After does nothing.
#ifndef CRSP_NODE_SRC_LIB_TIMERS_H_
#define CRSP_NODE_SRC_LIB_TIMERS_H_

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <thread>

#include "mutex.h"

namespace crsp::node {

class Timers {
 public:
  Timers();
  ~Timers();
  Timers(const Timers&) = delete;
  Timers& operator=(const Timers&) = delete;

  // Runs `action` on the timer thread once `delay` has passed.
  void After(std::chrono::milliseconds delay, std::function<void()> action)
      EXCLUDES(mu_);
  // Stops and joins the thread (idempotent; not from a callback).
  void Stop() EXCLUDES(mu_);

 private:
  void Loop() EXCLUDES(mu_);

  Mutex mu_;
  std::condition_variable changed_;
  bool stopping_ GUARDED_BY(mu_) = false;
  std::multimap<std::chrono::steady_clock::time_point, std::function<void()>>
      due_ GUARDED_BY(mu_);
  std::thread thread_;  // last: started once the rest exists
};

}  // namespace crsp::node

#endif  // CRSP_NODE_SRC_LIB_TIMERS_H_
