// StopSignal: a flag that worker threads sleep on, so that stopping never waits out a sleep.
//
// Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace nats_transport {

class StopSignal {
 public:
  // Raises the flag and wakes every waiter.
  void raise() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      raised_ = true;
    }
    changed_.notify_all();
  }

  bool raised() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return raised_;
  }

  // Sleeps up to `duration`; returns true at once when the flag is (or gets) raised.
  bool waitFor(std::chrono::milliseconds duration) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, duration, [this] { return raised_; });
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  bool raised_ = false;
};

}  // namespace nats_transport
