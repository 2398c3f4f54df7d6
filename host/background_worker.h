// BackgroundWorker: the thread of a component that works in the background, with the wake-up and
// the stop every such component needs (EventNumberer, EventLogFollower, EventRelay,
// StorageProbe, LivenessMonitor, EventSequencer). The component keeps its own state and its own
// reasons to wake; it guards that state with mutex(), so that one lock covers both, and its loop
// waits through waitFor() or waitUntil(), which also return as soon as stop() is called.
//
// The thread carries a name ("bb-numberer"), so that top -H, gdb and perf tell the threads apart.
//
// Thread-safety: wake(), mutex() and, under the mutex, stopping() from any thread; start() and
// stop() from one thread at a time, never from the loop.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace busbar::host {

class BackgroundWorker {
 public:
  using Clock = std::chrono::steady_clock;

  BackgroundWorker() = default;
  // Stops. The owner stops it first in its own destructor, while what the loop uses still exists.
  ~BackgroundWorker();
  BackgroundWorker(const BackgroundWorker&) = delete;
  BackgroundWorker& operator=(const BackgroundWorker&) = delete;

  // Runs `loop` on a new thread named `name` (cut to the 15 characters Linux keeps). Does nothing
  // while running. `loop` returns once stopping() is true, and may first finish its work.
  void start(const std::string& name, std::function<void()> loop);

  // Makes stopping() true, wakes the loop and waits for it to return. Idempotent; returns at
  // once when never started.
  void stop() noexcept;

  // Whether start() ran and stop() has not since.
  bool running() const { return thread_.joinable(); }

  // Wakes the loop's wait, so that it checks its predicate again. Call it after changing, under
  // mutex(), what the predicate reads.
  void wake() { wake_.notify_all(); }

  // Guards stopping() and the owner's state that the loop's predicates read.
  std::mutex& mutex() const { return mutex_; }

  // True from stop() until the next start(). Requires mutex().
  bool stopping() const { return stopping_; }

  // Waits, `lock` holding mutex(), until `ready()` or stopping() is true, or `timeout` has passed.
  // Returns false when the time ran out with neither true.
  template <class Ready>
  bool waitFor(std::unique_lock<std::mutex>& lock, Clock::duration timeout, Ready ready) {
    return wake_.wait_for(lock, timeout, [this, &ready] { return stopping_ || ready(); });
  }
  // Waits, `lock` holding mutex(), until stopping() is true or `timeout` has passed.
  bool waitFor(std::unique_lock<std::mutex>& lock, Clock::duration timeout) {
    return waitFor(lock, timeout, [] { return false; });
  }

  // As waitFor(), until `deadline`; Clock::time_point::max() waits with no deadline.
  template <class Ready>
  bool waitUntil(std::unique_lock<std::mutex>& lock, Clock::time_point deadline, Ready ready) {
    auto woken = [this, &ready] { return stopping_ || ready(); };
    if (deadline == Clock::time_point::max()) {
      // A deadline this far overflows the clock arithmetic of some standard libraries' waits.
      wake_.wait(lock, woken);
      return true;
    }
    return wake_.wait_until(lock, deadline, woken);
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace busbar::host
