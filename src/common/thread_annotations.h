#pragma once

// Clang thread-safety annotations (no-ops elsewhere). See db_impl.h in leveldb for the style:
// members grouped by the mutex that guards them.

#include <mutex>

#if defined(__clang__)
#define LIAISON_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define LIAISON_THREAD_ANNOTATION(x)
#endif

#define GUARDED_BY(x) LIAISON_THREAD_ANNOTATION(guarded_by(x))
#define REQUIRES(...) LIAISON_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define EXCLUDES(...) LIAISON_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define CAPABILITY(x) LIAISON_THREAD_ANNOTATION(capability(x))
#define ACQUIRE(...) LIAISON_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define RELEASE(...) LIAISON_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define SCOPED_CAPABILITY LIAISON_THREAD_ANNOTATION(scoped_lockable)

namespace liaison {

// std::mutex with capability annotations.
class CAPABILITY("mutex") Mutex {
 public:
  void Lock() ACQUIRE() { mu_.lock(); }
  void Unlock() RELEASE() { mu_.unlock(); }
  std::mutex& native() { return mu_; }

 private:
  std::mutex mu_;
};

class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ACQUIRE(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() RELEASE() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* mu_;
};

}  // namespace liaison
