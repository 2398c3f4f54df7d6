// WriterPreferringSharedMutex: a shared mutex (the SharedMutex requirements of std::shared_lock
// and std::unique_lock) under which a waiting writer goes before new readers.
//
// std::shared_mutex on glibc prefers readers: while reads overlap without pause, as the event
// loops' cached reads do under load, a writer waits as long as they last, and the events that
// keep the in-memory table current stop being applied. Here a reader that arrives while a writer
// waits queues behind it, so a write waits for the reads in progress only. Not recursive: a
// thread must not take a shared lock it already holds (it would wait behind a queued writer that
// waits for it). Thread-safe.
#pragma once

#include <pthread.h>

#include <system_error>

namespace busbar::users {

class WriterPreferringSharedMutex {
 public:
  WriterPreferringSharedMutex() {
    pthread_rwlockattr_t attributes;
    pthread_rwlockattr_init(&attributes);
    pthread_rwlockattr_setkind_np(&attributes, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    const int error = pthread_rwlock_init(&lock_, &attributes);
    pthread_rwlockattr_destroy(&attributes);
    if (error != 0) throw std::system_error(error, std::generic_category(), "pthread_rwlock_init");
  }
  ~WriterPreferringSharedMutex() { pthread_rwlock_destroy(&lock_); }
  WriterPreferringSharedMutex(const WriterPreferringSharedMutex&) = delete;
  WriterPreferringSharedMutex& operator=(const WriterPreferringSharedMutex&) = delete;

  void lock() { check(pthread_rwlock_wrlock(&lock_)); }
  bool try_lock() { return pthread_rwlock_trywrlock(&lock_) == 0; }
  void unlock() { pthread_rwlock_unlock(&lock_); }

  void lock_shared() { check(pthread_rwlock_rdlock(&lock_)); }
  bool try_lock_shared() { return pthread_rwlock_tryrdlock(&lock_) == 0; }
  void unlock_shared() { pthread_rwlock_unlock(&lock_); }

 private:
  // EDEADLK (a thread locking what it holds) and EAGAIN (too many readers) are bugs of the caller.
  static void check(int error) {
    if (error != 0) throw std::system_error(error, std::generic_category(), "pthread_rwlock");
  }

  pthread_rwlock_t lock_;
};

}  // namespace busbar::users
