// A mutex that clang's thread-safety analysis (-Wthread-safety) knows, and
// the annotations that name what each mutex guards, after leveldb's
// port/thread_annotations.h. With GCC the annotations compile to nothing;
// the clang builds (scripts/sanitize.sh, scripts/tsan.sh) check them.
#ifndef CRSP_NODE_SRC_LIB_MUTEX_H_
#define CRSP_NODE_SRC_LIB_MUTEX_H_

#include <condition_variable>
#include <mutex>

#if defined(__clang__)
#define CRSP_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define CRSP_THREAD_ANNOTATION(x)
#endif

#define CAPABILITY(x) CRSP_THREAD_ANNOTATION(capability(x))
#define SCOPED_CAPABILITY CRSP_THREAD_ANNOTATION(scoped_lockable)
#define GUARDED_BY(x) CRSP_THREAD_ANNOTATION(guarded_by(x))
#define PT_GUARDED_BY(x) CRSP_THREAD_ANNOTATION(pt_guarded_by(x))
#define ACQUIRED_AFTER(...) CRSP_THREAD_ANNOTATION(acquired_after(__VA_ARGS__))
#define REQUIRES(...) CRSP_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define EXCLUDES(...) CRSP_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define ACQUIRE(...) CRSP_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) CRSP_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define NO_THREAD_SAFETY_ANALYSIS \
  CRSP_THREAD_ANNOTATION(no_thread_safety_analysis)

namespace crsp::node {

class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ACQUIRE() { mu_.lock(); }
  void Unlock() RELEASE() { mu_.unlock(); }

  // Waits on `cv` until `done()` holds or `timeout` passed; the mutex is
  // held on entry and on return. Returns done().
  template <typename Pred>
  bool WaitFor(std::condition_variable& cv, std::chrono::milliseconds timeout,
               Pred done) REQUIRES(this) {
    std::unique_lock<std::mutex> lock(mu_, std::adopt_lock);
    const bool ok = cv.wait_for(lock, timeout, done);
    lock.release();  // still held: the caller's MutexLock unlocks it
    return ok;
  }

 private:
  std::mutex mu_;
};

// Holds `mu` for its scope: the only way the node locks a Mutex, so that no
// function ever hands a held lock to another to release.
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ACQUIRE(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() RELEASE() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

}  // namespace crsp::node

#endif  // CRSP_NODE_SRC_LIB_MUTEX_H_
