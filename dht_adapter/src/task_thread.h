// One thread that runs posted tasks in time order: OpenDhtDht's deadlines
// and every callback to its user. User callbacks never run on OpenDHT's
// thread, where calling back into DhtRunner's synchronous getters would
// deadlock on its lock.
#ifndef CRSP_DHT_ADAPTER_SRC_TASK_THREAD_H_
#define CRSP_DHT_ADAPTER_SRC_TASK_THREAD_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

namespace crsp::dht {

class TaskThread {
 public:
  using Clock = std::chrono::steady_clock;
  using Task = std::function<void()>;

  TaskThread();
  // Stops (see Stop).
  ~TaskThread();
  TaskThread(const TaskThread&) = delete;
  TaskThread& operator=(const TaskThread&) = delete;

  bool Post(Task task) { return PostAt(Clock::now(), std::move(task)); }
  bool PostAfter(std::chrono::milliseconds delay, Task task) {
    return PostAt(Clock::now() + delay, std::move(task));
  }
  // No-op after Stop: returns false, and the task never runs (a caller
  // whose task would call a user's `done` calls it itself then).
  bool PostAt(Clock::time_point when, Task task);
  // Runs every task still queued at once, ignoring its time, accepts no new
  // one, and joins. Must not be called from a task.
  void Stop();
  bool InThread() const {
    return std::this_thread::get_id() == thread_.get_id();
  }

 private:
  void Run();

  std::mutex mu_;
  std::condition_variable cv_;
  // (when, sequence) keeps tasks posted for the same instant in order.
  std::map<std::pair<Clock::time_point, uint64_t>, Task> tasks_;
  uint64_t sequence_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace crsp::dht

#endif  // CRSP_DHT_ADAPTER_SRC_TASK_THREAD_H_
