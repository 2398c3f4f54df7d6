// StopProgress: the step a stopping process is in, so that a stop that passes its deadline can
// say what it waited for (a handler stuck on the database, a plugin's stop) instead of only that
// it was stuck.
//
// Thread-safety: every method from any thread; the stopping thread calls enter(), the deadline's
// thread reads current().
#pragma once

#include <mutex>
#include <string>

namespace busbar::host {

class StopProgress {
 public:
  // From now on the stop waits for `step` (said as the object of "waits for").
  void enter(std::string step) {
    std::lock_guard<std::mutex> lock(mutex_);
    step_ = std::move(step);
  }

  // The step entered last; "nothing yet" before the stop began.
  std::string current() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return step_;
  }

 private:
  mutable std::mutex mutex_;
  std::string step_ = "nothing yet";
};

}  // namespace busbar::host
