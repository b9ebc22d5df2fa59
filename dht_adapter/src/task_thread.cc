#include "task_thread.h"

namespace crsp::dht {

TaskThread::TaskThread() : thread_([this] { Run(); }) {}

TaskThread::~TaskThread() { Stop(); }

bool TaskThread::PostAt(Clock::time_point when, Task task) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return false;
    tasks_.emplace(std::make_pair(when, sequence_++), std::move(task));
  }
  cv_.notify_one();
  return true;
}

void TaskThread::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void TaskThread::Run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (tasks_.empty()) {
      cv_.wait(lock);
      continue;
    }
    auto first = tasks_.begin();
    if (first->first.first > Clock::now()) {
      cv_.wait_until(lock, first->first.first);
      continue;
    }
    Task task = std::move(first->second);
    tasks_.erase(first);
    lock.unlock();
    task();
    lock.lock();
  }
  // Run what is left now, so that every deadline task (which calls a user's
  // `done`) still runs exactly once; nothing new is accepted.
  auto left = std::move(tasks_);
  tasks_.clear();
  lock.unlock();
  for (auto& [when, task] : left) task();
}

}  // namespace crsp::dht
